"""Regressions from the security review: each test failed before its fix."""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from urllib.parse import urlencode

import httpx
import pyotp
import pytest

from portal.db.tables import Answer, Assessment, AuditEvent, Evidence, LoginStep, UserSession
from tests.api.test_assessments import TELECOM, answer_all, implemented, open_assessment
from tests.conftest import PASSWORD, register, registration

pytestmark = pytest.mark.usefixtures("baseline")


def _csrf(page: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)


async def test_the_totp_page_is_throttled_like_the_api(actors, anon) -> None:
    reviewer = await actors.create_user("reviewer")
    page = await anon.get("/login")
    step = await anon.post(
        "/login", data={"email": reviewer["email"], "password": PASSWORD, "_csrf_token": _csrf(page.text)}
    )
    secret = actors.totp_secrets[reviewer["email"]]
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    statuses = [
        (await anon.post("/login/totp", data={"totp": wrong, "_csrf_token": _csrf(step.text)})).status_code
        for _ in range(5)
    ]
    assert statuses == [401, 401, 401, 401, 401]
    # Five wrong codes use the step up, and the account is throttled: the password is needed again, and waits.
    right = await anon.post("/login/totp", data={"totp": pyotp.TOTP(secret).now(), "_csrf_token": _csrf(step.text)})
    assert right.status_code == 401 and "enter your password again" in right.text
    assert await UserSession.count() == 0
    again = await anon.post(
        "/login", data={"email": reviewer["email"], "password": PASSWORD, "_csrf_token": _csrf(step.text)}
    )
    assert again.status_code == 429 and await UserSession.count() == 0


async def test_a_used_login_step_cannot_be_replayed(actors, anon, client_factory) -> None:
    reviewer = await actors.create_user("reviewer")
    secret = actors.totp_secrets[reviewer["email"]]
    page = await anon.get("/login")
    step = await anon.post(
        "/login", data={"email": reviewer["email"], "password": PASSWORD, "_csrf_token": _csrf(page.text)}
    )
    step_id = anon.cookies["portal_mfa"]
    # The browser holds a random id only: no email, no claims; the server keeps its hash.
    assert reviewer["email"] not in step_id and "." not in step_id and len(step_id) == 43
    assert await LoginStep.select(LoginStep.id).output(as_list=True) == [hashlib.sha256(step_id.encode()).hexdigest()]
    done = await anon.post("/login/totp", data={"totp": pyotp.TOTP(secret).now(), "_csrf_token": _csrf(step.text)})
    assert done.status_code == 303 and await UserSession.count() == 1
    # Someone who copied the step cookie comes back with a fresh code (the next time step's): refused.
    thief = client_factory()
    form = await thief.get("/login")
    thief.cookies.set("portal_mfa", step_id, domain="testserver.local", path="/login")
    fresh = pyotp.TOTP(secret).at(time.time() + 30)
    replay = await thief.post("/login/totp", data={"totp": fresh, "_csrf_token": _csrf(form.text)})
    assert replay.status_code == 401 and "enter your password again" in replay.text
    assert "portal_session" not in thief.cookies and await UserSession.count() == 1


async def test_an_api_token_cannot_invite_members(actors, anon) -> None:
    admin, me = await actors.provider()
    org = me["organisation_id"]
    token = (
        await admin.post(f"/api/v1/organisations/{org}/api-tokens", json={"name": "ci", "role": "provider_admin"})
    ).json()
    response = await anon.post(
        f"/api/v1/organisations/{org}/members",
        json={"email": "shadow@provider.example", "display_name": "Shadow", "role": "provider_admin"},
        headers={"Authorization": f"Bearer {token['token']}"},
    )
    assert response.status_code == 403 and "session" in response.json()["detail"]


async def test_an_answer_racing_a_submit_is_refused(runtime, actors, monkeypatch) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    await answer_all(client, assessment["id"])
    real = runtime.assessments.applicable

    async def submit_meanwhile(row):
        # The provider admin's submit lands between the answer's first check and its write.
        await Assessment.update({Assessment.state: "submitted"}).where(Assessment.id == assessment["id"])
        return await real(row)

    monkeypatch.setattr(runtime.assessments, "applicable", submit_meanwhile)
    late = await client.put(
        f"/api/v1/assessments/{assessment['id']}/answers/{TELECOM[0]}",
        json={"status": "not_implemented", "narrative": "changed"},
        headers={"If-Match": '"1"'},
    )
    assert late.status_code == 409
    assert (await Answer.select(Answer.status).where(Answer.control_id == TELECOM[0]).first())[
        "status"
    ] == "implemented"


