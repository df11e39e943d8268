"""The review pages used as people would: the queue, claiming, findings, threads, handing back, recommending,
the provider's answer to an open finding, and the inbox — in English and Arabic."""

from __future__ import annotations

import re

import pytest

from portal.db.tables import Assessment, Comment
from tests.api.test_assessments import TELECOM
from tests.api.test_reviews import record_all, reviewer, submitted

pytestmark = pytest.mark.usefixtures("baseline")


def _csrf(page: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)


async def _state(aid: str) -> str:
    return (await Assessment.select(Assessment.state).where(Assessment.id == aid).first())["state"]


async def test_queue_claim_findings_and_hand_back_from_the_pages(actors) -> None:
    provider, _, aid = await submitted(actors)
    me, _ = await reviewer(actors)
    queue = await me.get("/reviews")
    assert queue.status_code == 200 and f'href="/reviews/{aid}"' in queue.text and "0 days" in queue.text
    screen = await me.get(f"/reviews/{aid}")
    assert screen.status_code == 200 and "Claim this review" in screen.text
    assert f'action="/reviews/{aid}/findings/' not in screen.text  # no finding form before the claim
    claim = await me.post(f"/reviews/{aid}/claim", data={"_csrf_token": _csrf(screen.text)})
    assert claim.status_code == 303 and claim.headers["location"] == f"/reviews/{aid}?notice=claimed"
    assert await _state(aid) == "in_review"
    screen = await me.get(claim.headers["location"])
    assert f'action="/reviews/{aid}/findings/{TELECOM[0]}#control-{TELECOM[0]}"' in screen.text
    assert 'id="family-' in screen.text
    token = _csrf(screen.text)
    missing = await me.post(
        f"/reviews/{aid}/findings/{TELECOM[0]}", data={"verdict": "not_satisfied", "comment": "", "_csrf_token": token}
    )
    assert missing.status_code == 422 and "a “not satisfied” finding needs a comment saying why" in missing.text
    saved = await me.post(
        f"/reviews/{aid}/findings/{TELECOM[0]}",
        data={"verdict": "not_satisfied", "comment": "No board approval", "_csrf_token": token},
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/reviews/{aid}?notice=finding-saved#control-{TELECOM[0]}"
    note = await me.post(
        f"/assessments/{aid}/comments",
        data={"body": "INTERNAL: ask the CERT", "control_id": TELECOM[0], "internal": "yes", "_csrf_token": token},
    )
    assert (
        note.status_code == 303 and note.headers["location"] == f"/reviews/{aid}?notice=commented#control-{TELECOM[0]}"
    )
    form = await me.get(f"/reviews/{aid}/request-changes")
    assert form.status_code == 200 and "No board approval" in form.text
    unconfirmed = await me.post(
        f"/reviews/{aid}/request-changes", data={"message": "Please fix", "_csrf_token": _csrf(form.text)}
    )
    assert unconfirmed.status_code == 422 and await _state(aid) == "in_review"
    sent = await me.post(
        f"/reviews/{aid}/request-changes",
        data={"message": "Please fix the open point.", "confirm": "yes", "_csrf_token": _csrf(form.text)},
    )
    assert sent.status_code == 303 and await _state(aid) == "changes_requested"

    # The provider: a banner, the open finding beside its control, and a reply box; never the internal note.
    page = await provider.get(f"/assessments/{aid}")
    assert "The reviewer has asked for changes" in page.text and "No board approval" in page.text
    assert "Please fix the open point." in page.text and "INTERNAL" not in page.text
    family = page.text[: page.text.index(f'id="control-{TELECOM[0]}"')].rsplit('<details class="family"', 1)[1]
    assert family.startswith(" open>")  # the family with the open finding is unfolded
    assert '<blockquote class="body">Please fix the open point.' in page.text  # the message is in the banner
    reply = await provider.post(
        f"/assessments/{aid}/comments",
        data={"body": "Board approved on 3 March.", "control_id": TELECOM[0], "_csrf_token": _csrf(page.text)},
    )
    assert reply.status_code == 303
    assert reply.headers["location"] == f"/assessments/{aid}?notice=commented#control-{TELECOM[0]}"
    sneaky = await provider.post(
        f"/assessments/{aid}/comments",
        data={"body": "x", "internal": "yes", "_csrf_token": _csrf(page.text)},
    )
    assert sneaky.status_code == 403
    assert await Comment.count().where(Comment.internal == False) == 2  # noqa: E712
    inbox = await provider.get("/inbox")
    assert inbox.status_code == 200 and "Please fix the open point." in inbox.text
    arabic = await me.get("/reviews?lang=ar")
    assert arabic.status_code == 200 and "قائمة المراجعة" in arabic.text and "غير مُستلَمة" in arabic.text
    assert (await provider.get("/reviews")).status_code == 403
    assert (await provider.get(f"/reviews/{aid}")).status_code == 403


async def test_recommend_form_and_evidence_opens_in_a_new_tab(actors) -> None:
    client, me_provider = await actors.provider()
    from tests.api.test_assessments import implemented, open_assessment

    assessment = await open_assessment(client)
    aid = assessment["id"]
    upload = await client.post(
        f"/api/v1/assessments/{aid}/evidence", files={"file": ("policy.txt", b"the policy", "text/plain")}
    )
    for control_id in TELECOM:
        evidence = [upload.json()["id"]] if control_id == TELECOM[0] else []
        await client.put(f"/api/v1/assessments/{aid}/answers/{control_id}", json=implemented(evidence=evidence))
    assert (await client.post(f"/api/v1/assessments/{aid}/submit")).status_code == 200
    me, _ = await reviewer(actors)
    assert (await me.post(f"/api/v1/assessments/{aid}/claim")).status_code == 200
    await record_all(me, aid, {TELECOM[1]: ("not_satisfied", "No plan")})
    screen = await me.get(f"/reviews/{aid}")
    link = f'<a href="/api/v1/evidence/{upload.json()["id"]}" target="_blank" rel="noopener">policy.txt</a>'
    assert link in screen.text
    form = await me.get(f"/reviews/{aid}/recommend")
    assert form.status_code == 200 and f'name="condition-{TELECOM[1]}"' in form.text
    token = _csrf(form.text)
    broken = await me.post(
        f"/reviews/{aid}/recommend",
        data={"decision": "approve", "rationale": "Fine", "level": "full", "confirm": "yes", "_csrf_token": token},
    )
    assert broken.status_code == 422 and TELECOM[1] in broken.text and await _state(aid) == "in_review"
    done = await me.post(
        f"/reviews/{aid}/recommend",
        data={
            "decision": "approve",
            "rationale": "Fine apart from the plan",
            "level": "conditional",
            f"condition-{TELECOM[1]}": "Adopt the plan",
            f"due-{TELECOM[1]}": "2099-01-01",
            "confirm": "yes",
            "_csrf_token": token,
        },
    )
    assert done.status_code == 303 and done.headers["location"] == f"/reviews/{aid}?notice=recommended"
    assert await _state(aid) == "recommended"
    signer = await actors.regulator("signing_officer")
    inbox = await signer.get("/inbox")
    assert "approve (conditional)" in inbox.text
    assert "الموافقة (مشروطة)" in (await signer.get("/inbox?lang=ar")).text
    arabic = await signer.get(f"/reviews/{aid}?lang=ar")
    assert arabic.status_code == 200 and 'dir="rtl"' in arabic.text and "Adopt the plan" in arabic.text
    assert me_provider["organisation_id"]


async def test_assign_and_release_from_the_review_screen(actors) -> None:
    _, _, aid = await submitted(actors)
    admin = await actors.regulator("regulator_admin")
    me, user = await reviewer(actors)
    screen = await admin.get(f"/reviews/{aid}")
    assert screen.status_code == 200 and f'<option value="{user["id"]}">' in screen.text
    assert "Claim this review" not in screen.text  # a regulator admin assigns, a reviewer claims
    token = _csrf(screen.text)
    bad = await admin.post(f"/reviews/{aid}/assign", data={"reviewer_id": "not-a-uuid", "_csrf_token": token})
    assert bad.status_code == 422 and await _state(aid) == "submitted"
    assigned = await admin.post(f"/reviews/{aid}/assign", data={"reviewer_id": user["id"], "_csrf_token": token})
    assert assigned.status_code == 303 and assigned.headers["location"] == f"/reviews/{aid}?notice=assigned"
    assert await _state(aid) == "in_review"
    mine = await me.get("/reviews?filter=mine")
    assert f'href="/reviews/{aid}"' in mine.text
    released = await me.post(f"/reviews/{aid}/release", data={"_csrf_token": _csrf(mine.text)})
    assert released.status_code == 303 and await _state(aid) == "submitted"
    again = await me.post(f"/reviews/{aid}/release", data={"_csrf_token": _csrf(mine.text)})
    assert again.status_code == 409 and "only a review in progress can be released" in again.text


async def test_the_reviewer_inbox_shows_the_providers_replies(actors) -> None:
    provider, me_provider, aid = await submitted(actors)
    editor, _ = await actors.member(me_provider["organisation_id"], "provider_editor")
    me, _ = await reviewer(actors)
    assert (await me.post(f"/api/v1/assessments/{aid}/claim")).status_code == 200
    question = await me.post(
        f"/api/v1/assessments/{aid}/comments", json={"body": "Who signs off changes?", "control_id": TELECOM[0]}
    )
    assert [i["kind"] for i in (await provider.get("/api/v1/inbox")).json()["items"]] == ["comment"]
    answer = await editor.post(
        f"/api/v1/assessments/{aid}/comments",
        json={"body": "The CISO, weekly.", "parent_id": question.json()["id"]},
    )
    assert answer.status_code == 201 and answer.json()["author_role"] == "provider_editor"
    assert (await provider.get("/api/v1/inbox")).json()["items"] == []  # answered: nothing waits on them
    items = (await me.get("/api/v1/inbox")).json()["items"]
    assert [(i["kind"], i["detail"], i["href"]) for i in items] == [
        ("in_review", "revision 1: claimed by you", f"/reviews/{aid}"),
        ("comment", "The CISO, weekly.", f"/reviews/{aid}#control-{TELECOM[0]}"),
    ]
    page = await me.get("/inbox")
    assert page.status_code == 200 and "The CISO, weekly." in page.text and "In your review" in page.text


async def test_a_resubmission_opens_on_the_changes_with_the_previous_findings(actors) -> None:
    from tests.api.test_assessments import implemented

    provider, _, aid = await submitted(actors)
    me, _ = await reviewer(actors)
    assert (await me.post(f"/api/v1/assessments/{aid}/claim")).status_code == 200
    await record_all(me, aid, {TELECOM[2]: ("not_satisfied", "No retention period")})
    sent = await me.post(f"/api/v1/assessments/{aid}/request-changes", json={"message": "See the finding."})
    assert sent.status_code == 200
    amended = await provider.put(
        f"/api/v1/assessments/{aid}/answers/{TELECOM[2]}",
        json=implemented("Logs kept 12 months."),
        headers={"If-Match": '"1"'},
    )
    assert amended.status_code == 200
    assert (await provider.post(f"/api/v1/assessments/{aid}/submit")).status_code == 200
    assert (await me.post(f"/api/v1/assessments/{aid}/claim")).status_code == 200
    screen = await me.get(f"/reviews/{aid}")
    assert screen.status_code == 200
    text = screen.text
    assert "Changed since revision 1" in text and f'<a href="#control-{TELECOM[2]}">{TELECOM[2]}</a>' in text
    # The changed control comes first, with its old finding and what changed; the others carry theirs.
    assert text.index(f'id="control-{TELECOM[2]}"') < text.index(f'id="control-{TELECOM[0]}"')
    changed = text[text.index(f'id="control-{TELECOM[2]}"') : text.index(f'id="control-{TELECOM[0]}"')]
    assert "Previous finding" in changed and "No retention period" in changed and "Logs kept 12 months." in changed
    assert "What changed" in changed and "to_recheck" in changed
    assert "Finding carried forward (answer unchanged)" in text
    assert text.count("Finding carried forward (answer unchanged)") == len(TELECOM) - 1
