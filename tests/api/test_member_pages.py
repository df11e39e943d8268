"""The lifecycle on the pages: buttons by the same predicates, a confirmation step, English and Arabic; the
second-factor enrolment step at login; the invitation page that keeps the secret out of every URL."""

from __future__ import annotations

import re

import pyotp

from portal.db.tables import AuditEvent, User, UserSession
from tests.conftest import PASSWORD


def _csrf(page: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)


async def test_admin_sees_member_buttons_and_confirms_a_deactivation(actors) -> None:
    admin, me = await actors.provider()
    org = me["organisation_id"]
    editor, editor_user = await actors.member(org, "provider_editor")
    page = await admin.get("/organisation")
    assert page.status_code == 200
    assert f'href="/organisation/members/{editor_user["id"]}/deactivate"' in page.text
    assert f'action="/organisation/members/{editor_user["id"]}/role"' in page.text
    assert "reset-totp" not in page.text  # providers have no second factor
    # The editor sees the members, without a single button.
    editor_page = await editor.get("/organisation")
    assert editor_page.status_code == 200 and editor_user["email"] in editor_page.text
    assert "/organisation/members/" not in editor_page.text
    forced = await editor.post(
        f"/organisation/members/{me['id']}/deactivate", data={"_csrf_token": _csrf(editor_page.text)}
    )
    assert forced.status_code == 403 and "this action needs one of the roles" in forced.text
    assert (await editor.get(f"/organisation/members/{me['id']}/deactivate")).status_code == 403

    confirm = await admin.get(f"/organisation/members/{editor_user['id']}/deactivate")
    assert confirm.status_code == 200
    assert f"<h1>Deactivate {editor_user['email'].split('@')[0]}?</h1>" in confirm.text
    assert "They are logged out at once, every API token they created is revoked" in confirm.text
    assert await User.count().where(User.is_active.eq(False)) == 0  # the confirmation step changes nothing
    done = await admin.post(
        f"/organisation/members/{editor_user['id']}/deactivate", data={"_csrf_token": _csrf(confirm.text)}
    )
    assert done.status_code == 303 and done.headers["location"] == "/organisation?notice=member-deactivate"
    after = await admin.get(done.headers["location"])
    assert "The member is deactivated; their sessions and API tokens have ended." in after.text
    assert f'href="/organisation/members/{editor_user["id"]}/reactivate"' in after.text
    assert (await editor.get("/organisation", headers={"accept": "text/html"})).status_code == 302


async def test_role_change_confirmation_names_both_roles_and_applies_on_post(actors) -> None:
    admin, me = await actors.provider()
    _, editor_user = await actors.member(me["organisation_id"], "provider_editor")
    confirm = await admin.get(f"/organisation/members/{editor_user['id']}/role?role=provider_admin")
    assert confirm.status_code == 200
    assert "Provider editor → <strong>Provider admin</strong>" in confirm.text
    assert 'name="role" value="provider_admin"' in confirm.text
    done = await admin.post(
        f"/organisation/members/{editor_user['id']}/role",
        data={"role": "provider_admin", "_csrf_token": _csrf(confirm.text)},
    )
    assert done.status_code == 303
    stored = await User.select(User.role).where(User.id == editor_user["id"]).first()
    assert stored["role"] == "provider_admin"


async def test_refused_changes_show_the_reason_on_the_page(actors) -> None:
    admin, me = await actors.provider()
    page = await admin.get("/organisation")
    # The sole admin is offered nothing for themselves; forcing the change shows the refusal and its status.
    assert f"/organisation/members/{me['id']}/" not in page.text
    refused = await admin.post(f"/organisation/members/{me['id']}/deactivate", data={"_csrf_token": _csrf(page.text)})
    assert refused.status_code == 409
    assert "this is the organisation&#39;s last active admin; make another member admin first" in refused.text
    step = await admin.get(f"/organisation/members/{me['id']}/deactivate", headers={"accept": "text/html"})
    assert step.status_code == 409 and "last active admin" in step.text
    assert (await admin.get("/api/v1/me")).json()["state"] == "active"
    _, them = await actors.provider()
    foreign = await admin.get(f"/organisation/members/{them['id']}/deactivate", headers={"accept": "text/html"})
    assert foreign.status_code == 404
    escalate = await admin.get(
        f"/organisation/members/{me['id']}/role?role=regulator_admin", headers={"accept": "text/html"}
    )
    assert escalate.status_code == 403


