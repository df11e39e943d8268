"""Review: the queue, claims and the claim race, findings, threads, requests for changes, recommendations,
the inbox — behaviour, roles and tenant isolation for each route, and the full round trip."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from portal.db.tables import AuditEvent, Comment, Finding, Recommendation
from tests.api.test_assessments import TELECOM, answer_all, implemented, open_assessment

pytestmark = pytest.mark.usefixtures("baseline")
DUE = (dt.date.today() + dt.timedelta(days=60)).isoformat()


async def submitted(actors, provider=None) -> tuple[object, dict, str]:
    """A provider admin's client, the admin, and the id of their submitted assessment."""
    if provider is None:
        provider = await actors.provider()
    client, me = provider
    assessment = await open_assessment(client)
    await answer_all(client, assessment["id"])
    response = await client.post(f"/api/v1/assessments/{assessment['id']}/submit")
    assert response.status_code == 200, response.text
    return client, me, assessment["id"]


async def reviewer(actors) -> tuple[object, dict]:
    user = await actors.create_user("reviewer")
    return await actors.login(user["email"]), user


async def claimed(actors) -> tuple[object, object, dict, str]:
    """(provider client, reviewer client, reviewer user, assessment id), claimed by that reviewer."""
    provider, _, aid = await submitted(actors)
    client, user = await reviewer(actors)
    response = await client.post(f"/api/v1/assessments/{aid}/claim")
    assert response.status_code == 200, response.text
    return provider, client, user, aid


async def record_all(client, aid: str, verdicts: dict[str, tuple[str, str]] | None = None) -> None:
    """Every control satisfied, except those given as {control: (verdict, comment)}."""
    verdicts = verdicts or {}
    for control_id in TELECOM:
        verdict, comment = verdicts.get(control_id, ("satisfied", ""))
        body = {"verdict": verdict, "comment": comment}
        response = await client.put(f"/api/v1/assessments/{aid}/findings/{control_id}", json=body)
        assert response.status_code == 200, response.text


async def actions(action: str) -> list[dict]:
    return (
        await AuditEvent.select(AuditEvent.before, AuditEvent.after)
        .where(AuditEvent.action == action)
        .order_by(AuditEvent.seq)
        .output(load_json=True)
    )


# --- queue ---------------------------------------------------------------------------------------------------


async def test_queue_lists_submissions_oldest_first_with_filters_and_counts(actors) -> None:
    _, _, first = await submitted(actors)
    _, _, second = await submitted(actors)
    _, _, third = await submitted(actors)
    draft_client, _ = await actors.provider()
    await open_assessment(draft_client)  # a draft never reaches the queue
    me, user = await reviewer(actors)
    assert (await me.post(f"/api/v1/assessments/{second}/claim")).status_code == 200
    queue = await me.get("/api/v1/reviews/queue")
    assert queue.status_code == 200
    body = queue.json()
    assert [i["id"] for i in body["items"]] == [first, second, third]
    assert body["counts"] == {"submitted": 2, "in_review": 1, "changes_requested": 0, "recommended": 0}
    item = body["items"][1]
    assert item["state"] == "in_review" and item["revision"] == 1 and item["resubmission"] is False
    assert (
        item["claimed_by"] == {"id": user["id"], "name": user["email"].split("@")[0]}
        or item["claimed_by"]["id"] == user["id"]
    )
    assert (
        item["days_waiting"] == 0
        and item["catalog"]["id"] == "ppa-baseline"
        and item["provider"].startswith("Provider ")
    )
    assert body["items"][0]["claimed_by"] is None
    mine = (await me.get("/api/v1/reviews/queue", params={"filter": "mine"})).json()
    assert [i["id"] for i in mine["items"]] == [second]
    unclaimed = (await me.get("/api/v1/reviews/queue", params={"filter": "unclaimed"})).json()
    assert [i["id"] for i in unclaimed["items"]] == [first, third]
    returned = (await me.get("/api/v1/reviews/queue", params={"filter": "changes_requested"})).json()
    assert returned["items"] == [] and returned["filter"] == "changes_requested"
    other, _ = await reviewer(actors)
    assert (await other.get("/api/v1/reviews/queue", params={"filter": "mine"})).json()["items"] == []


