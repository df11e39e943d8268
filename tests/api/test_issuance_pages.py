"""Issuance pages: the signing officers' queue, the decision with its confirmation, the attestation page with
its confirmed lifecycle actions, the provider's list, and the public status page."""

from __future__ import annotations

import pytest

from portal.db.tables import AttestationRow
from tests.api.test_assessment_pages import _csrf
from tests.api.test_issuance import issued, officer, recommended

pytestmark = pytest.mark.usefixtures("baseline")


async def test_the_queue_and_the_decision_page_issue_after_a_confirmation(actors) -> None:
    _, reviewer, aid = await recommended(actors, conditional=True)
    signer = await officer(actors)
    queue = await signer.get("/decisions")
    assert queue.status_code == 200 and f'href="/decisions/{aid}"' in queue.text
    # The reviewer is not a signing officer; a regulator admin sees the queue but is told who decides.
    assert (await reviewer.get("/decisions")).status_code == 403
    page = await signer.get(f"/decisions/{aid}")
    assert page.status_code == 200
    assert "Meets the baseline" in page.text and "Adopt" in page.text and "sha256 " in page.text
    form = {"_csrf_token": _csrf(page.text), "decision": "issue", "valid_days": "90"}
    unconfirmed = await signer.post(f"/decisions/{aid}", data=form)
    assert unconfirmed.status_code == 422 and "tick the box" in unconfirmed.text
    assert await AttestationRow.count() == 0
    done = await signer.post(f"/decisions/{aid}", data={**form, "confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"].endswith("?notice=issued")
    serial = (await AttestationRow.select(AttestationRow.serial).first())["serial"]
    assert done.headers["location"] == f"/attestations/{serial}?notice=issued"


async def test_a_reject_without_a_reason_keeps_the_form(actors) -> None:
    _, _, aid = await recommended(actors)
    signer = await officer(actors)
    page = await signer.get(f"/decisions/{aid}")
    form = {"_csrf_token": _csrf(page.text), "decision": "reject", "reason": "", "confirm": "yes"}
    refused = await signer.post(f"/decisions/{aid}", data=form)
    assert refused.status_code == 422 and "say why the assessment is rejected" in refused.text
    rejected = await signer.post(f"/decisions/{aid}", data={**form, "reason": "Scope does not match the evidence"})
    assert rejected.status_code == 303 and rejected.headers["location"] == "/decisions?notice=rejected-assessment"


async def test_the_public_page_says_the_status_in_words_and_officers_act_with_a_confirmation(actors, anon) -> None:
    provider, _, signer, _, body = await issued(actors)
    serial = body["serial"]
    public = await anon.get(f"/attestations/{serial}")
    assert public.status_code == 200
    assert "This attestation is genuine and in force." in public.text and 'action="/attestations' not in public.text
    assert "narrative" not in public.text
    page = await signer.get(f"/attestations/{serial}")
    assert f'action="/attestations/{serial}/suspend"' in page.text
    form = {"_csrf_token": _csrf(page.text), "reason": "Audit in progress"}
    unconfirmed = await signer.post(f"/attestations/{serial}/suspend", data=form)
    assert unconfirmed.status_code == 422 and "tick the box" in unconfirmed.text
    done = await signer.post(f"/attestations/{serial}/suspend", data={**form, "confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"].endswith("?notice=attestation-suspend")
    assert "is suspended" in (await anon.get(f"/attestations/{serial}")).text
    assert (
        await provider.post(f"/attestations/{serial}/reinstate", data={**form, "confirm": "yes"})
    ).status_code == 403
    page = await signer.get(f"/attestations/{serial}")
    revoke = {"_csrf_token": _csrf(page.text), "reason": "misrepresentation", "detail": "Forged", "confirm": "yes"}
    assert (await signer.post(f"/attestations/{serial}/revoke", data=revoke)).status_code == 303
    assert "has been revoked" in (await anon.get(f"/attestations/{serial}")).text


async def test_the_provider_lists_its_attestations_with_the_certificate(actors) -> None:
    provider, _, _, _, body = await issued(actors)
    page = await provider.get("/attestations")
    assert page.status_code == 200
    assert f"/api/v1/attestations/{body['serial']}/certificate.pdf" in page.text
    other, _ = await actors.provider()
    assert body["serial"] not in (await other.get("/attestations")).text


async def test_a_serial_never_issued_says_so(anon) -> None:
    page = await anon.get("/attestations/PA-2026-999999", headers={"accept": "text/html"})
    assert page.status_code == 404 and "was ever issued" in page.text