async def test_member_confirmation_in_arabic(actors) -> None:
    chief = await actors.regulator("regulator_admin")
    reviewer = await actors.create_user("reviewer")
    listing = await chief.get("/organisation?lang=ar")
    assert 'dir="rtl"' in listing.text and "إعادة تعيين عامل التحقق الثاني" in listing.text
    confirm = await chief.get(f"/organisation/members/{reviewer['id']}/reset-totp")
    assert confirm.status_code == 200 and 'dir="rtl"' in confirm.text
    assert "لن ترى سرّه أبداً" in confirm.text
    english = await chief.get(f"/organisation/members/{reviewer['id']}/reset-totp?lang=en")
    assert "You never see its secret." in english.text


async def test_page_login_enrols_a_reset_second_factor_once_and_needs_a_code(actors, anon) -> None:
    chief = await actors.regulator("regulator_admin")
    reviewer = await actors.create_user("reviewer")
    await chief.post(f"/api/v1/organisations/{reviewer['organisation_id']}/members/{reviewer['id']}/reset-totp")
    login = await anon.get("/login")
    step = await anon.post(
        "/login", data={"email": reviewer["email"], "password": PASSWORD, "_csrf_token": _csrf(login.text)}
    )
    assert step.status_code == 200 and step.headers["cache-control"] == "no-store"
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]{32})</code>', step.text).group(1)
    assert "portal_session" not in anon.cookies
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    bad = await anon.post("/login/enrol", data={"totp": wrong, "_csrf_token": _csrf(step.text)})
    assert bad.status_code == 401 and secret not in bad.text  # shown once, never again
    assert 'name="totp"' in bad.text
    done = await anon.post(
        "/login/enrol",
        data={"totp": pyotp.TOTP(secret).now(), "next": "/organisation", "_csrf_token": _csrf(step.text)},
    )
    assert done.status_code == 303 and done.headers["location"] == "/organisation"
    assert await UserSession.count().where(UserSession.user == reviewer["id"]) == 1
    replay = await anon.post("/login/enrol", data={"totp": pyotp.TOTP(secret).now(), "_csrf_token": _csrf(step.text)})
    assert replay.status_code == 401 and "log in with your password again" in replay.text


async def test_invitation_page_takes_the_secret_from_the_form_not_the_url(actors, anon, client_factory) -> None:
    admin, me = await actors.provider()
    secret = await actors.invite(admin, me["organisation_id"], "page.invitee@provider.example", name="Invitee")
    form = await anon.get("/invitations")
    assert form.status_code == 200 and '<script src="/static/secret-link.js"></script>' in form.text
    assert 'name="invitation"' in form.text
    script = await anon.get("/static/secret-link.js")
    assert script.status_code == 200 and "window.location.hash" in script.text
    assert (await anon.get(f"/invitations/{secret}")).status_code == 404  # the old path form is gone
    empty = await anon.post("/invitations", data={"password": PASSWORD, "_csrf_token": _csrf(form.text)})
    assert empty.status_code == 404
    weak = await anon.post(
        "/invitations", data={"invitation": secret, "password": "short", "_csrf_token": _csrf(form.text)}
    )
    assert weak.status_code == 422 and f'value="{secret}"' in weak.text and "short" not in weak.text.split("<main")[1]
    done = await anon.post(
        "/invitations", data={"invitation": secret, "password": PASSWORD, "_csrf_token": _csrf(form.text)}
    )
    assert done.status_code == 200 and "Your account is ready." in done.text
    assert done.headers["cache-control"] == "no-store"
    assert (
        await client_factory().post(
            "/api/v1/auth/login", json={"email": "page.invitee@provider.example", "password": PASSWORD}
        )
    ).status_code == 200


async def test_regulator_invitation_page_shows_no_seed(actors, anon) -> None:
    chief_user = await actors.create_user("regulator_admin")
    chief = await actors.login(chief_user["email"])
    secret = await actors.invite(
        chief, chief_user["organisation_id"], "page.reviewer@regulator.example", "reviewer", "Reviewer"
    )
    form = await anon.get("/invitations")
    done = await anon.post(
        "/invitations", data={"invitation": secret, "password": PASSWORD, "_csrf_token": _csrf(form.text)}
    )
    assert done.status_code == 200
    assert "At your first login, after your password, you set up your second factor" in done.text
    assert not re.search(r"[A-Z2-7]{32}", done.text)
    assert await AuditEvent.count().where(AuditEvent.object_id.like(f"%{secret}%")) == 0
