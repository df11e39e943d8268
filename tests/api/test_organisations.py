"""Organisation verification, members and API tokens — behaviour, roles, tenant isolation."""

from __future__ import annotations

import hashlib

from portal.db.tables import ApiToken, AuditEvent, Organisation
from tests.conftest import PASSWORD, mail_to


async def test_regulator_admin_verifies_a_pending_provider(actors) -> None:
    provider, user = await actors.provider(verified=False)
    admin = await actors.regulator("regulator_admin")
    pending = await admin.get("/api/v1/organisations", params={"status": "pending"})
    assert pending.status_code == 200
    assert [o["id"] for o in pending.json()] == [user["organisation_id"]]
    verified = await admin.post(f"/api/v1/organisations/{user['organisation_id']}/verify", json={"reason": "checked"})
    assert verified.status_code == 200 and verified.json()["status"] == "verified"
    assert (await provider.get("/api/v1/me")).json()["organisation_status"] == "verified"
    event = await AuditEvent.select().where(AuditEvent.action == "organisation.verified").output(load_json=True).first()
    assert event["before"] == {"status": "pending"} and event["after"] == {
        "status": "verified",
        "reason": "checked",
    }
    again = await admin.post(f"/api/v1/organisations/{user['organisation_id']}/verify")
    assert again.status_code == 409


async def test_reject_needs_a_reason_and_records_it(actors) -> None:
    _, user = await actors.provider(verified=False)
    admin = await actors.regulator("regulator_admin")
    no_reason = await admin.post(f"/api/v1/organisations/{user['organisation_id']}/reject", json={})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["detail"]
    rejected = await admin.post(
        f"/api/v1/organisations/{user['organisation_id']}/reject",
        json={"reason": "registration number not found"},
    )
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["status_reason"] == "registration number not found"


async def test_only_regulator_admin_decides_and_refusals_are_audited(actors) -> None:
    _, user = await actors.provider(verified=False)
    org = user["organisation_id"]
    reviewer = await actors.regulator("reviewer")
    assert (await reviewer.get("/api/v1/organisations")).status_code == 200  # reviewers may read the queue
    refused = await reviewer.post(f"/api/v1/organisations/{org}/verify")
    assert refused.status_code == 403 and refused.json()["type"].endswith("/forbidden")
    other, _ = await actors.provider()
    assert (await other.get("/api/v1/organisations")).status_code == 403
    assert (await other.post(f"/api/v1/organisations/{org}/verify")).status_code == 403
    status = await Organisation.select(Organisation.status).where(Organisation.id == org).first()
    assert status["status"] == "pending"
    denied = await AuditEvent.select(AuditEvent.object_id).where(AuditEvent.action == "permission.denied")
    assert sorted(d["object_id"] for d in denied) == sorted(
        [
            f"POST /api/v1/organisations/{org}/verify",
            "GET /api/v1/organisations",
            f"POST /api/v1/organisations/{org}/verify",
        ]
    )


async def test_a_provider_sees_its_own_organisation_only(actors) -> None:
    mine, me = await actors.provider()
    _, them = await actors.provider()
    assert (await mine.get(f"/api/v1/organisations/{me['organisation_id']}")).status_code == 200
    assert (await mine.get(f"/api/v1/organisations/{them['organisation_id']}")).status_code == 403
    assert (await mine.get(f"/api/v1/organisations/{them['organisation_id']}/members")).status_code == 403
    regulator = await actors.regulator("reviewer")
    assert (await regulator.get(f"/api/v1/organisations/{them['organisation_id']}")).status_code == 200


