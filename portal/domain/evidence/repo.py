"""Queries for evidence records (the files themselves are in an EvidenceStore)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

from portal.db.tables import Evidence


class EvidenceRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    organisation: uuid.UUID
    assessment: uuid.UUID
    sha256: str
    size: int
    media_type: str
    filename: str
    uploaded_by: uuid.UUID
    created_at: dt.datetime
    frozen: bool


def _record(row: dict[str, Any] | None) -> EvidenceRecord | None:
    return None if row is None else msgspec.convert(row, EvidenceRecord)


async def items(assessment_id: uuid.UUID) -> list[EvidenceRecord]:
    rows = await Evidence.select().where(Evidence.assessment == assessment_id).order_by(Evidence.created_at)
    return [msgspec.convert(row, EvidenceRecord) for row in rows]


async def item(evidence_id: uuid.UUID) -> EvidenceRecord | None:
    return _record(await Evidence.select().where(Evidence.id == evidence_id).first())


async def same_bytes(assessment_id: uuid.UUID, sha256: str) -> EvidenceRecord | None:
    return _record(
        await Evidence.select().where((Evidence.assessment == assessment_id) & (Evidence.sha256 == sha256)).first()
    )


async def owned(assessment_id: uuid.UUID, evidence_ids: list[str]) -> set[str]:
    """Which of ``evidence_ids`` belong to the assessment."""
    if not evidence_ids:
        return set()
    rows = await Evidence.select(Evidence.id).where(
        Evidence.id.is_in(evidence_ids) & (Evidence.assessment == assessment_id)
    )
    return {str(row["id"]) for row in rows}


async def sha_in_use(sha256: str) -> bool:
    return await Evidence.exists().where(Evidence.sha256 == sha256)


async def shas_in_use(sha256s: list[str]) -> set[str]:
    """Which of ``sha256s`` some record uses."""
    used: set[str] = set()
    for start in range(0, len(sha256s), 500):
        batch = sha256s[start : start + 500]
        rows = await Evidence.select(Evidence.sha256).where(Evidence.sha256.is_in(batch)).distinct()
        used |= {row["sha256"] for row in rows}
    return used


async def insert(**values: Any) -> EvidenceRecord:
    row = Evidence(**values)
    await row.save()
    found = await item(row.id)
    assert found is not None
    return found


async def delete(evidence_id: uuid.UUID) -> None:
    await Evidence.delete().where(Evidence.id == evidence_id)


async def freeze(evidence_ids: list[str]) -> None:
    if evidence_ids:
        await Evidence.update({Evidence.frozen: True}).where(Evidence.id.is_in(evidence_ids))