async def test_only_reviewers_and_regulator_admins_read_the_queue(actors, anon) -> None:
    provider, _ = await actors.provider()
    signer = await actors.regulator("signing_officer")
    admin = await actors.regulator("regulator_admin")
    assert (await provider.get("/api/v1/reviews/queue")).status_code == 403
    assert (await signer.get("/api/v1/reviews/queue")).status_code == 403
    assert (await admin.get("/api/v1/reviews/queue")).status_code == 200
    assert (await anon.get("/api/v1/reviews/queue")).status_code == 401
    bad = await admin.get("/api/v1/reviews/queue", params={"filter": "everything"})
    assert bad.status_code == 400


# --- claims --------------------------------------------------------------------------------------------------


async def test_two_reviewers_claiming_at_once_exactly_one_wins(actors) -> None:
    _, _, aid = await submitted(actors)
    (first, one), (second, two) = await reviewer(actors), await reviewer(actors)
    responses = await asyncio.gather(
        first.post(f"/api/v1/assessments/{aid}/claim"), second.post(f"/api/v1/assessments/{aid}/claim")
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    winner = next(r for r in responses if r.status_code == 200).json()
    assert winner["state"] == "in_review" and winner["claimed_by"]["id"] in {one["id"], two["id"]}
    loser = next(r for r in responses if r.status_code == 409).json()
    assert loser["type"] == "/problems/conflict"
    claims = await actions("review.claimed")
    assert claims == [
        {
            "before": {"state": "submitted", "claimed_by": None},
            "after": {"state": "in_review", "claimed_by": winner["claimed_by"]["id"], "revision": 1},
        }
    ]


async def test_a_claim_racing_an_assignment_never_leaves_two_holders(actors) -> None:
    _, _, aid = await submitted(actors)
    admin = await actors.regulator("regulator_admin")
    (first, _), (_, assignee) = await reviewer(actors), await reviewer(actors)
    responses = await asyncio.gather(
        first.post(f"/api/v1/assessments/{aid}/claim"),
        admin.post(f"/api/v1/assessments/{aid}/assign", json={"reviewer_id": assignee["id"]}),
    )
    won = [r for r in responses if r.status_code == 200]
    # Either one of them wins the move and the other gets 409, or the assignment comes second and takes the
    # review over (a regulator admin may): never two claims of the same submission.
    assert sorted(r.status_code for r in responses) in ([200, 409], [200, 200])
    events = (
        await AuditEvent.select(AuditEvent.action, AuditEvent.after)
        .where(AuditEvent.action.is_in(["review.claimed", "review.assigned"]))
        .order_by(AuditEvent.seq)
        .output(load_json=True)
    )
    assert len(events) == len(won)
    assert [e["after"]["state"] for e in events] == ["in_review"] * len(won)
    if len(won) == 2:
        assert [e["action"] for e in events] == ["review.claimed", "review.assigned"]
    holder = (await admin.get(f"/api/v1/assessments/{aid}/review")).json()["claimed_by"]["id"]
    assert holder == events[-1]["after"]["claimed_by"]


async def test_claim_and_release_by_role(actors) -> None:
    provider, _, aid = await submitted(actors)
    me, user = await reviewer(actors)
    other, _ = await reviewer(actors)
    signer = await actors.regulator("signing_officer")
    assert (await provider.post(f"/api/v1/assessments/{aid}/claim")).status_code == 403
    assert (await signer.post(f"/api/v1/assessments/{aid}/claim")).status_code == 403
    assert (await me.post(f"/api/v1/assessments/{aid}/release")).status_code == 409  # nothing claimed yet
    claim = await me.post(f"/api/v1/assessments/{aid}/claim")
    assert claim.status_code == 200 and claim.json()["claimed_by"]["id"] == user["id"]
    assert (await me.post(f"/api/v1/assessments/{aid}/claim")).status_code == 409
    assert (await other.post(f"/api/v1/assessments/{aid}/release")).status_code == 403
    assert (await provider.post(f"/api/v1/assessments/{aid}/release")).status_code == 403
    released = await me.post(f"/api/v1/assessments/{aid}/release")
    assert released.status_code == 200
    assert released.json() == {
        "id": aid,
        "state": "submitted",
        "revision": 1,
        "claimed_by": None,
        "claimed_at": None,
        "assigned_by": None,
    }
    assert (await actions("review.released")) == [
        {
            "before": {"state": "in_review", "claimed_by": user["id"]},
            "after": {"state": "submitted", "claimed_by": None},
        }
    ]
    assert (await other.post(f"/api/v1/assessments/{aid}/claim")).status_code == 200
    admin = await actors.regulator("regulator_admin")
    assert (await admin.post(f"/api/v1/assessments/{aid}/release")).status_code == 200


async def test_a_regulator_admin_assigns_a_named_reviewer(actors) -> None:
    provider, _, aid = await submitted(actors)
    admin = await actors.regulator("regulator_admin")
    me, user = await reviewer(actors)
    other, other_user = await reviewer(actors)
    signer = await actors.create_user("signing_officer")
    url = f"/api/v1/assessments/{aid}/assign"
    assert (await me.post(url, json={"reviewer_id": user["id"]})).status_code == 403
    assert (await provider.post(url, json={"reviewer_id": user["id"]})).status_code == 403
    not_a_reviewer = await admin.post(url, json={"reviewer_id": signer["id"]})
    assert not_a_reviewer.status_code == 422 and not_a_reviewer.json()["field"] == "reviewer_id"
    assigned = await admin.post(url, json={"reviewer_id": user["id"]})
    assert assigned.status_code == 200
    assert assigned.json()["state"] == "in_review" and assigned.json()["claimed_by"]["id"] == user["id"]
    assert assigned.json()["assigned_by"] is not None
    finding = await me.put(f"/api/v1/assessments/{aid}/findings/{TELECOM[0]}", json={"verdict": "satisfied"})
    assert finding.status_code == 200
    moved = await admin.post(url, json={"reviewer_id": other_user["id"]})
    assert moved.status_code == 200 and moved.json()["claimed_by"]["id"] == other_user["id"]
    assert (
        await me.put(f"/api/v1/assessments/{aid}/findings/{TELECOM[1]}", json={"verdict": "satisfied"})
    ).status_code == 403
    assert (
        await other.put(f"/api/v1/assessments/{aid}/findings/{TELECOM[1]}", json={"verdict": "satisfied"})
    ).status_code == 200
    assert [e["after"]["claimed_by"] for e in await actions("review.assigned")] == [user["id"], other_user["id"]]


# --- findings ------------------------------------------------------------------------------------------------


async def test_findings_rules(actors) -> None:
    provider, me, user, aid = await claimed(actors)
    other, _ = await reviewer(actors)
    url = f"/api/v1/assessments/{aid}/findings"
    from tests.api.test_assessments import BASELINE

    outside = next(c.id for c in BASELINE.controls if c.id not in TELECOM)
    not_applicable = await me.put(f"{url}/{outside}", json={"verdict": "satisfied"})
    assert not_applicable.status_code == 422 and not_applicable.json()["field"] == "control_id"
    no_comment = await me.put(f"{url}/{TELECOM[0]}", json={"verdict": "not_satisfied", "comment": "  "})
    assert no_comment.status_code == 422 and no_comment.json()["field"] == "comment"
    bad_verdict = await me.put(f"{url}/{TELECOM[0]}", json={"verdict": "fine"})
    assert bad_verdict.status_code == 400
    assert (await other.put(f"{url}/{TELECOM[0]}", json={"verdict": "satisfied"})).status_code == 403
    assert (await provider.put(f"{url}/{TELECOM[0]}", json={"verdict": "satisfied"})).status_code == 403
    first = await me.put(f"{url}/{TELECOM[0]}", json={"verdict": "needs_clarification", "comment": "Which sites?"})
    assert first.status_code == 200
    body = first.json()
    assert (body["control_id"], body["revision"], body["verdict"], body["comment"]) == (
        TELECOM[0],
        1,
        "needs_clarification",
        "Which sites?",
    )
    assert body["author"]["id"] == user["id"]
    again = await me.put(f"{url}/{TELECOM[0]}", json={"verdict": "satisfied"})
    assert again.status_code == 200 and again.json()["verdict"] == "satisfied"
    assert await Finding.count() == 1  # one per control per revision
    assert [e["before"] for e in await actions("review.finding")] == [
        None,
        {"control": TELECOM[0], "revision": 1, "verdict": "needs_clarification"},
    ]
    assert (await me.post(f"/api/v1/assessments/{aid}/release")).status_code == 200
    not_in_review = await me.put(f"{url}/{TELECOM[1]}", json={"verdict": "satisfied"})
    assert not_in_review.status_code == 409


# --- comments ------------------------------------------------------------------------------------------------


async def test_internal_notes_never_reach_the_provider(actors) -> None:
    provider, me, _, aid = await claimed(actors)
    url = f"/api/v1/assessments/{aid}/comments"
    note = await me.post(url, json={"body": "INTERNAL: check with CERT", "control_id": TELECOM[0], "internal": True})
    assert note.status_code == 201 and note.json()["internal"] is True and note.json()["author_role"] == "reviewer"
    public = await me.post(url, json={"body": "Please attach the CERT MoU.", "control_id": TELECOM[0]})
    assert public.status_code == 201 and public.json()["internal"] is False
    general = await me.post(url, json={"body": "Thanks for the filing."})
    assert general.status_code == 201 and general.json()["control_id"] is None
    # A reply to an internal note stays internal.
    reply = await me.post(url, json={"body": "INTERNAL: CERT confirmed", "parent_id": note.json()["id"]})
    assert reply.status_code == 201 and reply.json()["internal"] is True
    assert reply.json()["parent_id"] == note.json()["id"] and reply.json()["control_id"] == TELECOM[0]

    seen = await provider.get(url)
    assert seen.status_code == 200
    bodies = [c["body"] for t in seen.json() for c in t["comments"]]
    assert bodies == ["Please attach the CERT MoU.", "Thanks for the filing."]
    assert "INTERNAL" not in seen.text
    page = await provider.get(f"/assessments/{aid}")
    assert page.status_code == 200 and "INTERNAL" not in page.text and "Please attach the CERT MoU." in page.text
    assert (await provider.get(f"/api/v1/assessments/{aid}/review")).status_code == 403
    for leak in ("/api/v1/inbox", "/inbox", f"/assessments/{aid}/revisions/1", "/assessments"):
        response = await provider.get(leak)
        assert response.status_code == 200 and "INTERNAL" not in response.text, leak

    refused = await provider.post(url, json={"body": "sneaky", "internal": True})
    assert refused.status_code == 403
    hidden_parent = await provider.post(url, json={"body": "hello?", "parent_id": note.json()["id"]})
    assert hidden_parent.status_code == 422 and hidden_parent.json()["field"] == "parent_id"
    answer = await provider.post(url, json={"body": "MoU attached.", "parent_id": public.json()["id"]})
    assert answer.status_code == 201
    assert answer.json()["author_role"] == "provider_admin" and answer.json()["control_id"] == TELECOM[0]
    regulator_view = await me.get(url)
    threads = regulator_view.json()
    assert [(t["control_id"], [c["body"] for c in t["comments"]]) for t in threads] == [
        (TELECOM[0], ["INTERNAL: check with CERT", "INTERNAL: CERT confirmed"]),
        (TELECOM[0], ["Please attach the CERT MoU.", "MoU attached."]),
        (None, ["Thanks for the filing."]),
    ]
    assert await Comment.count() == 5
    assert len(await actions("review.comment")) == 5


async def test_comment_rules_and_tenants(actors) -> None:
    _, me, _, aid = await claimed(actors)
    stranger, _ = await actors.provider()
    url = f"/api/v1/assessments/{aid}/comments"
    assert (await stranger.post(url, json={"body": "hi"})).status_code == 404
    assert (await stranger.get(url)).status_code == 404
    unknown = await me.post(url, json={"body": "x", "control_id": "NOPE-99"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "control_id"
    assert (await me.post(url, json={"body": ""})).status_code == 400
    blank = await me.post(url, json={"body": "  \n "})
    assert blank.status_code == 422 and blank.json()["field"] == "body"
    draft_client, _ = await actors.provider()
    draft = await open_assessment(draft_client)
    assert (
        await draft_client.post(f"/api/v1/assessments/{draft['id']}/comments", json={"body": "x"})
    ).status_code == 409
    assert (await me.post(f"/api/v1/assessments/{draft['id']}/comments", json={"body": "x"})).status_code == 404


# --- request changes and recommend ---------------------------------------------------------------------------


async def test_request_changes_needs_an_open_finding(actors) -> None:
    provider, me, _, aid = await claimed(actors)
    url = f"/api/v1/assessments/{aid}/request-changes"
    await record_all(me, aid)
    nothing_open = await me.post(url, json={"message": "Please fix"})
    assert nothing_open.status_code == 422
    assert (await provider.get(f"/api/v1/assessments/{aid}/findings")).status_code == 403  # not handed back yet
    await me.put(
        f"/api/v1/assessments/{aid}/findings/{TELECOM[3]}",
        json={"verdict": "needs_clarification", "comment": "Which logs?"},
    )
    other, _ = await reviewer(actors)
    assert (await other.post(url, json={"message": "Please fix"})).status_code == 403
    assert (await provider.post(url, json={"message": "Please fix"})).status_code == 403
    done = await me.post(url, json={"message": "Please clarify the open point."})
    assert done.status_code == 200
    body = done.json()
    assert body["state"] == "changes_requested" and body["revision"] == 1
    assert [(f["control_id"], f["verdict"], f["comment"]) for f in body["open_findings"]] == [
        (TELECOM[3], "needs_clarification", "Which logs?")
    ]
    assert (await me.post(url, json={"message": "again"})).status_code == 409
    findings = await provider.get(f"/api/v1/assessments/{aid}/findings")
    assert findings.status_code == 200 and findings.json()["open"] == [TELECOM[3]]
    assessment = (await provider.get(f"/api/v1/assessments/{aid}")).json()
    assert assessment["state"] == "changes_requested"
    assert (await actions("review.changes_requested"))[0]["after"] == {
        "state": "changes_requested",
        "revision": 1,
        "open_findings": [TELECOM[3]],
    }


async def test_recommend_approve_needs_every_control_satisfied_or_conditions(actors) -> None:
    _, me, _, aid = await claimed(actors)
    url = f"/api/v1/assessments/{aid}/recommend"
    await record_all(me, aid, {TELECOM[1]: ("not_satisfied", "No IR plan"), TELECOM[2]: ("needs_clarification", "?")})
    full = await me.post(url, json={"decision": "approve", "rationale": "Good overall"})
    assert full.status_code == 422 and full.json()["controls"] == [TELECOM[1], TELECOM[2]]
    partial = await me.post(
        url,
        json={
            "decision": "approve",
            "rationale": "Good overall",
            "level": "conditional",
            "conditions": [{"control_id": TELECOM[1], "text": "Adopt an IR plan", "due_date": DUE}],
        },
    )
    assert partial.status_code == 422 and partial.json()["controls"] == [TELECOM[2]]
    wrong = await me.post(
        url,
        json={
            "decision": "approve",
            "rationale": "Good overall",
            "level": "conditional",
            "conditions": [
                {"control_id": TELECOM[1], "text": "Adopt an IR plan", "due_date": DUE},
                {"control_id": TELECOM[2], "text": "Clarify", "due_date": "2020-01-01"},
                {"control_id": TELECOM[0], "text": "Nothing", "due_date": DUE},
            ],
        },
    )
    assert wrong.status_code == 422 and wrong.json()["controls"] == [TELECOM[2], TELECOM[0]]
    conditions = [
        {"control_id": TELECOM[1], "text": "Adopt an IR plan", "due_date": DUE},
        {"control_id": TELECOM[2], "text": "Document log retention", "due_date": DUE},
    ]
    done = await me.post(
        url, json={"decision": "approve", "rationale": "Good overall", "level": "conditional", "conditions": conditions}
    )
    assert done.status_code == 200, done.text
    recommendation = done.json()["recommendation"]
    assert done.json()["state"] == "recommended"
    assert (recommendation["decision"], recommendation["level"], recommendation["revision"]) == (
        "approve",
        "conditional",
        1,
    )
    assert recommendation["conditions"] == conditions and recommendation["reasons"] == []
    assert (await me.post(url, json={"decision": "approve", "rationale": "again"})).status_code == 409
    assert await Recommendation.count() == 1
    assert (await actions("review.recommended"))[0]["after"]["conditions"] == [TELECOM[1], TELECOM[2]]


async def test_recommend_reject_needs_a_not_satisfied_finding_and_states_reasons(actors) -> None:
    _, me, _, aid = await claimed(actors)
    url = f"/api/v1/assessments/{aid}/recommend"
    await record_all(me, aid, {TELECOM[4]: ("needs_clarification", "Unclear")})
    no_failure = await me.post(url, json={"decision": "reject", "rationale": "No"})
    assert no_failure.status_code == 422 and "not_satisfied" in no_failure.json()["detail"]
    await me.put(
        f"/api/v1/assessments/{aid}/findings/{TELECOM[5]}", json={"verdict": "not_satisfied", "comment": "No consent"}
    )
    stray = await me.post(
        url, json={"decision": "reject", "rationale": "No", "reasons": [{"control_id": TELECOM[0], "text": "x"}]}
    )
    assert stray.status_code == 422 and stray.json()["controls"] == [TELECOM[0]]
    done = await me.post(url, json={"decision": "reject", "rationale": "Consent is missing"})
    assert done.status_code == 200
    recommendation = done.json()["recommendation"]
    assert recommendation["decision"] == "reject" and recommendation["level"] is None
    assert recommendation["reasons"] == [{"control_id": TELECOM[5], "text": "No consent"}]


# --- isolation -----------------------------------------------------------------------------------------------


async def test_providers_and_other_tenants_on_every_review_route(actors) -> None:
    provider, _, aid = await submitted(actors)
    stranger, _ = await actors.provider()
    me, user = await reviewer(actors)
    base = f"/api/v1/assessments/{aid}"
    calls = [
        ("GET", "/review", None),
        ("POST", "/claim", None),
        ("POST", "/release", None),
        ("POST", "/assign", {"reviewer_id": user["id"]}),
        ("PUT", f"/findings/{TELECOM[0]}", {"verdict": "satisfied"}),
        ("GET", "/findings", None),
        ("GET", "/comments", None),
        ("POST", "/comments", {"body": "hello"}),
        ("POST", "/request-changes", {"message": "fix"}),
        ("POST", "/recommend", {"decision": "approve", "rationale": "ok"}),
    ]
    denied_before = await AuditEvent.count().where(AuditEvent.action == "permission.denied")
    for method, path, body in calls:
        response = await stranger.request(method, base + path, json=body)
        assert response.status_code == 404, (path, response.text)
    denied = await AuditEvent.count().where(AuditEvent.action == "permission.denied")
    assert denied - denied_before == len(calls)
    own = {
        (method, path): (await provider.request(method, base + path, json=body)).status_code
        for method, path, body in calls
    }
    assert own == {
        ("GET", "/review"): 403,
        ("POST", "/claim"): 403,
        ("POST", "/release"): 403,
        ("POST", "/assign"): 403,
        ("PUT", f"/findings/{TELECOM[0]}"): 403,
        ("GET", "/findings"): 403,  # not until the review is handed back
        ("GET", "/comments"): 200,
        ("POST", "/comments"): 201,  # the provider talks in the threads
        ("POST", "/request-changes"): 403,
        ("POST", "/recommend"): 403,
    }
    # Regulators never see drafts.
    draft = await open_assessment(provider)
    for method, path, body in calls:
        response = await me.request(method, f"/api/v1/assessments/{draft['id']}{path}", json=body)
        assert response.status_code == 404, (path, response.text)


# --- the whole round trip ------------------------------------------------------------------------------------


async def test_the_full_round_trip(actors) -> None:
    provider, _, aid = await submitted(actors)
    me, user = await reviewer(actors)
    base = f"/api/v1/assessments/{aid}"
    assert (await me.post(f"{base}/claim")).status_code == 200
    await record_all(
        me,
        aid,
        {
            TELECOM[1]: ("not_satisfied", "No incident response plan"),
            TELECOM[2]: ("needs_clarification", "Which sites?"),
        },
    )
    returned = await me.post(f"{base}/request-changes", json={"message": "Two points to address."})
    assert returned.status_code == 200

    # The provider sees the open findings and the message, answers in the thread, amends and resubmits.
    inbox = (await provider.get("/api/v1/inbox")).json()
    assert [i["kind"] for i in inbox["items"]] == ["changes_requested", "comment"]
    assert TELECOM[1] in inbox["items"][0]["detail"] and TELECOM[2] in inbox["items"][0]["detail"]
    page = await provider.get(f"/assessments/{aid}")
    assert "No incident response plan" in page.text and "Two points to address." in page.text
    assert "The reviewer has asked for changes" in page.text
    reply = await provider.post(f"{base}/comments", json={"body": "Plan adopted, see v2.", "control_id": TELECOM[1]})
    assert reply.status_code == 201
    for control_id, narrative in ((TELECOM[1], "IR plan adopted in March."), (TELECOM[2], "All three sites.")):
        amended = await provider.put(
            f"{base}/answers/{control_id}", json=implemented(narrative), headers={"If-Match": '"1"'}
        )
        assert amended.status_code == 200, amended.text
    resubmitted = await provider.post(f"{base}/submit")
    assert resubmitted.status_code == 200 and resubmitted.json()["revision"]["number"] == 2

    queue = (await me.get("/api/v1/reviews/queue", params={"filter": "unclaimed"})).json()
    assert [(i["id"], i["revision"], i["resubmission"], i["last_reviewed_revision"]) for i in queue["items"]] == [
        (aid, 2, True, 1)
    ]
    reviewer_inbox = (await me.get("/api/v1/inbox")).json()
    assert [(i["kind"], i["revision"]) for i in reviewer_inbox["items"]] == [("resubmission", 2)]
    assert (await me.post(f"{base}/claim")).status_code == 200

    view = (await me.get(f"{base}/review")).json()
    assert view["revision"] == 2 and view["against"] == 1
    assert [c["control_id"] for c in view["control_changes"]] == sorted([TELECOM[1], TELECOM[2]])
    assert [c["control_id"] for c in view["controls"][:2]] == [TELECOM[1], TELECOM[2]]  # changed first
    first, second = view["controls"][0], view["controls"][1]
    assert first["changed"] is True and first["status"] == "to_recheck" and first["finding"] is None
    assert first["previous"]["verdict"] == "not_satisfied" and first["previous"]["revision"] == 1
    assert second["status"] == "to_recheck" and second["previous"]["comment"] == "Which sites?"
    assert {f["field"] for f in first["changes"]} == {"narrative"}
    assert first["answer"]["narrative"] == "IR plan adopted in March."
    carried = view["controls"][2:]
    assert {c["status"] for c in carried} == {"carried"}
    assert {c["finding"]["verdict"] for c in carried} == {"satisfied"} and {
        c["finding"]["revision"] for c in carried
    } == {1}
    assert view["progress"]["to_recheck"] == 2 and view["progress"]["reviewed"] == len(TELECOM) - 2
    assert [c["body"] for t in first["threads"] for c in t["comments"]] == ["Plan adopted, see v2."]
    assert view["allowed"]["record_findings"] is True and view["allowed"]["claim"] is False

    early = await me.post(f"{base}/recommend", json={"decision": "approve", "rationale": "All good"})
    assert early.status_code == 422 and early.json()["controls"] == [TELECOM[1], TELECOM[2]]
    for control_id in (TELECOM[1], TELECOM[2]):
        response = await me.put(f"{base}/findings/{control_id}", json={"verdict": "satisfied", "comment": "Resolved."})
        assert response.status_code == 200 and response.json()["revision"] == 2
    findings = (await me.get(f"{base}/findings")).json()
    assert findings["open"] == [] and {f["status"] for f in findings["findings"]} == {"carried", "recorded"}
    done = await me.post(f"{base}/recommend", json={"decision": "approve", "rationale": "All controls satisfied."})
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "recommended"
    assert done.json()["recommendation"]["level"] == "full" and done.json()["recommendation"]["revision"] == 2
    signer = await actors.regulator("signing_officer")
    signer_inbox = (await signer.get("/api/v1/inbox")).json()
    assert [(i["kind"], i["assessment_id"], i["detail"]) for i in signer_inbox["items"]] == [
        ("recommendation", aid, "recommended: approve (full)")
    ]
    assert (await provider.get(f"{base}/findings")).json()["state"] == "recommended"
    audit = [
        row["action"]
        for row in await AuditEvent.select(AuditEvent.action)
        .where(AuditEvent.action.like("review.%"))
        .order_by(AuditEvent.seq)
    ]
    assert audit[0] == "review.claimed" and audit[-1] == "review.recommended"
    assert audit.count("review.changes_requested") == 1 and audit.count("review.claimed") == 2
    assert user["id"] == done.json()["recommendation"]["recommended_by"]["id"]


async def test_every_review_action_is_audited_with_before_and_after(actors) -> None:
    from portal.domain.audit.services import verify_chain

    provider, _, aid = await submitted(actors)
    admin = await actors.regulator("regulator_admin")
    me, user = await reviewer(actors)
    assert (await admin.post(f"/api/v1/assessments/{aid}/assign", json={"reviewer_id": user["id"]})).status_code == 200
    await me.put(f"/api/v1/assessments/{aid}/findings/{TELECOM[0]}", json={"verdict": "not_satisfied", "comment": "x"})
    note = await me.post(f"/api/v1/assessments/{aid}/comments", json={"body": "a note", "internal": True})
    await me.post(f"/api/v1/assessments/{aid}/request-changes", json={"message": "fix it"})
    events = (
        await AuditEvent.select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.before, AuditEvent.after)
        .where(AuditEvent.action.like("review.%"))
        .order_by(AuditEvent.seq)
        .output(load_json=True)
    )
    assert [(e["action"], e["actor_id"]) for e in events] == [
        ("review.assigned", events[0]["actor_id"]),
        ("review.finding", user["id"]),
        ("review.comment", user["id"]),
        ("review.changes_requested", user["id"]),
    ]
    assert events[0]["before"] == {"state": "submitted", "claimed_by": None}
    assert events[0]["after"] == {"state": "in_review", "claimed_by": user["id"]}
    assert events[1]["after"] == {"control": TELECOM[0], "revision": 1, "verdict": "not_satisfied"}
    assert events[2]["after"] == {"comment": note.json()["id"], "control": None, "parent": None, "internal": True}
    assert events[3]["before"] == {"state": "in_review", "revision": 1}
    assert (await verify_chain()).ok is True
    assert (await provider.get(f"/api/v1/assessments/{aid}/findings")).json()["open"] == [TELECOM[0]]
