"""Every route, by role. A new route without an entry here fails, so access is decided on purpose."""

from __future__ import annotations

import uuid

import pytest

PUBLIC = "public"
LOGIN = "login"  # any logged-in user; the service decides per object (tested in each area's tests)
REGULATORS = frozenset({"reviewer", "signing_officer", "regulator_admin"})

EXPECTED: dict[tuple[str, str], object] = {
    ("GET", "/"): PUBLIC,
    ("GET", "/.well-known/security.txt"): PUBLIC,
    ("GET", "/.well-known/jwks.json"): PUBLIC,
    ("GET", "/api/v1/keys"): LOGIN,
    ("GET", "/api/v1/status-lists/{list_id:int}"): PUBLIC,
    ("POST", "/api/v1/assessments/{assessment_id:uuid}/decide"): LOGIN,
    ("GET", "/api/v1/attestations"): LOGIN,
    ("GET", "/api/v1/attestations/{serial:str}"): PUBLIC,
    ("GET", "/api/v1/attestations/{serial:str}/status"): PUBLIC,
    ("GET", "/api/v1/attestations/{serial:str}/certificate.pdf"): PUBLIC,
    ("POST", "/api/v1/attestations/{serial:str}/suspend"): LOGIN,
    ("POST", "/api/v1/attestations/{serial:str}/reinstate"): LOGIN,
    ("POST", "/api/v1/attestations/{serial:str}/revoke"): LOGIN,
    ("POST", "/api/v1/attestations/{serial:str}/conditions/{number:int}/met"): LOGIN,
    ("GET", "/decisions"): LOGIN,
    ("GET", "/decisions/{assessment_id:uuid}"): LOGIN,
    ("POST", "/decisions/{assessment_id:uuid}"): LOGIN,
    ("GET", "/attestations"): LOGIN,
    ("GET", "/attestations/{serial:str}"): PUBLIC,
    ("GET", "/attestations/{serial:str}/{action:str}"): PUBLIC,
    ("POST", "/attestations/{serial:str}/{action:str}"): LOGIN,
    ("POST", "/api/v1/keys/rotate"): LOGIN,
    ("GET", "/api/v1/registry"): PUBLIC,
    ("GET", "/api/v1/registry/export"): PUBLIC,
    ("GET", "/api/v1/registry/changes"): PUBLIC,
    ("GET", "/api/v1/registry/statistics"): PUBLIC,
    ("GET", "/registry"): PUBLIC,
    ("GET", "/registry/statistics"): PUBLIC,
    ("GET", "/registry/feed.atom"): PUBLIC,
    ("GET", "/log/checkpoint"): PUBLIC,
    ("GET", "/log/tile/{tile_path:path}"): PUBLIC,
    ("GET", "/api/v1/log/checkpoint"): PUBLIC,
    ("GET", "/api/v1/log/entries"): PUBLIC,
    ("GET", "/api/v1/log/consistency"): PUBLIC,
    ("GET", "/api/v1/log/proof/{serial:str}"): PUBLIC,
    ("POST", "/api/v1/verify"): PUBLIC,
    ("GET", "/verify"): PUBLIC,
    ("POST", "/verify"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/static/{file_path:path}"): PUBLIC,
    ("GET", "/static/swagger-ui/{file_path:path}"): PUBLIC,
    ("GET", "/favicon.ico"): PUBLIC,
    ("GET", "/security"): PUBLIC,
    ("GET", "/schema"): PUBLIC,
    ("GET", "/schema/swagger"): PUBLIC,
    ("GET", "/schema/openapi.json"): PUBLIC,
    ("GET", "/schema/{path:str}"): PUBLIC,
    ("POST", "/api/v1/auth/register"): PUBLIC,
    ("POST", "/api/v1/auth/register/confirm"): PUBLIC,
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): LOGIN,
    ("GET", "/api/v1/me"): LOGIN,
    ("POST", "/api/v1/auth/totp-enrolment"): PUBLIC,
    ("POST", "/api/v1/invitations/accept"): PUBLIC,
    ("POST", "/api/v1/invitations/{secret:str}/accept"): PUBLIC,
    ("GET", "/api/v1/organisations"): LOGIN,
    ("GET", "/api/v1/organisations/{organisation_id:uuid}"): LOGIN,
    ("POST", "/api/v1/organisations/{organisation_id:uuid}/verify"): LOGIN,
    ("PATCH", "/api/v1/organisations/{organisation_id:uuid}"): LOGIN,
    ("POST", "/api/v1/organisations/{organisation_id:uuid}/reject"): LOGIN,
    ("GET", "/api/v1/organisations/{organisation_id:uuid}/members"): LOGIN,
    ("POST", "/api/v1/organisations/{organisation_id:uuid}/members"): LOGIN,
    ("POST", "/api/v1/organisations/{organisation_id:uuid}/members/{user_id:uuid}/deactivate"): LOGIN,
    ("POST", "/api/v1/organisations/{organisation_id:uuid}/members/{user_id:uuid}/reactivate"): LOGIN,
    ("POST", "/api/v1/organisations/{organisation_id:uuid}/members/{user_id:uuid}/role"): LOGIN,
    ("POST", "/api/v1/organisations/{organisation_id:uuid}/members/{user_id:uuid}/reset-totp"): LOGIN,
    ("GET", "/api/v1/organisations/{organisation_id:uuid}/invitations"): LOGIN,
    ("POST", "/api/v1/organisations/{organisation_id:uuid}/invitations/{invitation_id:uuid}/cancel"): LOGIN,
    ("GET", "/api/v1/organisations/{organisation_id:uuid}/api-tokens"): LOGIN,
    ("POST", "/api/v1/organisations/{organisation_id:uuid}/api-tokens"): LOGIN,
    ("POST", "/api/v1/organisations/{organisation_id:uuid}/api-tokens/{token_id:uuid}/revoke"): LOGIN,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/login/totp"): PUBLIC,
    ("POST", "/login/enrol"): PUBLIC,
    ("GET", "/login/totp"): PUBLIC,
    ("GET", "/login/enrol"): PUBLIC,
    ("POST", "/logout"): LOGIN,
    ("GET", "/register"): PUBLIC,
    ("POST", "/register"): PUBLIC,
    ("GET", "/register/confirm"): PUBLIC,
    ("POST", "/register/confirm"): PUBLIC,
    ("GET", "/invitations"): PUBLIC,
    ("POST", "/invitations"): PUBLIC,
    ("GET", "/organisation"): LOGIN,
    ("POST", "/organisation"): LOGIN,
    ("GET", "/organisation/members/{user_id:uuid}/{action:str}"): LOGIN,
    ("POST", "/organisation/members/{user_id:uuid}/{action:str}"): LOGIN,
    ("POST", "/organisation/api-tokens/{token_id:uuid}/revoke"): LOGIN,
    ("GET", "/organisation/invitations/{invitation_id:uuid}/cancel"): LOGIN,
    ("POST", "/organisation/invitations/{invitation_id:uuid}/cancel"): LOGIN,
    ("GET", "/regulator/organisations"): REGULATORS,
    ("GET", "/regulator/organisations/{organisation_id:uuid}/{decision:str}"): REGULATORS,
    ("POST", "/regulator/organisations/{organisation_id:uuid}/{decision:str}"): REGULATORS,
    ("POST", "/regulator/organisations/{organisation_id:uuid}/name-ar"): REGULATORS,
    ("GET", "/api/v1/catalogs"): PUBLIC,
    ("GET", "/api/v1/catalogs/{catalog_id:str}/{version:str}"): PUBLIC,
    ("GET", "/api/v1/catalogs/{catalog_id:str}/{version:str}/diff"): PUBLIC,
    ("POST", "/api/v1/catalogs"): LOGIN,
    ("POST", "/api/v1/catalogs/{catalog_id:str}/{version:str}/publish"): LOGIN,
    ("POST", "/api/v1/catalogs/{catalog_id:str}/{version:str}/retire"): LOGIN,
    ("GET", "/catalogs"): PUBLIC,
    ("GET", "/catalogs/import"): LOGIN,
    ("POST", "/catalogs/import"): LOGIN,
    ("GET", "/catalogs/{catalog_id:str}/{version:str}"): PUBLIC,
    ("GET", "/catalogs/{catalog_id:str}/{version:str}/diff"): PUBLIC,
    ("GET", "/catalogs/{catalog_id:str}/{version:str}/publish"): LOGIN,
    ("GET", "/catalogs/{catalog_id:str}/{version:str}/retire"): LOGIN,
    ("POST", "/catalogs/{catalog_id:str}/{version:str}/publish"): LOGIN,
    ("POST", "/catalogs/{catalog_id:str}/{version:str}/retire"): LOGIN,
    ("GET", "/api/v1/assessments"): LOGIN,
    ("POST", "/api/v1/assessments"): LOGIN,
    ("GET", "/api/v1/assessments/{assessment_id:uuid}"): LOGIN,
    ("PUT", "/api/v1/assessments/{assessment_id:uuid}/answers/{control_id:str}"): LOGIN,
    ("POST", "/api/v1/assessments/{assessment_id:uuid}/submit"): LOGIN,
    ("POST", "/api/v1/assessments/{assessment_id:uuid}/withdraw"): LOGIN,
    ("GET", "/api/v1/assessments/{assessment_id:uuid}/revisions/{number:int}"): LOGIN,
    ("GET", "/api/v1/assessments/{assessment_id:uuid}/revisions/{number:int}/diff"): LOGIN,
    ("GET", "/api/v1/assessments/{assessment_id:uuid}/evidence"): LOGIN,
    ("POST", "/api/v1/assessments/{assessment_id:uuid}/evidence"): LOGIN,
    ("GET", "/api/v1/evidence/{evidence_id:uuid}"): LOGIN,
    ("DELETE", "/api/v1/evidence/{evidence_id:uuid}"): LOGIN,
    ("GET", "/assessments"): LOGIN,
    ("POST", "/assessments"): LOGIN,
    ("GET", "/assessments/{assessment_id:uuid}"): LOGIN,
    ("POST", "/assessments/{assessment_id:uuid}"): LOGIN,
    ("GET", "/assessments/{assessment_id:uuid}/submit"): LOGIN,
    ("POST", "/assessments/{assessment_id:uuid}/submit"): LOGIN,
    ("GET", "/assessments/{assessment_id:uuid}/withdraw"): LOGIN,
    ("POST", "/assessments/{assessment_id:uuid}/withdraw"): LOGIN,
    ("GET", "/assessments/{assessment_id:uuid}/evidence/{evidence_id:uuid}/delete"): LOGIN,
    ("POST", "/assessments/{assessment_id:uuid}/evidence/{evidence_id:uuid}/delete"): LOGIN,
    ("GET", "/assessments/{assessment_id:uuid}/revisions/{number:int}"): LOGIN,
    ("GET", "/api/v1/reviews/queue"): LOGIN,
    ("GET", "/api/v1/inbox"): LOGIN,
    ("GET", "/api/v1/assessments/{assessment_id:uuid}/review"): LOGIN,
    ("POST", "/api/v1/assessments/{assessment_id:uuid}/claim"): LOGIN,
    ("POST", "/api/v1/assessments/{assessment_id:uuid}/release"): LOGIN,
    ("POST", "/api/v1/assessments/{assessment_id:uuid}/assign"): LOGIN,
    ("GET", "/api/v1/assessments/{assessment_id:uuid}/findings"): LOGIN,
    ("PUT", "/api/v1/assessments/{assessment_id:uuid}/findings/{control_id:str}"): LOGIN,
    ("GET", "/api/v1/assessments/{assessment_id:uuid}/comments"): LOGIN,
    ("POST", "/api/v1/assessments/{assessment_id:uuid}/comments"): LOGIN,
    ("POST", "/api/v1/assessments/{assessment_id:uuid}/request-changes"): LOGIN,
    ("POST", "/api/v1/assessments/{assessment_id:uuid}/recommend"): LOGIN,
    ("GET", "/reviews"): REGULATORS,
    ("GET", "/reviews/{assessment_id:uuid}"): REGULATORS,
    ("GET", "/reviews/{assessment_id:uuid}/claim"): REGULATORS,
    ("GET", "/reviews/{assessment_id:uuid}/release"): REGULATORS,
    ("GET", "/reviews/{assessment_id:uuid}/assign"): REGULATORS,
    ("GET", "/reviews/{assessment_id:uuid}/findings/{control_id:str}"): REGULATORS,
    ("POST", "/reviews/{assessment_id:uuid}/claim"): REGULATORS,
    ("POST", "/reviews/{assessment_id:uuid}/release"): REGULATORS,
    ("POST", "/reviews/{assessment_id:uuid}/assign"): REGULATORS,
    ("POST", "/reviews/{assessment_id:uuid}/findings/{control_id:str}"): REGULATORS,
    ("GET", "/reviews/{assessment_id:uuid}/request-changes"): REGULATORS,
    ("POST", "/reviews/{assessment_id:uuid}/request-changes"): REGULATORS,
    ("GET", "/reviews/{assessment_id:uuid}/recommend"): REGULATORS,
    ("POST", "/reviews/{assessment_id:uuid}/recommend"): REGULATORS,
    ("GET", "/inbox"): LOGIN,
    ("GET", "/assessments/{assessment_id:uuid}/comments"): LOGIN,
    ("POST", "/assessments/{assessment_id:uuid}/comments"): LOGIN,
}


