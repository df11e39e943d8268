"""What waits on each person: the provider's returned filings and unanswered comments, the reviewer's queue,
the signing officer's recommendations."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from portal.domain.assessments import repo as assessments_repo
from portal.domain.assessments.repo import AssessmentRecord
from portal.domain.assessments.states import State
from portal.domain.context import Caller
from portal.domain.reviews import repo
from portal.domain.reviews.repo import CommentRecord
from portal.domain.reviews.schemas import InboxItem, InboxOut
from portal.domain.reviews.services import ReviewService
from portal.security.principal import PROVIDER_ROLES, REGULATOR_ROLES, Principal, Role


def _item(
    row: AssessmentRecord, kind: str, detail: str, href: str, at: dt.datetime | None = None, **extra: Any
) -> InboxItem:
    return InboxItem(
        kind=kind,
        assessment_id=row.id,
        title=row.title,
        provider=row.organisation_name,
        state=row.state,
        revision=row.revision,
        at=at or row.submitted_at or row.updated_at,
        detail=detail,
        href=href,
        **extra,
    )


def awaiting_answer(comments: list[CommentRecord], *, from_regulators: bool) -> list[CommentRecord]:
    """The last comment of each thread whose last word is the other side's (regulators' or the provider's)."""
    last: dict[uuid.UUID, CommentRecord] = {}
    for comment in comments:
        last[comment.parent or comment.id] = comment
    roles = REGULATOR_ROLES if from_regulators else PROVIDER_ROLES
    return [c for c in last.values() if c.author_role in roles]


def _snippet(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class InboxService:
    def __init__(self, reviews: ReviewService) -> None:
        self.reviews = reviews

    async def inbox(self, caller: Caller) -> InboxOut:
        principal = caller.actor
        if principal.role in PROVIDER_ROLES:
            items = await self._provider(principal)
        elif principal.role == Role.SIGNING_OFFICER:
            items = await self._signing_officer()
        else:
            items = await self._reviewer(principal)
        items.sort(key=lambda item: item.at.timestamp() if item.at else 0.0)
        return InboxOut(role=principal.role, items=items)

    async def _provider(self, principal: Principal) -> list[InboxItem]:
        rows = await assessments_repo.listing(organisation_id=principal.organisation_id, submitted_only=True)
        live = {r.id: r for r in rows if r.state != State.WITHDRAWN}
        items = []
        for row in live.values():
            if row.state == State.CHANGES_REQUESTED:
                standing, _ = await self.reviews.standings_of(row)
                open_ = [c for c, s in standing.items() if s.is_open]
                detail = f"{len(open_)} open finding(s): {', '.join(open_)}; answer each, amend, then resubmit"
                items.append(
                    _item(row, "changes_requested", detail, f"/assessments/{row.id}", row.updated_at, controls=open_)
                )
        for comment in awaiting_answer(await repo.comments(live, internal=False), from_regulators=True):
            row = live[comment.assessment]
            anchor = f"#control-{comment.control_id}" if comment.control_id else "#threads"
            items.append(
                _item(
                    row,
                    "comment",
                    _snippet(comment.body),
                    f"/assessments/{row.id}{anchor}",
                    comment.at,
                    controls=[comment.control_id] if comment.control_id else [],
                )
            )
        return items

    async def _reviewer(self, principal: Principal) -> list[InboxItem]:
        rows = await assessments_repo.in_states([State.SUBMITTED, State.IN_REVIEW])
        claims = await repo.reviews([r.id for r in rows])
        items = []
        mine: dict[uuid.UUID, AssessmentRecord] = {}
        for row in rows:
            claim = claims.get(row.id)
            if row.state == State.SUBMITTED:
                kind = "resubmission" if row.revision > 1 else "submission"
                detail = f"revision {row.revision} waits for a reviewer"
                items.append(_item(row, kind, detail, f"/reviews/{row.id}"))
            elif claim is not None and claim.claimed_by == principal.user_id:
                mine[row.id] = row
                items.append(_item(row, "in_review", f"revision {row.revision}: claimed by you", f"/reviews/{row.id}"))
        comments = await repo.comments(mine, internal=True)
        for comment in awaiting_answer(comments, from_regulators=False):
            row = mine[comment.assessment]
            anchor = f"#control-{comment.control_id}" if comment.control_id else "#threads"
            items.append(
                _item(
                    row,
                    "comment",
                    _snippet(comment.body),
                    f"/reviews/{row.id}{anchor}",
                    comment.at,
                    controls=[comment.control_id] if comment.control_id else [],
                )
            )
        return items

    async def _signing_officer(self) -> list[InboxItem]:
        items = []
        for row in await assessments_repo.in_states([State.RECOMMENDED]):
            recommendation = await repo.latest_recommendation(row.id)
            detail = (
                f"recommended: {recommendation.decision}"
                + (f" ({recommendation.level})" if recommendation.level else "")
                if recommendation
                else "recommended"
            )
            at = recommendation.at if recommendation else row.updated_at
            items.append(
                _item(
                    row,
                    "recommendation",
                    detail,
                    f"/reviews/{row.id}",
                    at,
                    decision=recommendation.decision if recommendation else None,
                    level=(recommendation.level or None) if recommendation else None,
                )
            )
        return items
