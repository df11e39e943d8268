"""Review API: the queue, claims, findings, threads, requests for changes, recommendations and the inbox."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from portal.deps import CallerDep, Inbox, Reviews
from portal.domain.reviews.schemas import (
    AssignIn,
    ClaimOut,
    CommentIn,
    CommentOut,
    FindingIn,
    FindingOut,
    FindingsOut,
    InboxOut,
    QueueFilter,
    QueueOut,
    RecommendIn,
    RecommendOut,
    RequestChangesIn,
    RequestChangesOut,
    ReviewOut,
    Thread,
)
from portal.security.auth import requires_login


class ReviewQueueController(Controller):
    path = "/api/v1"
    tags = ["review"]
    guards = [requires_login]

    @get(
        "/reviews/queue", summary="Submissions waiting for review, oldest first, with counts per state", problems=[403]
    )
    async def queue(
        self, reviews: Reviews, caller: CallerDep, filter: FromQuery[QueueFilter] = QueueFilter.ALL
    ) -> QueueOut:
        return await reviews.queue(caller, filter)

    @get("/inbox", summary="What waits on the caller")
    async def inbox(self, inbox: Inbox, caller: CallerDep) -> InboxOut:
        return await inbox.inbox(caller)


class ReviewsController(Controller):
    path = "/api/v1/assessments/{assessment_id:uuid}"
    tags = ["review"]
    guards = [requires_login]

    @get("/review", summary="The reviewer's view: each control's answer, evidence, finding and threads", problems=[403])
    async def review(self, reviews: Reviews, caller: CallerDep, assessment_id: FromPath[uuid.UUID]) -> ReviewOut:
        return await reviews.review(caller, assessment_id)

    @post(
        "/claim",
        status_code=200,
        summary="Claim a submitted assessment for review (one reviewer at a time)",
        problems=[403, 409],
    )
    async def claim(self, reviews: Reviews, caller: CallerDep, assessment_id: FromPath[uuid.UUID]) -> ClaimOut:
        return await reviews.claim(caller, assessment_id)

    @post("/release", status_code=200, summary="Give a claimed assessment back to the queue", problems=[403, 409])
    async def release(self, reviews: Reviews, caller: CallerDep, assessment_id: FromPath[uuid.UUID]) -> ClaimOut:
        return await reviews.release(caller, assessment_id)

    @post(
        "/assign",
        status_code=200,
        summary="Assign the review to a named reviewer (regulator admin)",
        problems=[403, 409, 422],
    )
    async def assign(
        self, reviews: Reviews, caller: CallerDep, assessment_id: FromPath[uuid.UUID], data: JSONBody[AssignIn]
    ) -> ClaimOut:
        return await reviews.assign(caller, assessment_id, data)

    @get(
        "/findings",
        summary="Each control's finding on the current revision, carried forward where unchanged",
        problems=[403],
    )
    async def findings(self, reviews: Reviews, caller: CallerDep, assessment_id: FromPath[uuid.UUID]) -> FindingsOut:
        return await reviews.findings(caller, assessment_id)

    @put(
        "/findings/{control_id:str}",
        summary="Record the finding on a control (the claiming reviewer)",
        problems=[403, 409, 422],
    )
    async def finding(
        self,
        reviews: Reviews,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        control_id: FromPath[str],
        data: JSONBody[FindingIn],
    ) -> FindingOut:
        return await reviews.record_finding(caller, assessment_id, control_id, data)

    @get("/comments", summary="The assessment's threads (internal notes for regulators only)", problems=[403])
    async def comments(self, reviews: Reviews, caller: CallerDep, assessment_id: FromPath[uuid.UUID]) -> list[Thread]:
        return await reviews.threads(caller, assessment_id)

    @post(
        "/comments",
        status_code=201,
        summary="Comment on the assessment or a control, or answer a thread",
        problems=[403, 409, 422],
    )
    async def comment(
        self, reviews: Reviews, caller: CallerDep, assessment_id: FromPath[uuid.UUID], data: JSONBody[CommentIn]
    ) -> CommentOut:
        return await reviews.comment(caller, assessment_id, data)

    @post(
        "/request-changes",
        status_code=200,
        summary="Hand the assessment back with its open findings",
        problems=[403, 409, 422],
    )
    async def request_changes(
        self,
        reviews: Reviews,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        data: JSONBody[RequestChangesIn],
    ) -> RequestChangesOut:
        return await reviews.request_changes(caller, assessment_id, data)

    @post(
        "/recommend",
        status_code=200,
        summary="Recommend approval or rejection to a signing officer",
        problems=[403, 409, 422],
    )
    async def recommend(
        self, reviews: Reviews, caller: CallerDep, assessment_id: FromPath[uuid.UUID], data: JSONBody[RecommendIn]
    ) -> RecommendOut:
        return await reviews.recommend(caller, assessment_id, data)
