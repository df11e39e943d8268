"""Issuance: the four-eyes decision, exactly one attestation per revision, the signed token and certificate,
the lifecycle with the status list, supersession, and who may do each."""

from __future__ import annotations

import asyncio
import datetime as dt
import io

import pytest
from pypdf import PdfReader

from attestations.keys import Keyring
from attestations.policy import ExpectedIssuer
from attestations.status_list import TokenStatus, decode_status_list_token
from attestations.verify import verify_token
from portal.db.tables import AttestationEvent, AttestationRow, AuditEvent, Decision
from tests.api.test_reviews import DUE, TELECOM, claimed, record_all, submitted

pytestmark = pytest.mark.usefixtures("baseline")


async def recommended(actors, *, conditional: bool = False, provider=None):
    """(provider client, reviewer client, assessment id) with an approval recommended by that reviewer."""
    if provider is None:
        provider_client, reviewer_client, _, aid = await claimed(actors)
    else:
        provider_client, _, aid = await submitted(actors, provider)
        reviewer_user = await actors.create_user("reviewer")
        reviewer_client = await actors.login(reviewer_user["email"])
        assert (await reviewer_client.post(f"/api/v1/assessments/{aid}/claim")).status_code == 200
    verdicts = {TELECOM[1]: ("not_satisfied", "No IR plan")} if conditional else None
    await record_all(reviewer_client, aid, verdicts)
    body: dict = {"decision": "approve", "rationale": "Meets the baseline"}
    if conditional:
        body |= {"level": "conditional", "conditions": [{"control_id": TELECOM[1], "text": "Adopt", "due_date": DUE}]}
    response = await reviewer_client.post(f"/api/v1/assessments/{aid}/recommend", json=body)
    assert response.status_code == 200, response.text
    return provider_client, reviewer_client, aid


async def officer(actors):
    user = await actors.create_user("signing_officer")
    return await actors.login(user["email"])


async def issued(actors, **kwargs):
    provider, reviewer, aid = await recommended(actors, **kwargs)
    signer = await officer(actors)
    response = await signer.post(f"/api/v1/assessments/{aid}/decide", json={"decision": "issue", "valid_days": 30})
    assert response.status_code == 201, response.text
    return provider, reviewer, signer, aid, response.json()


async def test_issue_signs_a_verifiable_token_and_answers_the_attestation_contract(actors, anon) -> None:
    provider, _, _, aid, body = await issued(actors)
    assert set(body) >= {
        "serial", "status", "token", "provider", "scope", "catalog", "revision", "level", "result",
        "conditions", "valid_from", "expires_at", "events",
    }  # fmt: skip
    year = dt.datetime.now(dt.UTC).year
    assert body["serial"] == f"PA-{year}-000001" and body["status"] == "active" and body["level"] == "full"
    assert [e["event"] for e in body["events"]] == ["issue"]
    assert body["catalog"]["id"] == "ppa-baseline" and body["revision"]["number"] == 1
    assert sum(f["controls"] for f in body["result"].values()) == len(TELECOM)
    assert all(f["implemented"] == f["controls"] for f in body["result"].values())
    valid = dt.datetime.fromisoformat(body["expires_at"]) - dt.datetime.fromisoformat(body["valid_from"])
    assert valid == dt.timedelta(days=30)
    keyring = Keyring.from_jwks((await anon.get("/.well-known/jwks.json")).json())
    result = verify_token(body["token"], keyring, issuer=ExpectedIssuer("http://testserver"))
    assert result.ok and result.claims.jti == body["serial"]
    assert result.claims.sub.startswith("urn:portal:org:")
    assert (await provider.get(f"/api/v1/assessments/{aid}")).json()["state"] == "attested"
    public = await anon.get(f"/api/v1/attestations/{body['serial']}")
    assert public.status_code == 200 and public.json() == body
    assert "narrative" not in public.text and "comment" not in public.text


async def test_the_certificate_is_public_deterministic_and_carries_the_token(actors, anon) -> None:
    _, _, _, _, body = await issued(actors)
    url = f"/api/v1/attestations/{body['serial']}/certificate.pdf"
    first, second = await anon.get(url), await anon.get(url)
    assert first.status_code == 200 and first.headers["content-type"] == "application/pdf"
    assert first.content == second.content and first.content.startswith(b"%PDF-")
    attachments = PdfReader(io.BytesIO(first.content)).attachments
    assert b"".join(attachments["attestation.jwt"]).decode().strip() == body["token"]


