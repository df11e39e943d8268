"""Self-assessments: opening, answering, concurrency, submitting, revisions, withdrawal — and who may."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

import controls
from attestations.canonical import canonical_json
from portal.db.tables import Answer, Assessment, AuditEvent, Evidence, Revision

BASELINE = controls.baseline_catalog()
TELECOM = [c.id for c in controls.applicable_controls(BASELINE, controls.ProviderCategory.telecom_operator)]
FUTURE = (dt.date.today() + dt.timedelta(days=90)).isoformat()
SCOPE = {
    "summary": "Mobile and fixed broadband in the Kingdom of Bahrain",
    "services": ["4G/5G mobile", "FTTH broadband"],
    "products": [{"name": "Home router", "model": "GT-R5", "version": "2.1"}],
    "sites": ["Manama core DC", "Riffa DR site"],
}


pytestmark = pytest.mark.usefixtures("baseline")


async def open_assessment(client, **extra) -> dict:
    body = {"catalog_id": BASELINE.id, "catalog_version": BASELINE.version, "scope": SCOPE, **extra}
    response = await client.post("/api/v1/assessments", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def implemented(narrative: str = "Done and documented.", evidence: list[str] | None = None) -> dict:
    return {"status": "implemented", "narrative": narrative, "evidence_ids": evidence or []}


async def answer_all(client, assessment_id: str) -> None:
    for control_id in TELECOM:
        response = await client.put(f"/api/v1/assessments/{assessment_id}/answers/{control_id}", json=implemented())
        assert response.status_code == 200, response.text


async def test_open_lists_every_applicable_control_with_progress(actors) -> None:
    client, me = await actors.provider(category="telecom_operator")
    assessment = await open_assessment(client, title="2026 filing")
    assert assessment["state"] == "draft" and assessment["revision"] == 0 and assessment["title"] == "2026 filing"
    assert assessment["catalog"] == {
        "id": BASELINE.id,
        "version": BASELINE.version,
        "sha256": controls.catalog_digest(BASELINE),
    }
    assert [c["control_id"] for c in assessment["controls"]] == TELECOM
    assert all(c["answer"] is None for c in assessment["controls"])
    assert assessment["progress"]["applicable"] == len(TELECOM) and assessment["progress"]["answered"] == 0
    assert sum(f["applicable"] for f in assessment["progress"]["families"]) == len(TELECOM)
    assert assessment["scope"] == SCOPE and assessment["organisation_id"] == me["organisation_id"]
    assert len(assessment["missing"]) == len(TELECOM)
    listing = await client.get("/api/v1/assessments")
    assert [a["id"] for a in listing.json()] == [assessment["id"]]


async def test_provider_members_open_assessments_and_a_pending_one_prepares_without_submitting(actors, anon) -> None:
    pending, _ = await actors.provider(verified=False)
    prepared = await pending.post(
        "/api/v1/assessments", json={"catalog_id": BASELINE.id, "catalog_version": BASELINE.version, "scope": SCOPE}
    )
    assert prepared.status_code == 201, prepared.text
    refused = await pending.post(f"/api/v1/assessments/{prepared.json()['id']}/submit")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "only verified organisations can submit; yours is pending"
    regulator = await actors.regulator("reviewer")
    body = {"catalog_id": BASELINE.id, "catalog_version": BASELINE.version, "scope": SCOPE}
    assert (await regulator.post("/api/v1/assessments", json=body)).status_code == 403
    assert (await anon.post("/api/v1/assessments", json=body)).status_code == 401
    client, _ = await actors.provider()
    unknown = await client.post("/api/v1/assessments", json={**body, "catalog_version": "9.9.9"})
    assert unknown.status_code == 404 and "9.9.9" in unknown.json()["detail"]
    bad_scope = await client.post("/api/v1/assessments", json={**body, "scope": {"summary": ""}})
    assert bad_scope.status_code == 400 and "scope.summary" in bad_scope.json()["detail"]
    assert await Assessment.count() == 1  # the pending organisation's draft


async def test_answers_need_the_version_they_replace(actors) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    url = f"/api/v1/assessments/{assessment['id']}/answers/{TELECOM[0]}"
    first = await client.put(url, json=implemented("first"))
    assert first.status_code == 200 and first.headers["etag"] == '"1"' and first.json()["version"] == 1
    blind = await client.put(url, json=implemented("overwrite"))
    assert blind.status_code == 428 and blind.json()["current_version"] == 1
    second = await client.put(url, json=implemented("second"), headers={"If-Match": '"1"'})
    assert second.status_code == 200 and second.json()["version"] == 2
    stale = await client.put(url, json=implemented("stale"), headers={"If-Match": '"1"'})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    by_body = await client.put(url, json={**implemented("third"), "version": 2})
    assert by_body.status_code == 200 and by_body.json()["version"] == 3
    stored = await Answer.select(Answer.narrative, Answer.version).first()
    assert stored == {"narrative": "third", "version": 3}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "not_applicable", "narrative": "n/a"}, "justification"),
        ({"status": "planned", "narrative": "next year"}, "planned_date"),
        ({"status": "planned", "narrative": "late", "planned_date": "2020-01-01"}, "planned_date"),
        ({"status": "implemented", "narrative": ""}, "narrative"),
        ({"status": "implemented", "narrative": "x", "planned_date": FUTURE}, "planned_date"),
    ],
)
async def test_answer_rules_name_the_field_and_store_nothing(actors, body, field) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    response = await client.put(f"/api/v1/assessments/{assessment['id']}/answers/{TELECOM[0]}", json=body)
    assert response.status_code == 422 and response.json()["field"] == field
    assert await Answer.count() == 0


async def test_answers_outside_the_assessment_or_with_foreign_evidence_are_refused(actors) -> None:
    client, _ = await actors.provider(category="telecom_operator")
    other, _ = await actors.provider()
    assessment = await open_assessment(client)
    theirs = await open_assessment(other)
    foreign = await other.post(
        f"/api/v1/assessments/{theirs['id']}/evidence", files={"file": ("policy.txt", b"their policy", "text/plain")}
    )
    assert foreign.status_code == 201
    not_applicable_here = next(c.id for c in BASELINE.controls if c.id not in TELECOM)
    outside = await client.put(
        f"/api/v1/assessments/{assessment['id']}/answers/{not_applicable_here}", json=implemented()
    )
    assert outside.status_code == 422 and outside.json()["field"] == "control_id"
    borrowed = await client.put(
        f"/api/v1/assessments/{assessment['id']}/answers/{TELECOM[0]}",
        json=implemented(evidence=[foreign.json()["id"]]),
    )
    assert borrowed.status_code == 422 and borrowed.json()["field"] == "evidence_ids"
    assert await Answer.count() == 0


async def test_tenants_and_the_public_never_see_a_providers_assessment(actors, anon) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    other, _ = await actors.provider()
    reviewer = await actors.regulator("reviewer")
    url = f"/api/v1/assessments/{assessment['id']}"
    assert (await other.get(url)).status_code == 404
    assert (await other.put(f"{url}/answers/{TELECOM[0]}", json=implemented())).status_code == 404
    assert (await other.post(f"{url}/submit")).status_code == 404
    assert (await reviewer.get(url)).status_code == 404  # a draft is the provider's alone
    assert (await anon.get(url)).status_code == 401
    assert (await other.get("/api/v1/assessments")).json() == []
    assert (await reviewer.get("/api/v1/assessments")).json() == []
    denied = await AuditEvent.count().where(AuditEvent.action == "permission.denied")
    assert denied == 4


async def test_submit_checks_completeness_and_freezes_a_revision(actors) -> None:
    admin, me = await actors.provider()
    editor, _ = await actors.member(me["organisation_id"], "provider_editor")
    assessment = await open_assessment(editor)
    aid = assessment["id"]
    incomplete = await admin.post(f"/api/v1/assessments/{aid}/submit")
    assert incomplete.status_code == 422 and len(incomplete.json()["missing"]) == len(TELECOM)
    upload = await editor.post(
        f"/api/v1/assessments/{aid}/evidence",
        files={"file": ("policy.pdf", b"%PDF-1.7\n% security policy\n", "application/pdf")},
    )
    await answer_all(editor, aid)
    await editor.put(
        f"/api/v1/assessments/{aid}/answers/{TELECOM[0]}",
        json={**implemented("See the policy."), "evidence_ids": [upload.json()["id"]]},
        headers={"If-Match": '"1"'},
    )
    assert (await editor.post(f"/api/v1/assessments/{aid}/submit")).status_code == 403  # editors do not submit
    submitted = await admin.post(f"/api/v1/assessments/{aid}/submit")
    assert submitted.status_code == 200
    body = submitted.json()
    assert body["state"] == "submitted" and body["revision"]["number"] == 1
    revision = await admin.get(f"/api/v1/assessments/{aid}/revisions/1")
    document = revision.json()["document"]
    assert revision.json()["sha256"] == body["revision"]["sha256"]
    assert hashlib.sha256(canonical_json(document)).hexdigest() == body["revision"]["sha256"]
    stored = await Revision.select(Revision.document).first()
    assert hashlib.sha256(stored["document"].encode()).hexdigest() == body["revision"]["sha256"]
    assert document["catalog"]["sha256"] == controls.catalog_digest(BASELINE) and document["scope"] == SCOPE
    assert document["answers"][0]["evidence"] == [
        {
            "sha256": upload.json()["sha256"],
            "filename": "policy.pdf",
            "media_type": "application/pdf",
            "size": upload.json()["size"],
        }
    ]
    assert [a["control_id"] for a in document["answers"]] == TELECOM
    assert (await Evidence.select(Evidence.frozen).first())["frozen"] is True
    frozen = await editor.put(
        f"/api/v1/assessments/{aid}/answers/{TELECOM[1]}", json=implemented("late"), headers={"If-Match": '"1"'}
    )
    assert frozen.status_code == 409
    late_upload = await editor.post(
        f"/api/v1/assessments/{aid}/evidence", files={"file": ("x.txt", b"x", "text/plain")}
    )
    assert late_upload.status_code == 409
    reviewer = await actors.regulator("reviewer")
    assert (await reviewer.get(f"/api/v1/assessments/{aid}")).status_code == 200
    assert [a["id"] for a in (await reviewer.get("/api/v1/assessments")).json()] == [aid]
    assert (await admin.get(f"/api/v1/assessments/{aid}/revisions/2")).status_code == 404


async def test_a_returned_assessment_gets_revision_two_and_a_diff(actors) -> None:
    admin, _ = await actors.provider()
    assessment = await open_assessment(admin)
    aid = assessment["id"]
    await answer_all(admin, aid)
    first = (await admin.post(f"/api/v1/assessments/{aid}/submit")).json()
    # A reviewer returning it is a later feature; the state change is made directly here.
    await Assessment.update({Assessment.state: "changes_requested"}).where(Assessment.id == aid)
    changed = await admin.put(
        f"/api/v1/assessments/{aid}/answers/{TELECOM[2]}",
        json={"status": "planned", "narrative": "Rolling out.", "planned_date": FUTURE},
        headers={"If-Match": '"1"'},
    )
    assert changed.status_code == 200
    second = await admin.post(f"/api/v1/assessments/{aid}/submit")
    assert second.json()["revision"]["number"] == 2
    assert second.json()["revision"]["sha256"] != first["revision"]["sha256"]
    diff = await admin.get(f"/api/v1/assessments/{aid}/revisions/2/diff", params={"against": 1})
    assert diff.status_code == 200
    assert diff.json() == {
        "number": 2,
        "against": 1,
        "scope": [],
        "controls": [
            {
                "control_id": TELECOM[2],
                "change": "changed",
                "fields": [
                    {"field": "status", "old": "implemented", "new": "planned"},
                    {"field": "narrative", "old": "Done and documented.", "new": "Rolling out."},
                    {"field": "planned_date", "old": None, "new": FUTURE},
                ],
            }
        ],
    }


async def test_withdraw_until_decided_by_the_provider_admin(actors) -> None:
    admin, me = await actors.provider()
    editor, _ = await actors.member(me["organisation_id"], "provider_editor")
    other, _ = await actors.provider()
    assessment = await open_assessment(admin)
    url = f"/api/v1/assessments/{assessment['id']}/withdraw"
    assert (await editor.post(url)).status_code == 403
    assert (await other.post(url)).status_code == 404
    done = await admin.post(url)
    assert done.status_code == 200 and done.json() == {"id": assessment["id"], "state": "withdrawn"}
    assert (await admin.post(url)).status_code == 409
    event = await AuditEvent.select().where(AuditEvent.action == "assessment.withdrawn").output(load_json=True).first()
    assert event["before"] == {"state": "draft"} and event["after"] == {"state": "withdrawn"}


async def test_every_assessment_endpoint_is_closed_to_other_tenants_and_the_public(actors, anon) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    aid = assessment["id"]
    evidence = await client.post(f"/api/v1/assessments/{aid}/evidence", files={"file": ("a.txt", b"policy text")})
    await answer_all(client, aid)
    assert (await client.post(f"/api/v1/assessments/{aid}/submit")).status_code == 200
    other, _ = await actors.provider()
    other_editor, _ = await actors.member((await other.get("/api/v1/me")).json()["organisation_id"], "provider_editor")
    calls = [
        ("GET", f"/api/v1/assessments/{aid}", None),
        ("PUT", f"/api/v1/assessments/{aid}/answers/{TELECOM[0]}", implemented()),
        ("POST", f"/api/v1/assessments/{aid}/submit", None),
        ("POST", f"/api/v1/assessments/{aid}/withdraw", None),
        ("GET", f"/api/v1/assessments/{aid}/revisions/1", None),
        ("GET", f"/api/v1/assessments/{aid}/revisions/1/diff?against=1", None),
        ("GET", f"/api/v1/assessments/{aid}/evidence", None),
        ("GET", f"/api/v1/evidence/{evidence.json()['id']}", None),
    ]
    for method, url, body in calls:
        for outsider in (other, other_editor):
            response = await outsider.request(method, url, json=body)
            assert response.status_code == 404, (method, url, response.status_code)
            assert "policy text" not in response.text and "Done and documented" not in response.text
        assert (await anon.request(method, url, json=body)).status_code == 401, (method, url)
    upload = await other.post(f"/api/v1/assessments/{aid}/evidence", files={"file": ("b.txt", b"x")})
    assert upload.status_code == 404
    reviewer = await actors.regulator("reviewer")  # regulators read a submitted assessment but never change it
    assert (await reviewer.get(f"/api/v1/assessments/{aid}")).status_code == 200
    for method, url, body in calls[1:4]:
        assert (await reviewer.request(method, url, json=body)).status_code == 403, (method, url)
    assert (await client.get(f"/api/v1/assessments/{aid}")).json()["state"] == "submitted"
