"""Invitations held by email address (issue #9 item 13): the admin's answer and list never say whether an address
has an account; the link goes to the address only; a newer invitation replaces an open one; an admin withdraws
one; the account exists only once the link is used."""

from __future__ import annotations

from portal.db.tables import AuditEvent, MemberInvitation, User
from tests.api.test_forms import _csrf
from tests.conftest import PASSWORD, invitation_code, mail_to

ORG = "/api/v1/organisations"
VARIABLE = {"id", "email", "created_at", "expires_at"}  # what differs between two invitations made together


async def test_an_invitation_looks_the_same_whether_or_not_the_address_has_an_account(actors, anon, settings) -> None:
    admin, me = await actors.provider()
    org = me["organisation_id"]
    _, elsewhere = await actors.provider()  # an admin of another organisation: this address has an account
    accounts_before = await User.count()
    answers = []
    for email in ("fresh@provider.example", elsewhere["email"]):
        answer = await admin.post(
            f"{ORG}/{org}/members", json={"email": email, "display_name": "Member", "role": "provider_editor"}
        )
        answers.append(answer)
    fresh, taken = answers
    assert fresh.status_code == taken.status_code == 201
    assert fresh.headers.keys() == taken.headers.keys()
    assert {k: v for k, v in fresh.json().items() if k not in VARIABLE} == {
        k: v for k, v in taken.json().items() if k not in VARIABLE
    }
    assert taken.json()["state"] == "pending" and taken.json()["email"] == elsewhere["email"]
    listed = (await admin.get(f"{ORG}/{org}/invitations")).json()
    assert [(i["email"], i["state"]) for i in listed] == [
        (elsewhere["email"], "pending"),
        (fresh.json()["email"], "pending"),
    ]
    assert await User.count() == accounts_before  # no account for either until a link is used

    # The new address gets a link; the one with an account gets a notice without one.
    assert invitation_code(settings, "fresh@provider.example")
    (notice,) = [body for body in mail_to(settings, elsewhere["email"]) if "invited this address" in body]
    assert "/invitations#" not in notice and "already has an account" in notice
    # Only the operator's audit trail knows which was which.
    rows = await AuditEvent.select(AuditEvent.after).where(AuditEvent.action == "member.invited").output(load_json=True)
    assert sorted(row["after"]["existing_account"] for row in rows) == [False, True]
    # The other organisation's admin is untouched and still logs in there.
    again = await actors.login(elsewhere["email"])
    assert (await again.get("/api/v1/me")).json()["organisation_id"] == elsewhere["organisation_id"]


async def test_an_address_already_in_the_organisation_is_refused_plainly(actors) -> None:
    admin, me = await actors.provider()
    refused = await admin.post(
        f"{ORG}/{me['organisation_id']}/members",
        json={"email": me["email"].upper(), "display_name": "Me", "role": "provider_editor"},
    )
    assert refused.status_code == 409 and refused.json()["field"] == "email"
    assert refused.json()["detail"] == "this address is already a member of your organisation"
    assert await MemberInvitation.count() == 0


async def test_a_newer_invitation_replaces_the_open_one(actors, anon) -> None:
    admin, me = await actors.provider()
    org = me["organisation_id"]
    first = await actors.invite(admin, org, "twice@provider.example")
    second = await actors.invite(admin, org, "twice@provider.example", "provider_admin")
    assert first != second
    old = await anon.post("/api/v1/invitations/accept", json={"invitation": first, "password": PASSWORD})
    assert old.status_code == 404
    listed = (await admin.get(f"{ORG}/{org}/invitations")).json()
    assert [(i["email"], i["role"]) for i in listed] == [("twice@provider.example", "provider_admin")]
    joined = await anon.post("/api/v1/invitations/accept", json={"invitation": second, "password": PASSWORD})
    assert joined.status_code == 200 and joined.json()["user"]["role"] == "provider_admin"


