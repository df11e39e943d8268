"""Queries for claims, findings, comments and recommendations. Assessment states change only via
:func:`portal.domain.assessments.repo.move`."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import msgspec

from portal.db.tables import Comment, Finding, Recommendation, Review, User


class ReviewRecord(msgspec.Struct, frozen=True, kw_only=True):
    assessment: uuid.UUID
    claimed_by: uuid.UUID | None
    claimed_at: dt.datetime | None
    assigned_by: uuid.UUID | None
    last_reviewer: uuid.UUID | None
    last_reviewed_revision: int


class FindingRecord(msgspec.Struct, frozen=True, kw_only=True):
    control_id: str
    revision: int
    verdict: str
    comment: str
    author: uuid.UUID
    at: dt.datetime


class CommentRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    assessment: uuid.UUID
    control_id: str
    parent: uuid.UUID | None
    body: str
    internal: bool
    author: uuid.UUID
    author_name: str
    author_role: str
    revision: int
    at: dt.datetime


class RecommendationRecord(msgspec.Struct, frozen=True, kw_only=True):
    revision: int
    decision: str
    rationale: str
    level: str
    conditions: list[dict[str, Any]]
    reasons: list[dict[str, Any]]
    recommended_by: uuid.UUID
    at: dt.datetime


_REVIEW_COLUMNS = (
    Review.assessment,
    Review.claimed_by,
    Review.claimed_at,
    Review.assigned_by,
    Review.last_reviewer,
    Review.last_reviewed_revision,
)
_FINDING_COLUMNS = (Finding.control_id, Finding.revision, Finding.verdict, Finding.comment, Finding.author, Finding.at)
_COMMENT_COLUMNS = (
    Comment.id,
    Comment.assessment,
    Comment.control_id,
    Comment.parent,
    Comment.body,
    Comment.internal,
    Comment.author,
    Comment.author_name,
    Comment.author_role,
    Comment.revision,
    Comment.at,
)
_RECOMMENDATION_COLUMNS = (
    Recommendation.revision,
    Recommendation.decision,
    Recommendation.rationale,
    Recommendation.level,
    Recommendation.conditions,
    Recommendation.reasons,
    Recommendation.recommended_by,
    Recommendation.at,
)


# --- claims --------------------------------------------------------------------------------------------------


async def review(assessment_id: uuid.UUID) -> ReviewRecord | None:
    row = await Review.select(*_REVIEW_COLUMNS).where(Review.key == str(assessment_id)).first()
    return None if row is None else msgspec.convert(row, ReviewRecord)


async def reviews(assessment_ids: list[uuid.UUID]) -> dict[uuid.UUID, ReviewRecord]:
    if not assessment_ids:
        return {}
    rows = await Review.select(*_REVIEW_COLUMNS).where(Review.assessment.is_in(assessment_ids))
    return {row["assessment"]: msgspec.convert(row, ReviewRecord) for row in rows}


async def set_claim(
    assessment_id: uuid.UUID, *, claimed_by: uuid.UUID | None, assigned_by: uuid.UUID | None, at: dt.datetime
) -> None:
    """Inside the transaction that moved the assessment: record who holds the review now."""
    values: dict[Any, Any] = {
        Review.claimed_by: claimed_by,
        Review.claimed_at: at if claimed_by else None,
        Review.assigned_by: assigned_by,
        Review.updated_at: at,
    }
    updated = await Review.update(values).where(Review.key == str(assessment_id)).returning(Review.id)
    if not updated:
        await Review.insert(
            Review(
                key=str(assessment_id),
                assessment=assessment_id,
                claimed_by=claimed_by,
                claimed_at=at if claimed_by else None,
                assigned_by=assigned_by,
                updated_at=at,
            )
        ).run()


async def reassign(
    assessment_id: uuid.UUID, *, current: uuid.UUID | None, to: uuid.UUID, by: uuid.UUID, at: dt.datetime
) -> bool:
    """Hand a claimed review to another reviewer, only if ``current`` still holds it; whether it did."""
    holder = Review.claimed_by.is_null() if current is None else Review.claimed_by == current
    where = (Review.key == str(assessment_id)) & holder
    changed = (
        await Review.update(
            {Review.claimed_by: to, Review.claimed_at: at, Review.assigned_by: by, Review.updated_at: at}
        )
        .where(where)
        .returning(Review.id)
    )
    return bool(changed)


async def mark_reviewed(
    assessment_id: uuid.UUID, *, revision: int, reviewer: uuid.UUID, keep_claim: bool, at: dt.datetime
) -> None:
    values: dict[Any, Any] = {
        Review.last_reviewer: reviewer,
        Review.last_reviewed_revision: revision,
        Review.updated_at: at,
    }
    if not keep_claim:
        values |= {Review.claimed_by: None, Review.claimed_at: None, Review.assigned_by: None}
    await Review.update(values).where(Review.key == str(assessment_id))


# --- findings ------------------------------------------------------------------------------------------------


async def findings(assessment_id: uuid.UUID) -> list[FindingRecord]:
    rows = (
        await Finding.select(*_FINDING_COLUMNS)
        .where(Finding.assessment == assessment_id)
        .order_by(Finding.revision)
        .order_by(Finding.control_id)
    )
    return [msgspec.convert(row, FindingRecord) for row in rows]


async def finding(assessment_id: uuid.UUID, revision: int, control_id: str) -> FindingRecord | None:
    row = (
        await Finding.select(*_FINDING_COLUMNS).where(Finding.key == f"{assessment_id}:{revision}:{control_id}").first()
    )
    return None if row is None else msgspec.convert(row, FindingRecord)


async def save_finding(
    assessment_id: uuid.UUID,
    revision: int,
    control_id: str,
    *,
    verdict: str,
    comment: str,
    author: uuid.UUID,
    at: dt.datetime,
) -> None:
    """One finding per control and revision: a second one replaces the first (under the assessment's lock)."""
    key = f"{assessment_id}:{revision}:{control_id}"
    values: dict[Any, Any] = {
        Finding.verdict: verdict,
        Finding.comment: comment,
        Finding.author: author,
        Finding.at: at,
    }
    updated = await Finding.update(values).where(Finding.key == key).returning(Finding.id)
    if not updated:
        await Finding.insert(
            Finding(
                key=key,
                assessment=assessment_id,
                revision=revision,
                control_id=control_id,
                verdict=verdict,
                comment=comment,
                author=author,
                at=at,
            )
        ).run()


# --- comments ------------------------------------------------------------------------------------------------


async def comments(assessment_ids: Iterable[uuid.UUID], *, internal: bool) -> list[CommentRecord]:
    """Comments on the assessments, oldest first; internal notes only when ``internal``."""
    ids = list(assessment_ids)
    if not ids:
        return []
    query = Comment.select(*_COMMENT_COLUMNS).where(Comment.assessment.is_in(ids))
    if not internal:
        query = query.where(Comment.internal == False)  # noqa: E712 - a piccolo expression, not a comparison
    rows = await query.order_by(Comment.at)
    return [msgspec.convert(row, CommentRecord) for row in rows]


async def comment(comment_id: uuid.UUID) -> CommentRecord | None:
    row = await Comment.select(*_COMMENT_COLUMNS).where(Comment.id == comment_id).first()
    return None if row is None else msgspec.convert(row, CommentRecord)


async def insert_comment(**values: Any) -> uuid.UUID:
    row = Comment(**values)
    await row.save()
    return uuid.UUID(str(row.id))


# --- recommendations -----------------------------------------------------------------------------------------


async def latest_recommendation(assessment_id: uuid.UUID) -> RecommendationRecord | None:
    row = (
        await Recommendation.select(*_RECOMMENDATION_COLUMNS)
        .where(Recommendation.assessment == assessment_id)
        .order_by(Recommendation.revision, ascending=False)
        .output(load_json=True)
        .first()
    )
    return None if row is None else msgspec.convert(row, RecommendationRecord)


async def insert_recommendation(assessment_id: uuid.UUID, revision: int, **values: Any) -> None:
    await Recommendation.insert(
        Recommendation(key=f"{assessment_id}:{revision}", assessment=assessment_id, revision=revision, **values)
    ).run()


# --- people --------------------------------------------------------------------------------------------------


async def names(user_ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = sorted({u for u in user_ids if u is not None})
    if not wanted:
        return {}
    rows = await User.select(User.id, User.display_name).where(User.id.is_in(wanted))
    return {row["id"]: row["display_name"] for row in rows}
