"""Fuzzing: schemathesis over every operation of /schema/openapi.json, anonymously and as a provider admin.

For each operation: schemathesis' boundary cases (each length limit, enum member, missing member, wrong type),
then random valid and invalid requests, and valid ones on a real organisation, assessment and catalog. Every
response must be no 5xx, with a status code, content type and body that the OpenAPI document declares for
that operation. Hypothesis runs derandomized, so each run sends the same cases; PORTAL_FUZZ_EXAMPLES (default
5 random cases per operation, generation mode and caller) sets the budget: raise it to search harder.

Schemathesis is synchronous (requests) while the app and its database pool live on the suite's event loop:
generation runs on a worker thread, and each request is handed back to the loop through httpx's ASGI
transport. Below the fuzz test are the regression tests for what it found.
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Coroutine
from typing import Any

import httpx
import hypothesis
import pytest
import requests
import requests.adapters
import schemathesis
import urllib3
from hypothesis import strategies as st
from litestar import Litestar
from litestar.exceptions import ImproperlyConfiguredException
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import NO_FEEDBACK
from schemathesis.generation.overrides import Override

import controls
from portal.db.tables import AuditEvent
from tests.conftest import PASSWORD, register, registration

EXAMPLES = int(os.environ.get("PORTAL_FUZZ_EXAMPLES", "5"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]
BASE_URL = "http://testserver"
BASELINE = controls.baseline_catalog()

pytestmark = pytest.mark.usefixtures("baseline")


class LoopAdapter(requests.adapters.HTTPAdapter):
    """A requests adapter that sends each prepared request to the ASGI app on the suite's event loop."""

    def __init__(self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.client = client
        self.loop = loop

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        body = request.body.encode() if isinstance(request.body, str) else (request.body or b"")
        answered = self._on_loop(self._send(request.method or "GET", str(request.url), dict(request.headers), body))
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(answered.content),
            headers=list(answered.headers.multi_items()),
            status=answered.status_code,
            reason=answered.reason_phrase,
            version=11,
            preload_content=False,
            request_method=request.method,
        )
        return self.build_response(request, raw)

    def _on_loop(self, coroutine: Coroutine[Any, Any, httpx.Response]) -> httpx.Response:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    async def _send(self, method: str, url: str, headers: dict[str, str], body: bytes) -> httpx.Response:
        self.client.cookies.clear()  # requests keeps the session's cookies; this client keeps none
        return await self.client.request(method, url, headers=headers, content=body)


def coverage_cases(operation: Any, fixed: dict[str, Any]) -> list[Any]:
    """Schemathesis' coverage phase: boundary values (lengths at and past each limit, every enum member, each
    required member left out, wrong types), deterministic. Its generator is not public API; the lock pins it."""
    generator = CoverageGenerator(
        operation=operation,
        generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        generation_config=operation.schema.config.generation_for(operation=operation, phase="coverage"),
        auth_storage=None,
        override=Override(path_parameters=fixed),
        feedback=NO_FEEDBACK,
    )
    return list(generator)


def fuzz_operation(operation: Any, session: requests.Session, headers: dict[str, str], known: dict[str, Any]) -> None:
    """Boundary cases, then random valid and invalid ones; with ``known`` path values, also on real objects."""
    fixed = {
        parameter.name: known[parameter.name] for parameter in operation.path_parameters if parameter.name in known
    }

    def send(case: Any) -> None:
        session.cookies.clear()  # a login the fuzzer happens to make must not authenticate the cases after it
        case.call_and_validate(session=session, headers=headers, checks=CHECKS, base_url=BASE_URL)

    for case in coverage_cases(operation, fixed):
        send(case)
    strategies = [operation.as_strategy(GenerationMode.POSITIVE)]
    if fixed:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed))
    if list(operation.path_parameters) or list(operation.query) or operation.body:
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))

    @hypothesis.settings(
        max_examples=EXAMPLES * len(strategies),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        print_blob=False,
    )
    @hypothesis.given(case=st.one_of(strategies))
    def run(case: Any) -> None:
        send(case)

    run()


def fuzz(schema: Any, session: requests.Session, headers: dict[str, str], known: dict[str, Any]) -> list[str]:
    """Every operation in turn; one report (hypothesis' smallest failing case) per failing operation."""
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    # Withdrawing ends the assessment the others work on, and logging out the session: they go last.
    operations.sort(key=lambda operation: (operation.path.endswith("/logout"), operation.path.endswith("/withdraw")))
    for operation in operations:
        try:
            fuzz_operation(operation, session, headers, known)
        except (Exception, FailureGroup) as exc:  # FailureGroup is a BaseExceptionGroup
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    return failures