async def test_admin_invites_a_member_who_sets_a_password(actors, anon, settings) -> None:
    admin, me = await actors.provider()
    org = me["organisation_id"]
    invited = await admin.post(
        f"/api/v1/organisations/{org}/members",
        json={"email": "New.Editor@provider.example", "display_name": "New Editor", "role": "provider_editor"},
    )
    assert invited.status_code == 201
    body = invited.json()
    assert body == {
        "id": body["id"],
        "email": "new.editor@provider.example",
        "display_name": "New Editor",
        "role": "provider_editor",
        "organisation_id": org,
        "organisation_name": me["organisation_name"],
        "created_at": body["created_at"],
        "expires_at": body["expires_at"],
        "state": "pending",
    }
    assert "/invitations#" not in invited.text  # the link goes to the address, not to the admin
    (mail,) = mail_to(settings, "new.editor@provider.example")
    (link,) = [line for line in mail.splitlines() if "/invitations#" in line]
    base, _, secret = link.partition("#")
    assert base == "http://testserver/invitations" and len(secret) == 43  # the secret rides in the fragment
    assert "Admin invited you to join" in mail and "as Provider editor" in mail
    accepted = await anon.post("/api/v1/invitations/accept", json={"invitation": secret, "password": PASSWORD})
    assert accepted.status_code == 200 and accepted.headers["cache-control"] == "no-store"
    assert accepted.json() == {
        "user": {**accepted.json()["user"], "is_active": True, "state": "active", "role": "provider_editor"},
        "totp_enrolment_required": False,
    }
    again = await anon.post("/api/v1/invitations/accept", json={"invitation": secret, "password": PASSWORD})
    assert again.status_code == 404
    assert (await anon.post(f"/api/v1/invitations/{secret}/accept", json={"password": PASSWORD})).status_code == 404
    editor = await actors.login("new.editor@provider.example")
    assert (await editor.get("/api/v1/me")).json()["organisation_id"] == org
    members = await admin.get(f"/api/v1/organisations/{org}/members")
    assert sorted(m["email"] for m in members.json()) == sorted([me["email"], "new.editor@provider.example"])
    assert (await admin.get(f"/api/v1/organisations/{org}/invitations")).json() == []  # accepted: no longer open


async def test_member_invitation_permissions(actors) -> None:
    admin, me = await actors.provider()
    org = me["organisation_id"]
    editor, _ = await actors.member(org, "provider_editor")
    other_admin, _ = await actors.provider()
    new = {"email": "x@provider.example", "display_name": "X", "role": "provider_editor"}
    assert (await editor.post(f"/api/v1/organisations/{org}/members", json=new)).status_code == 403
    assert (await other_admin.post(f"/api/v1/organisations/{org}/members", json=new)).status_code == 403
    regulator_role = {**new, "role": "signing_officer"}
    escalated = await admin.post(f"/api/v1/organisations/{org}/members", json=regulator_role)
    assert escalated.status_code == 403 and escalated.json()["field"] == "role"