async def test_the_certificate_prints_results_per_family_and_names_in_both_languages(actors, anon) -> None:
    from attestations.certificate import shape_arabic
    from controls.loader import baseline_catalog

    provider, _, aid = await recommended(actors)
    organisation = (await provider.get("/api/v1/me")).json()["organisation_id"]
    admin = await actors.regulator("regulator_admin")
    name_ar = "شركة الاتصالات التجريبية"
    renamed = await admin.patch(f"/api/v1/organisations/{organisation}", json={"name_ar": name_ar})
    assert renamed.status_code == 200
    signer = await officer(actors)
    decided = await signer.post(f"/api/v1/assessments/{aid}/decide", json={"decision": "issue", "valid_days": 30})
    assert decided.status_code == 201
    body = decided.json()
    assert body["provider"]["name_ar"] == name_ar
    pdf = (await anon.get(f"/api/v1/attestations/{body['serial']}/certificate.pdf")).content
    lines = PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split("\n")
    text = "\n".join(lines)
    assert "Telecommunications and data-transmission operator" in lines and "telecom_operator" not in text
    assert shape_arabic(name_ar) in text or shape_arabic(name_ar)[::-1] in text
    assert "Full" in lines
    titles = {family.id: family.title for family in baseline_catalog().families}
    assert body["result"]  # every family the revision answered has a line: id, title, controls, implemented
    for family, counts in body["result"].items():
        at = lines.index(family)
        assert lines[at + 1] == titles[family]
        assert lines[at + 2 : at + 4] == [str(counts["controls"]), str(counts["implemented"])]