async def test_an_upload_racing_a_submit_is_refused_and_leaves_no_file(app, actors, monkeypatch) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    real = app.state.runtime.evidence.store_upload

    async def submit_while_streaming(caller, row, filename, chunks):
        async def chunks_then_submit():
            async for chunk in chunks.chunks():  # the opened multipart body, parsed here
                yield chunk
            await Assessment.update({Assessment.state: "submitted"}).where(Assessment.id == assessment["id"])

        return await real(caller, row, filename, chunks_then_submit())

    monkeypatch.setattr(app.state.runtime.evidence, "store_upload", submit_while_streaming)
    late = await client.post(f"/api/v1/assessments/{assessment['id']}/evidence", files={"file": ("late.txt", b"late")})
    assert late.status_code == 409 and await Evidence.count() == 0
    root = app.state.runtime.evidence.store.root
    assert [p for p in root.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (
            "multipart/form-data; boundary=abc",
            b"--abc\r\n" + b"X-Long: " + b"a" * 5000 + b"\r\n\r\ndata\r\n--abc--\r\n",
        ),
        ("multipart/form-data; boundary=abc", b"--abc\r\nno colon here\r\n\r\ndata\r\n--abc--\r\n"),
        ("multipart/form-data; boundary=abc", b'--wrong\r\nContent-Disposition: form-data; name="file"\r\n\r\nx\r\n'),
        ("multipart/form-data; boundary=" + "b" * 300, b"--" + b"b" * 300 + b"\r\n"),
    ],
)
async def test_malformed_multipart_is_a_4xx_problem(actors, content_type, body) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    response = await client.post(
        f"/api/v1/assessments/{assessment['id']}/evidence", content=body, headers={"content-type": content_type}
    )
    assert response.status_code == 422 and response.json()["field"] == "file"
    assert await Evidence.count() == 0


@pytest.mark.parametrize(
    ("headers", "extra"),
    [
        ({"If-Match": '"²"'.encode("latin-1")}, {}),
        ({"If-Match": '"99999999999999999999999"'}, {}),
        ({}, {"version": 2**63}),
    ],
)
async def test_odd_versions_are_refused_not_crashed_on(actors, headers, extra) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    url = f"/api/v1/assessments/{assessment['id']}/answers/{TELECOM[0]}"
    assert (await client.put(url, json=implemented())).status_code == 200
    response = await client.put(url, json={**implemented("again"), **extra}, headers=headers)
    assert response.status_code in (400, 422) and response.json()["type"].endswith("/invalid-input")


