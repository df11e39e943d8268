"""Account lifecycle through the API: deactivate, reactivate, change a role, reset a second factor — behaviour,
roles and isolation; and API tokens that never act above their creator's current role."""

from __future__ import annotations

import pyotp
import pytest

from portal.db.tables import ApiToken, AuditEvent, User, UserSession
from tests.conftest import PASSWORD

ORG = "/api/v1/organisations"


async def _token(admin, org: str, role: str = "provider_admin") -> dict[str, str]:
    created = await admin.post(f"{ORG}/{org}/api-tokens", json={"name": "ci", "role": role})
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['token']}"}


async def _events(action: str) -> list[dict]:
    return (
        await AuditEvent.select(AuditEvent.actor_label, AuditEvent.object_id, AuditEvent.before, AuditEvent.after)
        .where(AuditEvent.action == action)
        .output(load_json=True)
    )


async def test_deactivation_ends_sessions_and_tokens_at_once_and_is_audited(actors, anon) -> None:
    admin, me = await actors.provider()
    org = me["organisation_id"]
    second, other_admin = await actors.member(org, "provider_admin")
    bearer = await _token(second, org)
    assert (await anon.get("/api/v1/me", headers=bearer)).status_code == 200

    done = await admin.post(f"{ORG}/{org}/members/{other_admin['id']}/deactivate")
    assert done.status_code == 200, done.text
    assert (done.json()["state"], done.json()["is_active"], done.json()["role"]) == (
        "deactivated",
        False,
        "provider_admin",
    )
    assert (await second.get("/api/v1/me")).status_code == 401
    assert (await anon.get("/api/v1/me", headers=bearer)).status_code == 401
    assert (
        await UserSession.count().where((UserSession.user == other_admin["id"]) & UserSession.revoked_at.is_null()) == 0
    )
    assert await ApiToken.count().where(ApiToken.revoked_at.is_null()) == 0
    login = await anon.post("/api/v1/auth/login", json={"email": other_admin["email"], "password": PASSWORD})
    assert login.status_code == 401
    [event] = await _events("member.deactivated")
    assert event["actor_label"] == me["email"] and event["object_id"] == other_admin["id"]
    assert event["before"] == {"role": "provider_admin", "state": "active", "totp_enrolled": False}
    assert event["after"] == {
        "role": "provider_admin",
        "state": "deactivated",
        "totp_enrolled": False,
        "sessions_ended": 1,
        "api_tokens_revoked": 1,
    }

    again = await admin.post(f"{ORG}/{org}/members/{other_admin['id']}/deactivate")
    assert again.status_code == 409 and again.json()["detail"] == "the member is already deactivated"
    back = await admin.post(f"{ORG}/{org}/members/{other_admin['id']}/reactivate")
    assert back.status_code == 200 and back.json()["state"] == "active"
    assert (await anon.get("/api/v1/me", headers=bearer)).status_code == 401  # revoked tokens stay revoked
    relogin = await anon.post("/api/v1/auth/login", json={"email": other_admin["email"], "password": PASSWORD})
    assert relogin.status_code == 200
    twice = await admin.post(f"{ORG}/{org}/members/{other_admin['id']}/reactivate")
    assert twice.status_code == 409 and twice.json()["detail"] == "the member is not deactivated"
    [event] = await _events("member.reactivated")
    assert event["after"]["state"] == "active" and event["after"]["sessions_ended"] == 0


@pytest.mark.parametrize("action", ["deactivate", "reactivate", "role", "reset-totp"])
async def test_member_changes_by_role_and_organisation(actors, action) -> None:
    admin, me = await actors.provider()
    org = me["organisation_id"]
    editor, editor_user = await actors.member(org, "provider_editor")
    other_admin, other = await actors.provider()
    regulator_admin = await actors.regulator("regulator_admin")
    token = await _token(admin, org)
    target = editor_user["id"]
    body = {"role": "provider_admin"} if action == "role" else None
    url = f"{ORG}/{org}/members/{target}/{action}"
    for client, headers in ((editor, {}), (other_admin, {}), (regulator_admin, {}), (admin, token)):
        refused = await client.post(url, json=body, headers=headers)
        assert refused.status_code == 403, (action, refused.text)
    # Another organisation's member, named under your own organisation, does not exist there.
    foreign = await admin.post(f"{ORG}/{org}/members/{other['id']}/{action}", json=body)
    assert foreign.status_code == 404 and foreign.json()["detail"] == "no such member in this organisation"
    assert (await other_admin.get("/api/v1/me")).status_code == 200
    # The right role: a provider's admin; a second factor is only ever reset by the regulator admin.
    expected = {"deactivate": 200, "reactivate": 409, "role": 200, "reset-totp": 403}[action]
    assert (await admin.post(url, json=body)).status_code == expected
    denied = 5 if action == "reset-totp" else 4
    assert await AuditEvent.count().where(AuditEvent.action == "permission.denied") == denied