async def test_the_status_list_entry_follows_the_lifecycle(actors, anon) -> None:
    _, _, signer, _, body = await issued(actors)
    serial = body["serial"]
    claims = verify_token(
        body["token"],
        Keyring.from_jwks((await anon.get("/.well-known/jwks.json")).json()),
        issuer=ExpectedIssuer("http://testserver"),
    ).claims
    reference = claims.status.status_list
    path = reference.uri.removeprefix("http://testserver")
    keyring = Keyring.from_jwks((await anon.get("/.well-known/jwks.json")).json())

    async def listed() -> TokenStatus:
        token = (await anon.get(path)).text
        return TokenStatus(decode_status_list_token(token, keyring).status_list.get(reference.idx))

    assert await listed() == TokenStatus.VALID
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    suspended = await signer.post(f"/api/v1/attestations/{serial}/suspend", json={"reason": "audit", "until": until})
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    assert await listed() == TokenStatus.SUSPENDED
    again = await signer.post(f"/api/v1/attestations/{serial}/suspend", json={"reason": "audit"})
    assert again.status_code == 409
    reinstated = await signer.post(f"/api/v1/attestations/{serial}/reinstate", json={"reason": "audit closed"})
    assert reinstated.status_code == 200 and reinstated.json()["status"] == "active"
    assert (await signer.post(f"/api/v1/attestations/{serial}/reinstate", json={"reason": "again"})).status_code == 409
    assert await listed() == TokenStatus.VALID
    revoked = await signer.post(
        f"/api/v1/attestations/{serial}/revoke", json={"reason": "misrepresentation", "detail": "forged evidence"}
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert await listed() == TokenStatus.INVALID
    assert [e["event"] for e in revoked.json()["events"]] == ["issue", "suspend", "reinstate", "revoke"]
    late = await signer.post(f"/api/v1/attestations/{serial}/suspend", json={"reason": "too late"})
    assert late.status_code == 409
    unknown = await signer.post(f"/api/v1/attestations/{serial}/revoke", json={"reason": "bored", "detail": "x" * 5})
    assert unknown.status_code == 400
    actions = [e["action"] for e in await AuditEvent.select(AuditEvent.action).where(AuditEvent.object_id == serial)]
    assert actions == ["attestation.issued", "attestation.suspend", "attestation.reinstate", "attestation.revoke"]


async def test_suspension_ends_within_180_days(actors) -> None:
    _, _, signer, _, body = await issued(actors)
    url = f"/api/v1/attestations/{body['serial']}/suspend"
    far = (dt.datetime.now(dt.UTC) + dt.timedelta(days=181)).isoformat()
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    for until in (far, past):
        refused = await signer.post(url, json={"reason": "audit", "until": until})
        assert refused.status_code == 422 and refused.json()["field"] == "until"
    default = await signer.post(url, json={"reason": "audit"})
    until = dt.datetime.fromisoformat(default.json()["suspended_until"])
    assert dt.timedelta(days=179) < until - dt.datetime.now(dt.UTC) <= dt.timedelta(days=180)


async def test_twenty_concurrent_decides_from_two_officers_issue_exactly_once(actors) -> None:
    _, _, aid = await recommended(actors)
    first, second = await officer(actors), await officer(actors)
    body = {"decision": "issue"}
    responses = await asyncio.gather(
        *(client.post(f"/api/v1/assessments/{aid}/decide", json=body) for client in [first, second] * 10)
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 19
    assert await AttestationRow.count() == 1 and await Decision.count() == 1
    assert await AttestationEvent.count() == 1


async def test_four_eyes_the_reviewer_and_other_roles_cannot_decide(actors) -> None:
    provider, reviewer, aid = await recommended(actors)
    # The reviewer took part; a regulator admin and the provider are not signing officers; another
    # organisation does not see the assessment. A signing officer who took no part decides.
    signer_user = await actors.create_user("signing_officer")
    signer = await actors.login(signer_user["email"])
    admin = await actors.regulator("regulator_admin")
    other, _ = await actors.provider()
    body = {"decision": "issue"}
    assert (await reviewer.post(f"/api/v1/assessments/{aid}/decide", json=body)).status_code == 403
    assert (await admin.post(f"/api/v1/assessments/{aid}/decide", json=body)).status_code == 403
    assert (await provider.post(f"/api/v1/assessments/{aid}/decide", json=body)).status_code == 403
    assert (await other.post(f"/api/v1/assessments/{aid}/decide", json=body)).status_code == 404
    assert await AttestationRow.count() == 0
    assert (await signer.post(f"/api/v1/assessments/{aid}/decide", json=body)).status_code == 201


async def test_a_signing_officer_who_claimed_the_review_cannot_decide(actors) -> None:
    _, _, aid = await submitted(actors)
    # A signing officer cannot claim (only reviewers can), but may have been assigned or claimed before a role
    # change: the audit trail remembers, and four-eyes reads it.
    signer_user = await actors.create_user("signing_officer")
    signer = await actors.login(signer_user["email"])
    reviewer_user = await actors.create_user("reviewer")
    reviewer = await actors.login(reviewer_user["email"])
    assert (await reviewer.post(f"/api/v1/assessments/{aid}/claim")).status_code == 200
    await record_all(reviewer, aid)
    await reviewer.post(f"/api/v1/assessments/{aid}/recommend", json={"decision": "approve", "rationale": "ok"})
    await AuditEvent.insert(
        AuditEvent(
            at=dt.datetime.now(dt.UTC), action="review.claimed", outcome="success", actor_id=signer_user["id"],
            object_type="assessment", object_id=aid, prev_hash="x" * 64, hash="y" * 64,
        )
    ).run()  # fmt: skip
    refused = await signer.post(f"/api/v1/assessments/{aid}/decide", json={"decision": "issue"})
    assert refused.status_code == 403 and "four-eyes" in refused.json()["detail"]


async def test_deciding_anything_but_a_recommendation_is_a_conflict(actors) -> None:
    _, _, aid = await submitted(actors)
    signer = await officer(actors)
    refused = await signer.post(f"/api/v1/assessments/{aid}/decide", json={"decision": "issue"})
    assert refused.status_code == 409
    for bad in ({"decision": "issue", "valid_days": 0}, {"decision": "issue", "valid_days": 1096}, {"decision": "x"}):
        assert (await signer.post(f"/api/v1/assessments/{aid}/decide", json=bad)).status_code == 400


async def test_reject_ends_in_rejected_with_the_reason(actors) -> None:
    provider, _, aid = await recommended(actors)
    signer = await officer(actors)
    silent = await signer.post(f"/api/v1/assessments/{aid}/decide", json={"decision": "reject"})
    assert silent.status_code == 422 and silent.json()["field"] == "reason"
    rejected = await signer.post(
        f"/api/v1/assessments/{aid}/decide", json={"decision": "reject", "reason": "Evidence does not match the scope"}
    )
    assert rejected.status_code == 200
    assert rejected.json() == {"id": aid, "state": "rejected", "reason": "Evidence does not match the scope"}
    assert (await provider.get(f"/api/v1/assessments/{aid}")).json()["state"] == "rejected"
    assert await AttestationRow.count() == 0


async def test_a_new_attestation_for_the_same_scope_supersedes_the_old_one(actors, anon) -> None:
    provider_pair = await actors.provider()
    _, _, aid = await recommended(actors, provider=provider_pair)
    signer = await officer(actors)
    first = (await signer.post(f"/api/v1/assessments/{aid}/decide", json={"decision": "issue"})).json()
    _, _, aid2 = await recommended(actors, provider=provider_pair)
    second = (await signer.post(f"/api/v1/assessments/{aid2}/decide", json={"decision": "issue"})).json()
    old = (await anon.get(f"/api/v1/attestations/{first['serial']}")).json()
    assert old["status"] == "superseded" and old["superseded_by"] == second["serial"]
    assert [e["event"] for e in old["events"]] == ["issue", "supersede"]
    assert second["status"] == "active"


async def test_conditions_are_carried_and_marked_met(actors) -> None:
    _, _, signer, _, body = await issued(actors, conditional=True)
    assert body["level"] == "conditional"
    assert body["conditions"] == [{"control_id": TELECOM[1], "text": "Adopt", "due_date": DUE, "state": "open"}]
    met = await signer.post(f"/api/v1/attestations/{body['serial']}/conditions/1/met", json={"note": "IR plan seen"})
    assert met.status_code == 200 and met.json()["conditions"][0]["state"] == "met"
    again = await signer.post(f"/api/v1/attestations/{body['serial']}/conditions/1/met", json={"note": "again"})
    assert again.status_code == 409
    missing = await signer.post(f"/api/v1/attestations/{body['serial']}/conditions/2/met", json={"note": "none"})
    assert missing.status_code == 404


async def test_expiry_is_recorded_by_the_first_request_after_it(actors, anon) -> None:
    _, _, _, _, body = await issued(actors)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    await AttestationRow.update({AttestationRow.expires_at: past}).where(AttestationRow.serial == body["serial"])
    seen = (await anon.get(f"/api/v1/attestations/{body['serial']}")).json()
    assert seen["status"] == "expired" and [e["event"] for e in seen["events"]] == ["issue", "expire"]


async def test_lifecycle_is_for_signing_officers_and_the_regulator_admin(actors, anon) -> None:
    provider, reviewer, _, _, body = await issued(actors)
    url = f"/api/v1/attestations/{body['serial']}/suspend"
    for client in (provider, reviewer):
        assert (await client.post(url, json={"reason": "audit"})).status_code == 403
    assert (await anon.post(url, json={"reason": "audit"})).status_code == 401
    admin = await actors.regulator("regulator_admin")
    assert (await admin.post(url, json={"reason": "audit"})).status_code == 200


async def test_never_issued_and_malformed_serials(anon) -> None:
    never = await anon.get("/api/v1/attestations/PA-2026-999999")
    assert never.status_code == 404 and never.json()["type"] == "/problems/never-issued"
    assert (await anon.get("/api/v1/attestations/PA-2026-999999/certificate.pdf")).status_code == 404
    malformed = await anon.get("/api/v1/attestations/not-a-serial")
    assert malformed.status_code == 400 and malformed.json()["field"] == "serial"


async def test_providers_list_their_own_attestations_and_regulators_all(actors) -> None:
    provider, _, signer, _, body = await issued(actors)
    other, _ = await actors.provider()
    mine = await provider.get("/api/v1/attestations")
    assert [a["serial"] for a in mine.json()] == [body["serial"]]
    assert (await other.get("/api/v1/attestations")).json() == []
    org = mine.json()[0]["organisation_id"]
    assert (await other.get(f"/api/v1/attestations?organisation_id={org}")).status_code == 403
    assert [a["serial"] for a in (await signer.get("/api/v1/attestations")).json()] == [body["serial"]]


async def test_portal_verify_accepts_the_certificate_offline_and_refuses_an_altered_one(
    actors, anon, settings, tmp_path
) -> None:
    import json
    import subprocess

    from attestations.certificate import CertificateData, render_certificate
    from tests.served import PORTAL

    _, _, _, _, body = await issued(actors)
    pdf = (await anon.get(f"/api/v1/attestations/{body['serial']}/certificate.pdf")).content
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps((await anon.get("/.well-known/jwks.json")).json()))
    genuine = tmp_path / "certificate.pdf"
    genuine.write_bytes(pdf)
    header, payload, signature = body["token"].split(".")
    forged_signature = ("A" if signature[0] != "A" else "B") + signature[1:]
    altered = tmp_path / "altered.pdf"
    altered.write_bytes(render_certificate(CertificateData.from_token(f"{header}.{payload}.{forged_signature}")))

    def verify(path):
        return subprocess.run(
            [PORTAL, "verify", str(path), "--jwks", str(jwks), "--issuer", "http://testserver"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    ok, bad = await asyncio.gather(asyncio.to_thread(verify, genuine), asyncio.to_thread(verify, altered))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "log inclusion" in ok.stdout and "FAIL" not in ok.stdout
    assert bad.returncode == 1 and "signature" in bad.stdout


async def test_every_lifecycle_event_is_a_log_entry(actors, anon) -> None:
    _, _, signer, _, body = await issued(actors)
    serial = body["serial"]
    await signer.post(f"/api/v1/attestations/{serial}/suspend", json={"reason": "audit"})
    revoked = await signer.post(
        f"/api/v1/attestations/{serial}/revoke", json={"reason": "non_conformity", "detail": "failed audit"}
    )
    indexes = [e["log_index"] for e in revoked.json()["events"]]
    assert all(isinstance(i, int) for i in indexes) and indexes == sorted(indexes)
    entries = (await anon.get(f"/api/v1/log/entries?start={indexes[0]}&end={indexes[-1] + 1}")).json()["entries"]
    ours = [e["body"] for e in entries if e["body"].get("jti") == serial]
    assert [e["event"] for e in ours] == ["issue", "suspend", "revoke"]
    assert ours[2]["reason"] == "non_conformity" and "until" in ours[1]
    proof = await anon.get(f"/api/v1/log/proof/{serial}?event=latest")
    assert proof.status_code == 200 and proof.json()["entry"]["event"] == "revoke"


async def test_kill_9_during_issuance_leaves_a_whole_attestation_or_none(actors, settings) -> None:
    import httpx
    import pyotp

    from portal.db.tables import Assessment, LogEntry
    from tests.conftest import PASSWORD
    from tests.served import Served

    _, _, aid = await recommended(actors)
    signer = await actors.create_user("signing_officer")
    token = ""
    outcomes = []
    for delay in (0.0, 0.02, 0.05, 0.1, 0.3, 1.0):
        server = Served(settings)
        try:
            async with httpx.AsyncClient(base_url=server.base, timeout=10) as client:
                if not token:  # one session for every restart: a one-time code is accepted once
                    code = pyotp.TOTP(actors.totp_secrets[signer["email"]]).now()
                    login = await client.post(
                        "/api/v1/auth/login", json={"email": signer["email"], "password": PASSWORD, "totp": code}
                    )
                    assert login.status_code == 200, login.text
                    token = login.json()["token"]
                task = asyncio.create_task(
                    client.post(
                        f"/api/v1/assessments/{aid}/decide",
                        json={"decision": "issue"},
                        headers={"authorization": f"Bearer {token}"},
                    )
                )
                await asyncio.sleep(delay)
                server.kill()
                try:
                    await task
                except httpx.HTTPError:
                    pass
        finally:
            server.stop()
        state = (await Assessment.select(Assessment.state).where(Assessment.id == aid).first())["state"]
        counts = (
            await AttestationRow.count(),
            await Decision.count(),
            await AttestationEvent.count(),
            await LogEntry.count().where(LogEntry.event == "issue"),
        )
        outcomes.append(state)
        # All of it or none of it: the state, the attestation, its decision, its event and its log entry.
        assert (state, counts) in {("recommended", (0, 0, 0, 0)), ("attested", (1, 1, 1, 1))}, (delay, counts)
        if state == "attested":
            break
    assert outcomes[-1] == "attested", outcomes  # the last delay lets the issuance finish
