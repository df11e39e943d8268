"""Queries for assessments, answers and revisions. A state changes only through :func:`move`."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import msgspec

from portal.db.tables import Answer, Assessment, Revision
from portal.domain.assessments.states import ASSESSMENT, EDITABLE, State


class AssessmentRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    organisation_id: uuid.UUID
    organisation_name: str
    organisation_category: str | None
    catalog_row_id: uuid.UUID
    catalog_id: str
    catalog_version: str
    catalog_digest: str
    title: str
    state: State
    revision: int
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None = None
    scope: dict[str, Any] = {}


class AnswerRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    control_id: str
    status: str
    narrative: str
    justification: str
    planned_date: dt.date | None
    evidence_ids: list[str]
    version: int
    updated_by: uuid.UUID
    updated_at: dt.datetime


class RevisionRecord(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    sha256: str
    created_at: dt.datetime
    document: str = ""  # the canonical JSON text, byte for byte as hashed


_COLUMNS = (
    Assessment.id,
    Assessment.organisation.as_alias("organisation_id"),
    Assessment.organisation.name.as_alias("organisation_name"),
    Assessment.organisation.category.as_alias("organisation_category"),
    Assessment.catalog.as_alias("catalog_row_id"),
    Assessment.catalog.catalog_id.as_alias("catalog_id"),
    Assessment.catalog.version.as_alias("catalog_version"),
    Assessment.catalog.digest.as_alias("catalog_digest"),
    Assessment.title,
    Assessment.state,
    Assessment.revision,
    Assessment.created_at,
    Assessment.updated_at,
    Assessment.submitted_at,
)
_ANSWER_COLUMNS = (
    Answer.id,
    Answer.control_id,
    Answer.status,
    Answer.narrative,
    Answer.justification,
    Answer.planned_date,
    Answer.evidence_ids,
    Answer.version,
    Answer.updated_by,
    Answer.updated_at,
)


# --- assessments ---------------------------------------------------------------------------------------------


async def get(assessment_id: uuid.UUID) -> AssessmentRecord | None:
    row = (
        await Assessment.select(*_COLUMNS, Assessment.scope)
        .where(Assessment.id == assessment_id)
        .output(load_json=True)
        .first()
    )
    return None if row is None else msgspec.convert(row, AssessmentRecord)


async def listing(*, organisation_id: uuid.UUID | None, submitted_only: bool) -> list[AssessmentRecord]:
    query = Assessment.select(*_COLUMNS)
    if organisation_id is not None:
        query = query.where(Assessment.organisation == organisation_id)
    if submitted_only:
        query = query.where(Assessment.revision > 0)
    rows = await query.order_by(Assessment.updated_at, ascending=False)
    return [msgspec.convert(row, AssessmentRecord) for row in rows]


async def in_states(states: Iterable[State]) -> list[AssessmentRecord]:
    """Assessments in any of ``states``, the longest waiting first."""
    rows = (
        await Assessment.select(*_COLUMNS)
        .where(Assessment.state.is_in([str(s) for s in states]))
        .order_by(Assessment.submitted_at)
    )
    return [msgspec.convert(row, AssessmentRecord) for row in rows]


async def insert(**values: Any) -> uuid.UUID:
    row = Assessment(**values)
    await row.save()
    return uuid.UUID(str(row.id))


async def move(
    assessment_id: uuid.UUID,
    sources: Iterable[State],
    target: State,
    *,
    at: dt.datetime,
    revision: int | None = None,
    values: dict[str, Any] | None = None,
) -> bool:
    """Move the assessment from any of ``sources`` to ``target`` in one compare-and-set; whether it won.

    The table in :mod:`portal.domain.assessments.states` is checked first: asking for a move it does not allow
    is a programming error (:class:`~portal.domain.states.IllegalTransition`). ``revision``, when given, must
    also still match, and ``values`` are further columns written with the move.
    """
    allowed = ASSESSMENT.check(sources, target)
    if values and "state" in values:
        raise ValueError("the state is written by the move itself")
    changes: dict[Any, Any] = {getattr(Assessment, name): value for name, value in (values or {}).items()}
    changes |= {Assessment.state: target, Assessment.updated_at: at}
    where = (Assessment.id == assessment_id) & Assessment.state.is_in([str(s) for s in allowed])
    if revision is not None:
        where &= Assessment.revision == revision
    moved = await Assessment.update(changes).where(where).returning(Assessment.id)
    return bool(moved)


async def touch_if_editable(assessment_id: uuid.UUID, at: dt.datetime) -> bool:
    """Inside a write transaction: take the assessment's lock while it may still change (no state change).

    The update takes the row's lock (PostgreSQL) or the database's write lock (SQLite), so it serialises
    with a submit or a withdraw: nothing is written to an assessment that has just been frozen.
    """
    touched = (
        await Assessment.update({Assessment.updated_at: at})
        .where((Assessment.id == assessment_id) & Assessment.state.is_in([str(s) for s in EDITABLE]))
        .returning(Assessment.id)
    )
    return bool(touched)


async def touch_if(assessment_id: uuid.UUID, states: Iterable[State], revision: int, at: dt.datetime) -> bool:
    """Inside a write transaction: lock the assessment while it is still in ``states`` at ``revision``."""
    touched = (
        await Assessment.update({Assessment.updated_at: at})
        .where(
            (Assessment.id == assessment_id)
            & Assessment.state.is_in([str(s) for s in states])
            & (Assessment.revision == revision)
        )
        .returning(Assessment.id)
    )
    return bool(touched)


# --- answers -------------------------------------------------------------------------------------------------


def _answer(row: dict[str, Any]) -> AnswerRecord:
    return msgspec.convert(row, AnswerRecord)


async def answers(assessment_id: uuid.UUID) -> dict[str, AnswerRecord]:
    rows = await Answer.select(*_ANSWER_COLUMNS).where(Answer.assessment == assessment_id).output(load_json=True)
    return {row["control_id"]: _answer(row) for row in rows}


async def answer(assessment_id: uuid.UUID, control_id: str) -> AnswerRecord | None:
    row = (
        await Answer.select(*_ANSWER_COLUMNS)
        .where(Answer.key == f"{assessment_id}:{control_id}")
        .output(load_json=True)
        .first()
    )
    return None if row is None else _answer(row)


async def insert_answer(
    assessment_id: uuid.UUID, control_id: str, values: dict[str, Any], *, by: uuid.UUID, at: dt.datetime
) -> None:
    await Answer.insert(
        Answer(
            key=f"{assessment_id}:{control_id}",
            assessment=assessment_id,
            control_id=control_id,
            version=1,
            updated_by=by,
            updated_at=at,
            **values,
        )
    ).run()


async def replace_answer(
    answer_id: uuid.UUID, expected_version: int, values: dict[str, Any], *, by: uuid.UUID, at: dt.datetime
) -> bool:
    """Replace an answer only if it still has ``expected_version``; whether it did."""
    changed = (
        await Answer.update(
            {
                **{getattr(Answer, name): value for name, value in values.items()},
                Answer.version: expected_version + 1,
                Answer.updated_by: by,
                Answer.updated_at: at,
            }
        )
        .where((Answer.id == answer_id) & (Answer.version == expected_version))
        .returning(Answer.id)
    )
    return bool(changed)


async def unlink_evidence(assessment_id: uuid.UUID, evidence_id: uuid.UUID) -> None:
    """Every answer that links ``evidence_id`` lets go of it; its version moves on."""
    for found in (await answers(assessment_id)).values():
        if str(evidence_id) in found.evidence_ids:
            kept = [e for e in found.evidence_ids if e != str(evidence_id)]
            await Answer.update({Answer.evidence_ids: kept, Answer.version: found.version + 1}).where(
                Answer.id == found.id
            )


async def answered_counts(assessment_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not assessment_ids:
        return {}
    rows = await Answer.select(Answer.assessment).where(Answer.assessment.is_in(assessment_ids))
    counts: dict[uuid.UUID, int] = {}
    for row in rows:
        counts[row["assessment"]] = counts.get(row["assessment"], 0) + 1
    return counts


# --- revisions -----------------------------------------------------------------------------------------------


async def revisions(assessment_id: uuid.UUID) -> list[RevisionRecord]:
    rows = (
        await Revision.select(Revision.number, Revision.sha256, Revision.created_at)
        .where(Revision.assessment == assessment_id)
        .order_by(Revision.number)
    )
    return [msgspec.convert(row, RevisionRecord) for row in rows]


async def revision(assessment_id: uuid.UUID, number: int) -> RevisionRecord | None:
    row = (
        await Revision.select(Revision.number, Revision.sha256, Revision.created_at, Revision.document)
        .where(Revision.key == f"{assessment_id}:{number}")
        .first()
    )
    return None if row is None else msgspec.convert(row, RevisionRecord)


async def insert_revision(
    assessment_id: uuid.UUID, number: int, body: bytes, sha256: str, *, by: uuid.UUID, at: dt.datetime
) -> None:
    await Revision.insert(
        Revision(
            key=f"{assessment_id}:{number}",
            assessment=assessment_id,
            number=number,
            sha256=sha256,
            document=body.decode(),
            created_by=by,
            created_at=at,
        )
    ).run()