async def test_a_role_change_ends_access_and_stays_within_assignable_roles(actors, anon) -> None:
    admin, me = await actors.provider()
    org = me["organisation_id"]
    second, other_admin = await actors.member(org, "provider_admin")
    bearer = await _token(second, org)
    url = f"{ORG}/{org}/members/{other_admin['id']}/role"
    escalate = await admin.post(url, json={"role": "regulator_admin"})
    assert escalate.status_code == 403 and escalate.json()["detail"] == "you cannot give the role regulator_admin"
    assert (await admin.post(url, json={"role": "wizard"})).status_code == 400
    same = await admin.post(url, json={"role": "provider_admin"})
    assert same.status_code == 409 and same.json()["detail"] == "the member already has the role provider_admin"
    demoted = await admin.post(url, json={"role": "provider_editor"})
    assert demoted.status_code == 200 and demoted.json()["role"] == "provider_editor"
    assert (await second.get("/api/v1/me")).status_code == 401
    assert (await anon.get("/api/v1/me", headers=bearer)).status_code == 401
    [event] = await _events("member.role_changed")
    assert event["before"]["role"] == "provider_admin"
    assert (event["after"]["role"], event["after"]["sessions_ended"], event["after"]["api_tokens_revoked"]) == (
        "provider_editor",
        1,
        1,
    )


async def test_nobody_removes_the_last_active_admin(actors) -> None:
    admin, me = await actors.provider()
    org = me["organisation_id"]
    for action, body in (("deactivate", None), ("role", {"role": "provider_editor"})):
        refused = await admin.post(f"{ORG}/{org}/members/{me['id']}/{action}", json=body)
        assert refused.status_code == 409, refused.text
        assert (
            refused.json()["detail"] == "this is the organisation's last active admin; make another member admin first"
        )
    assert (await admin.get("/api/v1/me")).json()["role"] == "provider_admin"
    # A deactivated admin does not count: the only active one still cannot step down.
    _, dormant = await actors.member(org, "provider_admin")
    assert (await admin.post(f"{ORG}/{org}/members/{dormant['id']}/deactivate")).status_code == 200
    assert (await admin.post(f"{ORG}/{org}/members/{me['id']}/deactivate")).status_code == 409
    # With another active admin, an admin may step down, and their own session ends with it.
    second, _ = await actors.member(org, "provider_admin")
    stepped = await admin.post(f"{ORG}/{org}/members/{me['id']}/role", json={"role": "provider_editor"})
    assert stepped.status_code == 200 and stepped.json()["role"] == "provider_editor"
    assert (await admin.get("/api/v1/me")).status_code == 401
    assert (await second.get("/api/v1/me")).json()["role"] == "provider_admin"