async def test_api_tokens_are_shown_once_hashed_at_rest_and_revocable(actors, anon) -> None:
    admin, me = await actors.provider()
    org = me["organisation_id"]
    created = await admin.post(
        f"/api/v1/organisations/{org}/api-tokens", json={"name": "ci", "role": "provider_editor"}
    )
    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("pap_") and created.json()["prefix"] == secret[:12]
    stored = await ApiToken.select(ApiToken.token_hash).first()
    assert stored["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    listing = await admin.get(f"/api/v1/organisations/{org}/api-tokens")
    assert listing.status_code == 200 and "token" not in listing.json()[0]
    bearer = {"Authorization": f"Bearer {secret}"}
    me_by_token = await anon.get("/api/v1/me", headers=bearer)
    assert me_by_token.status_code == 200 and me_by_token.json()["role"] == "provider_editor"
    # A token cannot mint tokens, and cannot act outside its organisation.
    assert (
        await anon.post(f"/api/v1/organisations/{org}/api-tokens", headers=bearer, json={"name": "x"})
    ).status_code == 403
    revoked = await admin.post(f"/api/v1/organisations/{org}/api-tokens/{created.json()['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    after = await anon.get("/api/v1/me", headers=bearer)
    assert after.status_code == 401


async def test_api_token_permissions(actors) -> None:
    admin, me = await actors.provider()
    org = me["organisation_id"]
    editor, _ = await actors.member(org, "provider_editor")
    other, _ = await actors.provider()
    body = {"name": "ci"}
    assert (await editor.post(f"/api/v1/organisations/{org}/api-tokens", json=body)).status_code == 403
    assert (await other.post(f"/api/v1/organisations/{org}/api-tokens", json=body)).status_code == 403
    assert (await other.get(f"/api/v1/organisations/{org}/api-tokens")).status_code == 403
    regulator_token = await admin.post(
        f"/api/v1/organisations/{org}/api-tokens", json={"name": "x", "role": "reviewer"}
    )
    assert regulator_token.status_code == 422
    created = await admin.post(f"/api/v1/organisations/{org}/api-tokens", json=body)
    other_org = (await other.get("/api/v1/me")).json()["organisation_id"]
    foreign_revoke = await other.post(f"/api/v1/organisations/{other_org}/api-tokens/{created.json()['id']}/revoke")
    assert foreign_revoke.status_code == 404


async def test_an_arabic_name_is_given_at_registration_and_corrected_by_a_regulator_admin(anon, actors) -> None:
    from tests.conftest import register, registration

    body = registration(organisation__name_ar="  شركة   الاختبار ")
    org = (await register(anon, actors.app.state.runtime.settings, body))["organisation_id"]
    admin = await actors.regulator("regulator_admin")
    shown = await admin.get(f"/api/v1/organisations/{org}")
    assert shown.status_code == 200 and shown.json()["name_ar"] == "شركة الاختبار"

    changed = await admin.patch(f"/api/v1/organisations/{org}", json={"name_ar": "شركة الاختبار المحدودة"})
    assert changed.status_code == 200 and changed.json()["name_ar"] == "شركة الاختبار المحدودة"
    event = await AuditEvent.select().where(AuditEvent.action == "organisation.renamed").output(load_json=True).first()
    assert event["object_id"] == org
    assert event["before"] == {"name_ar": "شركة الاختبار"} and event["after"] == {"name_ar": "شركة الاختبار المحدودة"}
    assert (await admin.patch(f"/api/v1/organisations/{org}", json={"name_ar": "x" * 201})).status_code == 400
    assert (await admin.patch(f"/api/v1/organisations/{org}", json={"name_ar": "a\x00b"})).status_code == 400


async def test_only_a_regulator_admin_sets_an_arabic_name(actors) -> None:
    provider, user = await actors.provider()
    org = user["organisation_id"]
    for client in (provider, await actors.regulator("reviewer"), await actors.regulator("signing_officer")):
        refused = await client.patch(f"/api/v1/organisations/{org}", json={"name_ar": "اسم"})
        assert refused.status_code == 403
    stored = await Organisation.select(Organisation.name_ar).where(Organisation.id == org).first()
    assert stored["name_ar"] == ""
    regulator = await actors.regulator("regulator_admin")
    regulator_org = (await regulator.get("/api/v1/me")).json()["organisation_id"]
    assert (await regulator.patch(f"/api/v1/organisations/{regulator_org}", json={"name_ar": "x"})).status_code == 404


async def test_the_arabic_name_page_form_saves_and_redirects(actors) -> None:
    _, user = await actors.provider(verified=False)
    org = user["organisation_id"]
    admin = await actors.regulator("regulator_admin")
    token = await admin.prime_csrf()
    saved = await admin.post(f"/regulator/organisations/{org}/name-ar", data={"name_ar": "مزود", "_csrf_token": token})
    assert (
        saved.status_code in (302, 303)
        and saved.headers["location"] == "/regulator/organisations?status=pending&notice=renamed"
    )
    page = await admin.get("/regulator/organisations?status=pending&lang=ar")
    assert page.status_code == 200 and '<bdi lang="ar">مزود</bdi>' in page.text


async def test_an_admin_sends_at_most_thirty_invitations_an_hour(actors) -> None:
    # Inviting an address that has an account still answers 409 (one account belongs to one organisation);
    # the hourly limit, counted before the address is looked at, keeps that from becoming a directory probe.
    admin, me = await actors.provider()
    members = f"/api/v1/organisations/{me['organisation_id']}/members"
    for n in range(30):
        body = {"email": f"invitee-{n}@provider.example", "display_name": "Invitee", "role": "provider_editor"}
        assert (await admin.post(members, json=body)).status_code == 201
    refused = await admin.post(members, json={"email": me["email"], "display_name": "Me", "role": "provider_editor"})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    other, them = await actors.provider()  # the limit is the inviting admin's, not everyone's
    body = {"email": "invitee-x@provider.example", "display_name": "X", "role": "provider_editor"}
    assert (await other.post(f"/api/v1/organisations/{them['organisation_id']}/members", json=body)).status_code == 201