async def test_deeply_nested_json_is_a_400(anon) -> None:
    response = await anon.post("/api/v1/auth/login", content=b"[" * 2000, headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["detail"] == "the body is nested too deeply"


async def test_login_and_registration_need_a_json_content_type(actors, anon) -> None:
    _, me = await actors.provider(verified=False)
    body = json.dumps({"email": me["email"], "password": PASSWORD})
    response = await anon.post("/api/v1/auth/login", content=body, headers={"content-type": "text/plain"})
    assert response.status_code == 415 and "portal_session" not in response.headers.get("set-cookie", "")
    assert (
        await anon.post("/api/v1/auth/register", content="{}", headers={"content-type": "text/plain"})
    ).status_code == 415


@pytest.mark.parametrize("header", ["", " ", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "token"])
async def test_an_empty_or_malformed_authorization_header_is_a_401(app, actors, header) -> None:
    client, me = await actors.provider()
    # The session cookie and no CSRF header, as a forged cross-site request would send: the Authorization
    # header must not make it pass for a script's request.
    browser = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    browser.cookies = client.cookies
    logout = await browser.post("/api/v1/auth/logout", headers={"Authorization": header})
    assert logout.status_code == 401 and logout.headers["content-type"] == "application/problem+json"
    assert logout.json()["type"] == "/problems/not-authenticated"
    assert (await browser.get("/api/v1/me", headers={"Authorization": header})).status_code == 401
    assert (await client.get("/api/v1/me")).json()["email"] == me["email"]  # the session is still open


def _concrete(path: str) -> str:
    values = {"uuid": str(uuid.uuid4()), "int": "1"}
    return re.sub(r"\{[^}:]+:(\w+)\}", lambda m: values.get(m.group(1), "x"), path)


async def test_options_answers_like_any_anonymous_request(app, anon) -> None:
    paths = sorted({route.path for route in app.routes if "OPTIONS" in getattr(route, "methods", ())})
    answers = {path: await anon.options(_concrete(path)) for path in paths}
    assert {response.status_code for response in answers.values()} == {204, 401}
    guarded = answers["/api/v1/organisations/{organisation_id:uuid}/members"]
    assert guarded.status_code == 401 and guarded.headers["content-type"] == "application/problem+json"
    assert guarded.json()["detail"] == "log in to use this" and "scope" not in guarded.text
    assert answers["/api/v1/organisations"].status_code == 401
    assert answers["/api/v1/auth/login"].status_code == 204


async def test_a_repeated_form_field_is_an_answer_not_a_500(actors, anon) -> None:
    _, user = await actors.provider()
    form = await anon.get("/login")
    fields = [("email", user["email"]), ("password", PASSWORD), ("_csrf_token", _csrf(form.text))]
    twice = await anon.post(
        "/login",
        content=urlencode([*fields, ("next", "/assessments"), ("next", "//evil.example")]),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert twice.status_code == 303 and twice.headers["location"] == "/"


async def test_login_and_invitation_answers_are_never_stored(actors, anon, client_factory) -> None:
    admin, me = await actors.provider()
    api = await anon.post("/api/v1/auth/login", json={"email": me["email"], "password": PASSWORD})
    assert api.status_code == 200 and api.headers["cache-control"] == "no-store"
    browser = client_factory()
    form = await browser.get("/login")
    page = await browser.post(
        "/login", data={"email": me["email"], "password": PASSWORD, "_csrf_token": _csrf(form.text)}
    )
    assert page.status_code == 303 and page.headers["cache-control"] == "no-store"
    reviewer = await actors.create_user("reviewer")
    step = await browser.post(
        "/login", data={"email": reviewer["email"], "password": PASSWORD, "_csrf_token": _csrf(form.text)}
    )
    assert step.status_code == 200 and step.headers["cache-control"] == "no-store"
    code = pyotp.TOTP(actors.totp_secrets[reviewer["email"]]).now()
    done = await browser.post("/login/totp", data={"totp": code, "_csrf_token": _csrf(step.text)})
    assert done.status_code == 303 and done.headers["cache-control"] == "no-store"

    org = me["organisation_id"]
    secrets = [await actors.invite(admin, org, email) for email in ("one@provider.example", "two@provider.example")]
    secret = secrets[0]
    accepted = await client_factory().post(
        "/api/v1/invitations/accept", json={"invitation": secret, "password": PASSWORD}
    )
    assert accepted.status_code == 200 and accepted.headers["cache-control"] == "no-store"
    invitation = client_factory()
    shown = await invitation.get("/invitations")
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    joined = await invitation.post(
        "/invitations",
        data={"invitation": secrets[1], "password": PASSWORD, "_csrf_token": _csrf(shown.text)},
    )
    assert joined.status_code == 200 and joined.headers["cache-control"] == "no-store"


async def test_long_and_nul_inputs_are_4xx_and_the_trail_keeps_what_fits(app, actors, anon) -> None:
    long_email = "x" * 138 + "@example.org"  # 150 characters: the audit's object_id column holds 100
    assert len(long_email) == 150
    failed = await anon.post("/api/v1/auth/login", json={"email": long_email, "password": "not the password"})
    assert failed.status_code == 401
    row = await AuditEvent.select(AuditEvent.object_id).where(AuditEvent.action == "auth.login").first()
    assert row["object_id"] == long_email[:100]

    nul = await anon.post("/api/v1/auth/login", json={"email": "a\x00@example.org", "password": "not the password"})
    assert nul.status_code == 400 and nul.json()["errors"][0]["field"] == "email"
    page = await anon.get("/login")
    nul_page = await anon.post(
        "/login", data={"email": "a\x00@example.org", "password": "not the password", "_csrf_token": _csrf(page.text)}
    )
    assert nul_page.status_code == 422

    far = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("f" * 100, 4000)), base_url="http://testserver"
    )
    assert (
        await far.post("/api/v1/auth/login", json={"email": "far@example.org", "password": "wrong"})
    ).status_code == 401
    row = await AuditEvent.select(AuditEvent.client).where(AuditEvent.object_id == "far@example.org").first()
    assert row["client"] == "f" * 64

    client, me = await actors.provider()
    assessment = await open_assessment(client)
    answer = await client.put(
        f"/api/v1/assessments/{assessment['id']}/answers/{TELECOM[0]}",
        json={"status": "implemented", "narrative": "Done\x00 and documented.", "evidence_ids": []},
    )
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "narrative"
    token = await client.post(f"/api/v1/organisations/{me['organisation_id']}/api-tokens", json={"name": "c\x00i"})
    assert token.status_code == 400
    registration_nul = registration(organisation__legal_name="Provider\x00 Ltd")
    assert (await anon.post("/api/v1/auth/register", json=registration_nul)).status_code == 400
    assert (await anon.get("/api/v1/catalogs/ppa-baseline%00/1.0.0")).status_code == 400
    assert (await anon.get("/catalogs?q=%00")).status_code == 400
    assert (await AuditEvent.count().where(AuditEvent.outcome == "failure")) == 2


async def test_a_long_organisation_name_gives_a_default_title_that_fits(actors, anon) -> None:
    body = registration(organisation__name="N" * 200)
    user = await register(anon, actors.app.state.runtime.settings, body)
    admin = await actors.regulator("regulator_admin")
    assert (await admin.post(f"/api/v1/organisations/{user['organisation_id']}/verify")).status_code == 200
    client = await actors.login(body["user"]["email"])
    assessment = await open_assessment(client)
    assert len(assessment["title"]) == 200 and assessment["title"].endswith("N" * 10 + "…")