def _routes(app) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        for method in getattr(route, "methods", set()):
            if method not in {"OPTIONS", "HEAD"}:
                found.add((method, route.path))
    return found


def _concrete(path: str) -> str:
    for marker, value in (
        ("{organisation_id:uuid}", str(uuid.uuid4())),
        ("{token_id:uuid}", str(uuid.uuid4())),
        ("{invitation_id:uuid}", str(uuid.uuid4())),
        ("{user_id:uuid}", str(uuid.uuid4())),
        ("{action:str}", "deactivate"),
        ("{secret:str}", "not-a-secret"),
        ("{file_path:path}", "site.css"),
        ("{tile_path:path}", "0/000"),
        ("{serial:str}", "no-such-serial"),
        ("{path:str}", "openapi.yaml"),
        ("{assessment_id:uuid}", str(uuid.uuid4())),
        ("{evidence_id:uuid}", str(uuid.uuid4())),
        ("{number:int}", "1"),
        ("{control_id:str}", "GOV-01"),
        ("{catalog_id:str}", "ppa-baseline"),
        ("{version:str}", "1.1.0"),
    ):
        path = path.replace(marker, value)
    return path


async def test_every_route_has_an_expected_access(app) -> None:
    routes = _routes(app)
    assert sorted(routes - EXPECTED.keys()) == [], "new routes need an entry in EXPECTED"
    assert sorted(EXPECTED.keys() - routes) == [], "EXPECTED lists routes that no longer exist"


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
async def test_anonymous_access_matches_the_matrix(anon, method, path) -> None:
    await anon.prime_csrf()
    response = await anon.request(
        method, _concrete(path), json={} if method == "POST" else None, headers={"accept": "application/json"}
    )
    if EXPECTED[(method, path)] == PUBLIC:
        # Public routes may still refuse bad input (a wrong password is a 401 page), but never ask for a login.
        assert "/problems/not-authenticated" not in response.text
        assert not response.headers.get("location", "").startswith("/login")
    else:
        assert response.status_code == 401, response.text
        assert response.json()["type"].endswith("/not-authenticated")


ROLE_ROUTES = sorted(k for k, v in EXPECTED.items() if isinstance(v, frozenset))


@pytest.mark.parametrize(("method", "path"), ROLE_ROUTES)
async def test_roles_outside_the_matrix_are_refused(actors, method, path) -> None:
    allowed = EXPECTED[(method, path)]
    provider, me = await actors.provider()
    editor, _ = await actors.member(me["organisation_id"], "provider_editor")
    for role, client in (("provider_admin", provider), ("provider_editor", editor)):
        assert role not in allowed
        response = await client.request(method, _concrete(path), headers={"accept": "application/json"})
        assert response.status_code == 403, (role, response.text)