async def fuzz_in_thread(app: Litestar, schema: Any, headers: dict[str, str], known: dict[str, Any]) -> list[str]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        session = requests.Session()
        session.mount("http://", LoopAdapter(client, asyncio.get_running_loop()))
        return await asyncio.to_thread(fuzz, schema, session, headers, known)


async def test_every_operation_answers_as_documented(app, actors, anon) -> None:
    schema = schemathesis.openapi.from_dict((await anon.get("/schema/openapi.json")).json())
    client, admin = await actors.provider()
    login = await anon.post("/api/v1/auth/login", json={"email": admin["email"], "password": PASSWORD})
    assessment = await client.post(
        "/api/v1/assessments",
        json={"catalog_id": BASELINE.id, "catalog_version": BASELINE.version, "scope": {"summary": "Fuzzed"}},
    )
    assert assessment.status_code == 201, assessment.text
    known = {
        "organisation_id": admin["organisation_id"],
        "assessment_id": assessment.json()["id"],
        "control_id": assessment.json()["controls"][0]["control_id"],
        "catalog_id": BASELINE.id,
        "version": BASELINE.version,
    }

    anonymous = await fuzz_in_thread(app, schema, {}, known)
    bearer = {"Authorization": f"Bearer {login.json()['token']}"}
    as_admin = await fuzz_in_thread(app, schema, bearer, known)

    failures = [f"anonymous: {f}" for f in anonymous] + [f"provider admin: {f}" for f in as_admin]
    assert not failures, "\n\n".join(failures)


# --- what the fuzzer found --------------------------------------------------------------------------------


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    return body


async def test_a_nul_character_in_a_body_is_a_400_problem(actors) -> None:
    # PostgreSQL cannot store U+0000: inviting "a\u0000@…" answered 500 there.
    client, admin = await actors.provider()
    members = f"/api/v1/organisations/{admin['organisation_id']}/members"
    invite = {"email": "new\u0000@provider.example", "display_name": "New", "role": "provider_editor"}
    body = _problem(await client.post(members, json=invite), 400)
    assert [e["field"] for e in body["errors"]] == ["email"]  # the schema's pattern refuses it
    scope = {"summary": "Cloud", "services": ["IaaS", "Object\u0000storage"]}
    opened = {"catalog_id": BASELINE.id, "catalog_version": BASELINE.version, "scope": scope}
    body = _problem(await client.post("/api/v1/assessments", json=opened), 400)
    assert body["errors"][0]["field"] == "scope.services[1]"
    assert (await client.post(members, json={**invite, "email": "new@provider.example"})).status_code == 201


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/catalogs/ppa-baseline/1.0.0/diff?against=1.0%00",
        "/api/v1/catalogs/ppa%00baseline/1.0.0",
        "/api/v1/catalogs/ppa-baseline/1%00/diff?against=1.0.0",
    ],
)
async def test_a_nul_in_a_catalog_name_is_refused_before_the_database(anon, path) -> None:
    # A NUL in a catalog id, version or `against` reached PostgreSQL and answered 500; now no path or query
    # with a NUL gets past portal.security.nul.
    _problem(await anon.get(path), 400)


async def test_a_long_login_email_is_refused_and_audited(anon) -> None:
    # The audit column holds 100 characters: on PostgreSQL a 320-character email answered 500, unaudited.
    email = "a" * 300 + "@provider.example"
    body = _problem(await anon.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}), 401)
    assert body["type"] == "/problems/not-authenticated"
    failed = await AuditEvent.select(AuditEvent.object_id).where(AuditEvent.action == "auth.login").first()
    assert failed == {"object_id": email[:100]}


async def test_what_the_audit_trail_records_from_a_request_never_fails_it(actors) -> None:
    # A refusal records its route; what came from outside is cut to the column, never a failure.
    client, _ = await actors.provider()
    long_path = "/api/v1/catalogs/" + "a" * 150 + "/1.0.0/publish"
    _problem(await client.post(long_path), 403)
    denied = await AuditEvent.select(AuditEvent.object_id).where(AuditEvent.action == "permission.denied").first()
    assert denied == {"object_id": f"POST {long_path}"[:100]}


@pytest.mark.parametrize("path", ["/api/v1/assessments", "/api/v1/organisations", "/api/v1/evidence/" + "0" * 32])
async def test_options_on_a_guarded_route_answers_like_any_anonymous_request(anon, path) -> None:
    # The guards read the user, which authentication does not set for OPTIONS: every guarded route answered
    # 500, its body carrying Litestar's internal message.
    response = await anon.options(path)
    assert response.status_code == 401 and response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "log in to use this"


