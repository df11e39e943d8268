"""Queries for assessments, answers, evidence and revisions."""

from __future__ import annotations

import uuid
from typing import Any

from portal.db.tables import Answer, Assessment, Evidence, Organisation, Revision

SUMMARY_COLUMNS = (
    Assessment.id,
    Assessment.organisation,
    Assessment.organisation.name.as_alias("organisation_name"),
    Assessment.organisation.category.as_alias("organisation_category"),
    Assessment.catalog,
    Assessment.catalog.catalog_id.as_alias("catalog_id"),
    Assessment.catalog.version.as_alias("catalog_version"),
    Assessment.catalog.digest.as_alias("catalog_digest"),
    Assessment.title,
    Assessment.state,
    Assessment.revision,
    Assessment.created_at,
    Assessment.updated_at,
)


async def assessment(assessment_id: uuid.UUID) -> dict[str, Any] | None:
    return (
        await Assessment.select(*SUMMARY_COLUMNS, Assessment.scope)
        .where(Assessment.id == assessment_id)
        .output(load_json=True)
        .first()
    )


async def assessments(*, organisation_id: uuid.UUID | None, submitted_only: bool) -> list[dict[str, Any]]:
    query = Assessment.select(*SUMMARY_COLUMNS)
    if organisation_id is not None:
        query = query.where(Assessment.organisation == organisation_id)
    if submitted_only:
        query = query.where(Assessment.revision > 0)
    return await query.order_by(Assessment.updated_at, ascending=False)


async def answers(assessment_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    rows = await Answer.select().where(Answer.assessment == assessment_id).output(load_json=True)
    return {row["control_id"]: row for row in rows}


async def answer(assessment_id: uuid.UUID, control_id: str) -> dict[str, Any] | None:
    return await Answer.select().where(Answer.key == f"{assessment_id}:{control_id}").output(load_json=True).first()


async def answered_counts(assessment_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not assessment_ids:
        return {}
    rows = await Answer.select(Answer.assessment).where(Answer.assessment.is_in(assessment_ids))
    counts: dict[uuid.UUID, int] = {}
    for row in rows:
        counts[row["assessment"]] = counts.get(row["assessment"], 0) + 1
    return counts


async def evidence_items(assessment_id: uuid.UUID) -> list[dict[str, Any]]:
    return await Evidence.select().where(Evidence.assessment == assessment_id).order_by(Evidence.created_at)


async def evidence_item(evidence_id: uuid.UUID) -> dict[str, Any] | None:
    return await Evidence.select().where(Evidence.id == evidence_id).first()


async def sha_in_use(sha256: str) -> bool:
    return await Evidence.exists().where(Evidence.sha256 == sha256)


async def revisions(assessment_id: uuid.UUID) -> list[dict[str, Any]]:
    return (
        await Revision.select(Revision.number, Revision.sha256, Revision.created_at)
        .where(Revision.assessment == assessment_id)
        .order_by(Revision.number)
    )


async def revision(assessment_id: uuid.UUID, number: int) -> dict[str, Any] | None:
    return await Revision.select().where(Revision.key == f"{assessment_id}:{number}").first()


async def organisation(organisation_id: uuid.UUID) -> dict[str, Any] | None:
    return await Organisation.select().where(Organisation.id == organisation_id).first()
