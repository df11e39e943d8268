"""CSRF, security headers, allowed hosts, problem details, and the audit trail's integrity."""

from __future__ import annotations

import pytest

from portal.db.tables import AuditEvent, UserSession
from portal.domain.audit.services import verify_chain
from tests.conftest import PASSWORD


async def test_cookie_session_needs_the_csrf_header_on_the_api(actors) -> None:
    client, me = await actors.provider()
    org = me["organisation_id"]
    body = {"name": "ci"}
    ok = await client.post(f"/api/v1/organisations/{org}/api-tokens", json=body)
    assert ok.status_code == 201  # the test client sends X-CSRFToken like the page script does
    forged = await client.post(f"/api/v1/organisations/{org}/api-tokens", json=body, headers={"x-csrftoken": "nope"})
    assert forged.status_code == 403
    client.cookies.delete("portal_csrf")
    missing = await client.request("POST", f"/api/v1/organisations/{org}/api-tokens", json=body)
    assert missing.status_code == 403 and "CSRF" in missing.json()["detail"]


async def test_page_forms_need_the_csrf_token(actors, anon) -> None:
    _, me = await actors.provider(verified=False)
    page = await anon.get("/login")
    assert 'name="_csrf_token"' in page.text
    anon.cookies.delete("portal_csrf")
    forged = await anon.post("/login", data={"email": me["email"], "password": PASSWORD})
    assert forged.status_code == 403
    assert await UserSession.count() == 1  # only the actor's own login


@pytest.mark.parametrize("path", ["/", "/api/v1/me", "/no/such/page", "/api/v1/organisations/not-a-uuid"])
async def test_security_headers_on_every_response(anon, path) -> None:
    response = await anon.get(path)
    assert response.status_code in {200, 401, 404}
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "strict-transport-security" not in headers  # only in production


async def test_hsts_and_secure_cookies_in_production(tmp_path) -> None:
    import httpx

    from portal.app import create_app
    from portal.db import bind_tables
    from portal.db.tables import Organisation
    from portal.settings import load_settings

    engine = Organisation._meta.db
    settings = load_settings(
        {
            "PORTAL_ENV": "production",
            "PORTAL_SECRET_KEY": "p" * 40,
            "PORTAL_ISSUER": "https://portal.example",
            "PORTAL_DATA_DIR": str(tmp_path),
            "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
        }
    )
    app = create_app(settings)
    bind_tables(engine)  # keep the suite's database for the tests that follow
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://portal.example") as client:
        response = await client.get("/")
        assert response.status_code == 200
    assert response.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
    assert "secure" in response.headers["set-cookie"].lower()  # the CSRF cookie
    assert app.state.runtime.session_auth.secure is True


async def test_unknown_host_is_refused_and_the_served_address_is_accepted(anon) -> None:
    response = await anon.get("/", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert (await anon.get("/", headers={"host": "127.0.0.1:8000"})).status_code == 200


async def test_api_errors_are_problem_details_never_tracebacks(anon) -> None:
    response = await anon.get("/api/v1/no-such-route")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404 and "Traceback" not in response.text


async def test_audit_chain_detects_edits_and_deletions(actors) -> None:
    await actors.provider()
    await actors.provider()
    report = await verify_chain()
    assert report.ok and report.events >= 6
    rows = await AuditEvent.select(AuditEvent.seq).order_by(AuditEvent.seq)
    middle = rows[len(rows) // 2]["seq"]
    await AuditEvent.update({AuditEvent.client: "10.0.0.1"}).where(AuditEvent.seq == middle)
    edited = await verify_chain()
    assert not edited.ok and edited.problems == [f"event {middle}: contents do not match its hash (the row was edited)"]
    await AuditEvent.delete().where(AuditEvent.seq == middle)
    deleted = await verify_chain()
    assert not deleted.ok
    assert deleted.problems == [f"event {middle + 1}: does not follow event {middle - 1} (a row was deleted or moved)"]


async def test_no_secret_reaches_the_audit_trail(actors, anon, caplog) -> None:
    client, me = await actors.provider()
    token = (
        await client.post(f"/api/v1/organisations/{me['organisation_id']}/api-tokens", json={"name": "ci"})
    ).json()["token"]
    await anon.post("/api/v1/auth/login", json={"email": me["email"], "password": "a wrong password"})
    session_token = (await anon.post("/api/v1/auth/login", json={"email": me["email"], "password": PASSWORD})).json()[
        "token"
    ]
    reviewer = await actors.create_user("reviewer")
    await actors.login(reviewer["email"])
    seed = actors.totp_secrets[reviewer["email"]]
    rows = await AuditEvent.select().output(load_json=True)
    dump = repr(rows) + caplog.text
    for secret in (token, PASSWORD, "a wrong password", session_token, seed):
        assert secret not in dump