async def test_a_5xx_from_litestar_keeps_its_message_to_the_log(app, anon, monkeypatch) -> None:
    async def misconfigured(*args: Any) -> None:
        raise ImproperlyConfiguredException("'user' is not defined in scope, install an AuthMiddleware to set it")

    monkeypatch.setattr(app.state.runtime.catalogs, "list_catalogs", misconfigured)
    body = _problem(await anon.get("/api/v1/catalogs"), 500)
    assert (body["type"], body["title"]) == ("/problems/internal-error", "Internal error")
    assert "AuthMiddleware" not in body["detail"]


async def test_a_problem_keeps_its_own_status_member(actors) -> None:
    # A conflict carried the catalog's status as `status`, replacing the problem's HTTP status with a string.
    admin = await actors.regulator("regulator_admin")
    base = f"/api/v1/catalogs/{BASELINE.id}/{BASELINE.version}"
    assert (await admin.post(f"{base}/retire")).status_code == 200
    body = _problem(await admin.post(f"{base}/retire"), 409)
    assert body["catalog_status"] == "retired"
    client, _ = await actors.provider()
    opened = {"catalog_id": BASELINE.id, "catalog_version": BASELINE.version, "scope": {"summary": "Cloud"}}
    body = _problem(await client.post("/api/v1/assessments", json=opened), 409)
    assert (body["catalog_status"], body["version"]) == ("retired", BASELINE.version)


async def test_the_openapi_document_says_what_the_api_answers(anon) -> None:
    document = (await anon.get("/schema/openapi.json")).json()
    operations = {
        f"{method.upper()} {path}": operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "delete"}
    }
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for name, operation in operations.items():
        errors = {status: response for status, response in operation["responses"].items() if status >= "400"}
        assert "401" in errors, name  # any request may carry a malformed or unknown token
        assert all(response["content"] == problem for response in errors.values()), name
    statuses = {name: sorted(operation["responses"]) for name, operation in operations.items()}
    assert statuses["POST /api/v1/auth/login"] == ["200", "400", "401", "403", "413", "415", "429"]
    assert statuses["PUT /api/v1/assessments/{assessment_id}/answers/{control_id}"] == [
        "200", "400", "401", "403", "404", "409", "413", "422", "428",
    ]  # fmt: skip
    assert statuses["GET /api/v1/me"] == ["200", "401"]
    assert "content" not in operations["POST /api/v1/auth/logout"]["responses"]["204"]  # no body, no media type
    upload = operations["POST /api/v1/assessments/{assessment_id}/evidence"]
    assert upload["requestBody"]["content"]["multipart/form-data"]["schema"]["required"] == ["file"]
    assert sorted(upload["responses"])[:2] == ["200", "201"]  # the same bytes again: the existing record
    detail = operations["GET /api/v1/catalogs/{catalog_id}/{version}"]["responses"]["200"]["content"]
    documents = detail["application/json"]["schema"]["anyOf"]  # ?format= picks one; a portal view fits two
    assert [member["$ref"].rsplit("/", 1)[1] for member in documents] == ["CatalogOut", "Catalog", "OscalDocument"]
    schemas = document["components"]["schemas"]
    assert schemas["Login"]["additionalProperties"] is False  # request bodies refuse unknown members
    assert "additionalProperties" not in schemas["UserOut"]
    assert schemas["Problem"]["required"] == ["detail", "instance", "status", "title", "type"]


async def test_an_assessment_named_after_a_long_organisation_name_fits(anon, actors) -> None:
    # Found beside the fuzzer: the default title "<catalog> — <organisation>" overflowed its 200 characters
    # on PostgreSQL (500) for an organisation name of the allowed 200 characters.
    body = registration(organisation__name="N" * 200)
    registered = await register(anon, actors.app.state.runtime.settings, body)
    admin = await actors.regulator("regulator_admin")
    assert (await admin.post(f"/api/v1/organisations/{registered['organisation_id']}/verify")).status_code == 200
    client = await actors.login(body["user"]["email"])
    opened = {"catalog_id": BASELINE.id, "catalog_version": BASELINE.version, "scope": {"summary": "Cloud"}}
    response = await client.post("/api/v1/assessments", json=opened)
    assert response.status_code == 201, response.text
    title = response.json()["title"]
    assert len(title) == 200 and title == f"{BASELINE.title} — {'N' * 200}"[:199] + "…"
