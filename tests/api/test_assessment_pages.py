"""The provider's assessment pages, used as a person would: open, answer, upload, submit, compare."""

from __future__ import annotations

import re

import pytest

from portal.db.tables import Answer, Assessment
from tests.api.test_assessments import BASELINE, TELECOM, answer_all, open_assessment

pytestmark = pytest.mark.usefixtures("baseline")


def _csrf(page: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)


async def test_dashboard_opens_an_assessment_from_the_form(actors) -> None:
    client, _ = await actors.provider()
    page = await client.get("/assessments")
    assert page.status_code == 200 and f'value="{BASELINE.id}@{BASELINE.version}"' in page.text
    response = await client.post(
        "/assessments",
        data={
            "catalog": f"{BASELINE.id}@{BASELINE.version}",
            "title": "Annual filing",
            "summary": "All mobile services",
            "services": "5G\nFTTH\n",
            "products": "Router | R5 | 2.1",
            "sites": "Manama",
            "_csrf_token": _csrf(page.text),
        },
    )
    assert response.status_code == 303
    row = await Assessment.select(Assessment.id, Assessment.scope).output(load_json=True).first()
    assert response.headers["location"] == f"/assessments/{row['id']}?notice=opened"
    assert row["scope"] == {
        "summary": "All mobile services",
        "services": ["5G", "FTTH"],
        "products": [{"name": "Router", "model": "R5", "version": "2.1"}],
        "sites": ["Manama"],
    }
    listing = await client.get("/assessments")
    assert "Annual filing" in listing.text and f"0/{len(TELECOM)}" in listing.text


async def test_dashboard_form_errors_name_the_field(actors) -> None:
    client, _ = await actors.provider()
    page = await client.get("/assessments")
    response = await client.post(
        "/assessments",
        data={"catalog": f"{BASELINE.id}@{BASELINE.version}", "summary": "", "_csrf_token": _csrf(page.text)},
    )
    assert response.status_code == 422 and "summary" in response.text
    assert await Assessment.count() == 0


async def test_answer_form_saves_and_refuses_a_stale_version(actors) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    page = await client.get(f"/assessments/{assessment['id']}")
    assert (
        page.status_code == 200 and f'id="control-{TELECOM[0]}"' in page.text and "Before you can submit" in page.text
    )
    form = {
        "status": "implemented",
        "narrative": "MFA for all admins",
        "justification": "",
        "planned_date": "",
        "version": "0",
        "control_id": TELECOM[0],
        "_csrf_token": _csrf(page.text),
    }
    saved = await client.post(f"/assessments/{assessment['id']}", data=form)
    assert saved.status_code == 303 and saved.headers["location"].endswith(
        f"?notice=saved&open={TELECOM[0]}#control-{TELECOM[0]}"
    )
    stale = await client.post(f"/assessments/{assessment['id']}", data={**form, "narrative": "someone else's edit"})
    # The page answers with the API's status for the same refusal: 409, a stale version.
    assert stale.status_code == 409 and "someone else changed this answer" in stale.text
    assert "someone else&#39;s edit" in stale.text  # the person's text is kept in the form
    assert (await Answer.select(Answer.narrative).first())["narrative"] == "MFA for all admins"


async def test_submit_page_confirms_then_shows_the_frozen_revision(actors) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    blocked = await client.get(f"/assessments/{assessment['id']}/submit")
    assert "cannot be submitted yet" in blocked.text and f"{TELECOM[0]}: not answered" in blocked.text
    await answer_all(client, assessment["id"])
    confirm = await client.get(f"/assessments/{assessment['id']}/submit")
    assert 'name="confirm"' in confirm.text
    unticked = await client.post(f"/assessments/{assessment['id']}/submit", data={"_csrf_token": _csrf(confirm.text)})
    assert unticked.status_code == 422 and await Assessment.count().where(Assessment.state == "submitted") == 0
    done = await client.post(
        f"/assessments/{assessment['id']}/submit", data={"confirm": "yes", "_csrf_token": _csrf(confirm.text)}
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/assessments/{assessment['id']}/revisions/1?notice=submitted"
    revision = await client.get(done.headers["location"])
    sha = (await client.get(f"/api/v1/assessments/{assessment['id']}/revisions/1")).json()["sha256"]
    assert revision.status_code == 200 and sha in revision.text
    detail = await client.get(f"/assessments/{assessment['id']}")
    after_evidence = detail.text.split('id="evidence"')[1]
    assert 'name="control_id"' not in after_evidence and "/evidence/" not in after_evidence  # no answer forms now
    assert f'action="/assessments/{assessment["id"]}/comments"' in after_evidence  # the threads stay open


async def test_regulator_reads_a_submitted_assessment_without_forms(actors) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    await answer_all(client, assessment["id"])
    await client.post(f"/api/v1/assessments/{assessment['id']}/submit")
    reviewer = await actors.regulator("reviewer")
    page = await reviewer.get(f"/assessments/{assessment['id']}")
    assert page.status_code == 200 and "Done and documented." in page.text and 'name="narrative"' not in page.text
    other, _ = await actors.provider()
    refused = await other.get(f"/assessments/{assessment['id']}", headers={"accept": "text/html"})
    assert refused.status_code == 404


async def test_the_page_removes_draft_evidence(actors) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    uploaded = await client.post(
        f"/api/v1/assessments/{assessment['id']}/evidence", files={"file": ("notes.txt", b"meeting notes")}
    )
    page = await client.get(f"/assessments/{assessment['id']}")
    action = f"/assessments/{assessment['id']}/evidence/{uploaded.json()['id']}/delete"
    assert f'action="{action}"' in page.text
    removed = await client.post(action, data={"_csrf_token": _csrf(page.text)})
    assert removed.status_code == 303 and removed.headers["location"].endswith("?notice=evidence-removed#evidence")
    assert "notes.txt" not in (await client.get(f"/assessments/{assessment['id']}")).text


async def test_states_and_statuses_are_translated_in_arabic(actors) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    await client.put(
        f"/api/v1/assessments/{assessment['id']}/answers/{TELECOM[0]}", json={"status": "implemented", "narrative": "x"}
    )
    listing = await client.get("/assessments?lang=ar")
    assert 'dir="rtl"' in listing.text and "مسودة" in listing.text  # "draft"
    detail = await client.get(f"/assessments/{assessment['id']}")
    assert "مطبَّق" in detail.text and "التقييمات الذاتية" in detail.text  # "implemented", "Assessments"