async def test_an_admin_withdraws_an_invitation_and_its_link_stops_working(actors, anon) -> None:
    admin, me = await actors.provider()
    org = me["organisation_id"]
    secret = await actors.invite(admin, org, "withdrawn@provider.example")
    (invitation,) = (await admin.get(f"{ORG}/{org}/invitations")).json()
    editor, _ = await actors.member(org, "provider_editor")
    assert (await editor.post(f"{ORG}/{org}/invitations/{invitation['id']}/cancel")).status_code == 403
    assert (await editor.get(f"{ORG}/{org}/invitations")).status_code == 403
    other, them = await actors.provider()
    assert (await other.post(f"{ORG}/{org}/invitations/{invitation['id']}/cancel")).status_code == 403
    assert (await other.get(f"{ORG}/{org}/invitations")).status_code == 403
    # Another organisation's admin naming this invitation under their own organisation: no such invitation.
    assert (
        await other.post(f"{ORG}/{them['organisation_id']}/invitations/{invitation['id']}/cancel")
    ).status_code == 404
    assert (await anon.get(f"{ORG}/{org}/invitations")).status_code == 401

    cancelled = await admin.post(f"{ORG}/{org}/invitations/{invitation['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert (await admin.post(f"{ORG}/{org}/invitations/{invitation['id']}/cancel")).status_code == 409
    assert (await admin.get(f"{ORG}/{org}/invitations")).json() == []
    used = await anon.post("/api/v1/invitations/accept", json={"invitation": secret, "password": PASSWORD})
    assert used.status_code == 404
    page = await anon.get("/invitations")
    shown = await anon.post("/invitations", data={"invitation": secret, "_csrf_token": _csrf(page.text)})
    assert shown.status_code == 404 and "this invitation was withdrawn" in shown.text
    assert await User.count().where(User.email == "withdrawn@provider.example") == 0
    actions = await AuditEvent.select(AuditEvent.action).where(AuditEvent.object_id == invitation["id"])
    assert [row["action"] for row in actions] == ["member.invited", "member.invitation_cancelled"]


async def test_a_link_whose_address_has_meanwhile_got_an_account_is_refused(actors, anon) -> None:
    admin, me = await actors.provider()
    secret = await actors.invite(admin, me["organisation_id"], "raced@provider.example")
    other_admin, them = await actors.provider()
    other_secret = await actors.invite(other_admin, them["organisation_id"], "raced@provider.example")
    joined = await anon.post("/api/v1/invitations/accept", json={"invitation": other_secret, "password": PASSWORD})
    assert joined.status_code == 200 and joined.json()["user"]["organisation_id"] == them["organisation_id"]
    late = await anon.post("/api/v1/invitations/accept", json={"invitation": secret, "password": PASSWORD})
    assert late.status_code == 409 and late.json()["detail"] == "this address already has an account: log in with it"
    assert await User.count().where(User.email == "raced@provider.example") == 1


async def test_the_regulator_admin_invites_to_the_regulator_and_sees_only_its_invitations(actors) -> None:
    chief_user = await actors.create_user("regulator_admin")
    chief = await actors.login(chief_user["email"])
    regulator_org = chief_user["organisation_id"]
    await actors.invite(chief, regulator_org, "analyst@regulator.example", "reviewer")
    listed = (await chief.get(f"{ORG}/{regulator_org}/invitations")).json()
    assert [(i["email"], i["role"]) for i in listed] == [("analyst@regulator.example", "reviewer")]
    admin, me = await actors.provider()
    assert (await chief.get(f"{ORG}/{me['organisation_id']}/invitations")).status_code == 403
    assert (await admin.get(f"{ORG}/{regulator_org}/invitations")).status_code == 403


async def test_the_organisation_page_lists_invitations_and_withdraws_one(actors) -> None:
    admin, me = await actors.provider()
    org = me["organisation_id"]
    page = await admin.get("/organisation")
    assert "No invitations waiting." in page.text.split('id="invitations"')[1]
    token = _csrf(page.text)
    form = {"form": "invite", "display_name": "سلمى", "email": "salma@provider.example", "role": "provider_editor"}
    sent = await admin.post("/organisation", data={**form, "_csrf_token": token})
    assert sent.status_code == 303 and sent.headers["location"] == "/organisation?notice=invited#invitations"
    (invitation,) = (await admin.get(f"{ORG}/{org}/invitations")).json()
    arabic = await admin.get("/organisation?lang=ar&notice=invited")
    row = arabic.text.split(f'id="invitation-{invitation["id"]}"')[1].split("</tr>")[0]
    assert "<bdi>سلمى</bdi>" in row and "<bdi>salma@provider.example</bdi>" in row and "بانتظار القبول" in row
    assert "أُرسلت الدعوة إلى عنوان البريد الإلكتروني" in arabic.text
    assert f'action="/organisation/invitations/{invitation["id"]}/cancel"' in row

    editor, _ = await actors.member(org, "provider_editor")
    seen = await editor.get("/organisation")
    assert 'id="invitations"' not in seen.text and "salma@provider.example" not in seen.text
    refused = await editor.post(
        f"/organisation/invitations/{invitation['id']}/cancel", data={"_csrf_token": _csrf(seen.text)}
    )
    assert refused.status_code == 403

    withdrawn = await admin.post(f"/organisation/invitations/{invitation['id']}/cancel", data={"_csrf_token": token})
    assert withdrawn.status_code == 303
    assert withdrawn.headers["location"] == "/organisation?notice=invitation-cancelled#invitations"
    after = await admin.get("/organisation?notice=invitation-cancelled")
    assert "سُحبت الدعوة، ولم يعد رابطها يعمل." in after.text  # the page stays in the language chosen
    assert f'id="invitation-{invitation["id"]}"' not in after.text
    reloaded = await admin.get(f"/organisation/invitations/{invitation['id']}/cancel")
    assert reloaded.status_code == 303 and reloaded.headers["location"] == "/organisation#invitations"
    again = await admin.post(f"/organisation/invitations/{invitation['id']}/cancel", data={"_csrf_token": token})
    assert again.status_code == 409 and "هذه الدعوة مستخدمة أو مسحوبة بالفعل." in again.text