async def test_regulator_admin_manages_the_regulator_team(actors) -> None:
    chief = await actors.regulator("regulator_admin")
    reviewer_user = await actors.create_user("reviewer")
    reviewer = await actors.login(reviewer_user["email"])
    org = reviewer_user["organisation_id"]
    promoted = await chief.post(f"{ORG}/{org}/members/{reviewer_user['id']}/role", json={"role": "signing_officer"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "signing_officer"
    assert (await reviewer.get("/api/v1/me")).status_code == 401
    provider_role = await chief.post(f"{ORG}/{org}/members/{reviewer_user['id']}/role", json={"role": "provider_admin"})
    assert provider_role.status_code == 403
    signer = await actors.regulator("signing_officer")
    assert (await signer.post(f"{ORG}/{org}/members/{reviewer_user['id']}/deactivate")).status_code == 403
    assert (await chief.post(f"{ORG}/{org}/members/{reviewer_user['id']}/deactivate")).status_code == 200


async def test_reset_second_factor_is_reenrolled_by_the_user_and_never_seen_by_the_admin(actors, anon) -> None:
    chief = await actors.regulator("regulator_admin")
    reviewer_user = await actors.create_user("reviewer")
    email, old_secret = reviewer_user["email"], actors.totp_secrets[reviewer_user["email"]]
    reviewer = await actors.login(email)
    url = f"{ORG}/{reviewer_user['organisation_id']}/members/{reviewer_user['id']}/reset-totp"

    reset = await chief.post(url)
    assert reset.status_code == 200
    assert reset.json()["totp_enrolled"] is False and reset.json()["state"] == "active"
    assert old_secret not in reset.text
    assert (await reviewer.get("/api/v1/me")).status_code == 401  # sessions end with the old factor
    assert (await chief.post(url)).status_code == 409  # nothing left to reset
    stored = await User.select(User.totp_secret, User.totp_last_step).where(User.email == email).first()
    assert stored == {"totp_secret": None, "totp_last_step": 0}

    login = {"email": email, "password": PASSWORD, "totp": pyotp.TOTP(old_secret).now()}
    offered = await anon.post("/api/v1/auth/login", json=login)
    assert offered.status_code == 401 and offered.headers["cache-control"] == "no-store"
    problem = offered.json()
    assert problem["type"] == "/problems/totp-enrolment-required"
    new_secret, enrolment = problem["totp_secret"], problem["enrolment"]
    assert new_secret != old_secret and len(new_secret) == 32
    assert problem["otpauth_uri"].startswith("otpauth://totp/") and f"secret={new_secret}" in problem["otpauth_uri"]
    assert "portal_session" not in anon.cookies  # no session until a code confirms the new factor

    wrong = "000000" if pyotp.TOTP(new_secret).now() != "000000" else "111111"
    bad = await anon.post("/api/v1/auth/totp-enrolment", json={"enrolment": enrolment, "totp": wrong})
    assert bad.status_code == 401 and bad.json()["field"] == "totp"
    code = pyotp.TOTP(new_secret).now()
    confirmed = await anon.post("/api/v1/auth/totp-enrolment", json={"enrolment": enrolment, "totp": code})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["user"]["totp_enrolled"] is True and confirmed.headers["cache-control"] == "no-store"
    assert "portal_session" in anon.cookies
    reused = await anon.post("/api/v1/auth/totp-enrolment", json={"enrolment": enrolment, "totp": code})
    assert reused.status_code == 401 and "expired or was used" in reused.json()["detail"]
    # The confirming code is used up; the next login needs the next code of the new seed.
    replay = await anon.post("/api/v1/auth/login", json={**login, "totp": code})
    assert replay.status_code == 401 and replay.json()["type"] == "/problems/not-authenticated"
    old = await anon.post("/api/v1/auth/login", json={**login, "totp": pyotp.TOTP(old_secret).now()})
    assert old.status_code == 401

    events = await AuditEvent.select(AuditEvent.action, AuditEvent.before, AuditEvent.after).output(load_json=True)
    assert all(new_secret not in str(e) and old_secret not in str(e) for e in events)
    reset_event = next(e for e in events if e["action"] == "member.second_factor_reset")
    assert reset_event["before"]["totp_enrolled"] is True and reset_event["after"]["totp_enrolled"] is False
    assert reset_event["after"]["sessions_ended"] == 1
    assert [e["after"] for e in events if e["action"] == "user.totp_enrolled"] == [{"totp_enrolled": True}]
    assert [e["action"] for e in events if e["action"] == "user.totp_enrolment_offered"] == [
        "user.totp_enrolment_offered"
    ]


async def test_an_enrolment_allows_five_attempts_then_the_password_again(actors, anon) -> None:
    chief = await actors.regulator("regulator_admin")
    user = await actors.create_user("signing_officer")
    await chief.post(f"{ORG}/{user['organisation_id']}/members/{user['id']}/reset-totp")
    offered = (await anon.post("/api/v1/auth/login", json={"email": user["email"], "password": PASSWORD})).json()
    secret, enrolment = offered["totp_secret"], offered["enrolment"]
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    for _ in range(5):
        r = await anon.post("/api/v1/auth/totp-enrolment", json={"enrolment": enrolment, "totp": wrong})
        assert r.status_code == 401 and r.json()["field"] == "totp"
    right = await anon.post(
        "/api/v1/auth/totp-enrolment", json={"enrolment": enrolment, "totp": pyotp.TOTP(secret).now()}
    )
    assert right.status_code == 401 and "field" not in right.json()
    # A new password login offers a new seed and replaces the old enrolment.
    fresh = (await anon.post("/api/v1/auth/login", json={"email": user["email"], "password": PASSWORD})).json()
    assert fresh["totp_secret"] != secret
    stale = await anon.post("/api/v1/auth/totp-enrolment", json={"enrolment": enrolment, "totp": wrong})
    assert stale.status_code == 401 and "field" not in stale.json()


async def test_who_may_reset_a_second_factor(actors) -> None:
    chief_user = await actors.create_user("regulator_admin")
    chief = await actors.login(chief_user["email"])
    reviewer_user = await actors.create_user("reviewer")
    reviewer = await actors.login(reviewer_user["email"])
    reg_org = reviewer_user["organisation_id"]
    admin, me = await actors.provider()
    own = await chief.post(f"{ORG}/{reg_org}/members/{chief_user['id']}/reset-totp")
    assert own.status_code == 403
    assert own.json()["detail"] == "you cannot reset your own second factor; ask another regulator admin"
    assert (await reviewer.post(f"{ORG}/{reg_org}/members/{chief_user['id']}/reset-totp")).status_code == 403
    assert (await admin.post(f"{ORG}/{reg_org}/members/{reviewer_user['id']}/reset-totp")).status_code == 403
    provider_member = await chief.post(f"{ORG}/{me['organisation_id']}/members/{me['id']}/reset-totp")
    assert provider_member.status_code == 403
    no_factor = await admin.post(f"{ORG}/{me['organisation_id']}/members/{me['id']}/reset-totp")
    assert no_factor.status_code == 403  # providers' admins reset nothing: providers have no second factor
    stored = await User.count().where(User.totp_secret.is_not_null())
    assert stored == 3  # the chief, the reviewer and the regulator admin who verified the provider: none reset


async def test_a_regulator_invitee_gets_no_seed_from_the_link_and_enrols_after_the_password(actors, anon) -> None:
    chief_user = await actors.create_user("regulator_admin")
    chief = await actors.login(chief_user["email"])
    secret = await actors.invite(
        chief, chief_user["organisation_id"], "new.reviewer@regulator.example", "reviewer", "New Reviewer"
    )
    accepted = await anon.post("/api/v1/invitations/accept", json={"invitation": secret, "password": PASSWORD})
    assert accepted.status_code == 200
    assert set(accepted.json()) == {"user", "totp_enrolment_required"}
    assert accepted.json()["totp_enrolment_required"] is True
    assert accepted.json()["user"]["totp_enrolled"] is False
    stored = await User.select(User.totp_secret).where(User.email == "new.reviewer@regulator.example").first()
    assert stored["totp_secret"] is None
    offered = await anon.post(
        "/api/v1/auth/login", json={"email": "new.reviewer@regulator.example", "password": PASSWORD}
    )
    assert offered.status_code == 401 and offered.json()["type"] == "/problems/totp-enrolment-required"
    body = {"enrolment": offered.json()["enrolment"], "totp": pyotp.TOTP(offered.json()["totp_secret"]).now()}
    done = await anon.post("/api/v1/auth/totp-enrolment", json=body)
    assert done.status_code == 200 and done.json()["user"]["role"] == "reviewer"


async def test_an_api_token_never_acts_above_its_creators_current_role(actors, anon) -> None:
    admin, me = await actors.provider()
    org = me["organisation_id"]
    bearer = await _token(admin, org, "provider_admin")
    assert (await anon.get("/api/v1/me", headers=bearer)).json()["role"] == "provider_admin"
    # Demoted outside the API (which would also revoke the token): the token acts as an editor at once.
    await User.update({User.role: "provider_editor"}).where(User.id == me["id"])
    as_editor = await anon.get("/api/v1/me", headers=bearer)
    assert as_editor.status_code == 200 and as_editor.json()["role"] == "provider_editor"
    invite = await anon.post(
        f"{ORG}/{org}/members",
        headers=bearer,
        json={"email": "x@p.example", "display_name": "X", "role": "provider_editor"},
    )
    assert invite.status_code == 403
    tokens = await anon.get(f"{ORG}/{org}/api-tokens", headers=bearer)
    assert tokens.status_code == 403  # an admin's right, which the demoted creator lacks
    # An editor token of an admin stays an editor token.
    await User.update({User.role: "provider_admin"}).where(User.id == me["id"])
    editor_token = await _token(admin, org, "provider_editor")
    assert (await anon.get("/api/v1/me", headers=editor_token)).json()["role"] == "provider_editor"
    # A deactivated creator's tokens stop working.
    await User.update({User.is_active: False}).where(User.id == me["id"])
    assert (await anon.get("/api/v1/me", headers=bearer)).status_code == 401
    assert (await anon.get("/api/v1/me", headers=editor_token)).status_code == 401


async def test_two_admins_removing_each_other_at_once_leave_one_admin(actors) -> None:
    import asyncio

    first, me = await actors.provider()
    org = me["organisation_id"]
    second, other = await actors.member(org, "provider_admin")
    results = await asyncio.gather(
        first.post(f"{ORG}/{org}/members/{other['id']}/deactivate"),
        second.post(f"{ORG}/{org}/members/{me['id']}/role", json={"role": "provider_editor"}),
    )
    assert sorted(r.status_code for r in results) in ([200, 401], [200, 409])  # the loser is refused or logged out
    admins = await User.count().where(
        (User.organisation == org) & (User.role == "provider_admin") & User.is_active.eq(True)
    )
    assert admins == 1
