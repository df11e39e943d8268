"""Queries for decisions, attestations and their events. An attestation's status changes only through ``move``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import msgspec

from portal.db.reads import Reader, moment
from portal.db.tables import AttestationEvent, AttestationRow, Decision
from portal.domain.issuance.states import LIFECYCLE, Status


class AttestationRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    serial: str
    assessment: uuid.UUID
    organisation: uuid.UUID
    scope_sha256: str
    document: dict[str, Any]
    level: str
    status: Status
    status_list: int
    status_index: int
    token: str
    token_sha256: str
    certificate_sha256: str
    valid_from: dt.datetime
    expires_at: dt.datetime
    suspended_until: dt.datetime | None
    superseded_by: str | None
    issued_by: uuid.UUID
    created_at: dt.datetime
    updated_at: dt.datetime


class EventRecord(msgspec.Struct, frozen=True, kw_only=True):
    serial: str
    event: str
    status: str
    reason: str
    detail: str
    until: dt.datetime | None
    actor: uuid.UUID | None
    log_index: int | None
    at: dt.datetime


class DecisionRecord(msgspec.Struct, frozen=True, kw_only=True):
    revision: int
    decision: str
    reason: str
    decided_by: uuid.UUID
    at: dt.datetime


_COLUMNS = tuple(getattr(AttestationRow, name) for name in AttestationRecord.__struct_fields__)
_EVENT_COLUMNS = tuple(getattr(AttestationEvent, name) for name in EventRecord.__struct_fields__)


def _record(row: dict[str, Any] | None) -> AttestationRecord | None:
    return None if row is None else msgspec.convert(row, AttestationRecord)


# --- decisions -------------------------------------------------------------------------------------------------


async def insert_decision(assessment_id: uuid.UUID, revision: int, **values: Any) -> None:
    """Raises the database's unique-violation when the revision already has a decision."""
    await Decision.insert(
        Decision(key=f"{assessment_id}:{revision}", assessment=assessment_id, revision=revision, **values)
    ).run()


async def decision(assessment_id: uuid.UUID) -> DecisionRecord | None:
    row = (
        await Decision.select(Decision.revision, Decision.decision, Decision.reason, Decision.decided_by, Decision.at)
        .where(Decision.assessment == assessment_id)
        .order_by(Decision.revision, ascending=False)
        .first()
    )
    return None if row is None else msgspec.convert(row, DecisionRecord)


# --- attestations ----------------------------------------------------------------------------------------------


async def last_number_in_year(year: int) -> int:
    """The number of the year's newest serial (0 before its first): one step down the serial index, where a
    count of the year's serials read every one of them (a third of a second at 1,000,000)."""
    row = (
        await AttestationRow.select(AttestationRow.serial)
        .where((AttestationRow.serial >= f"PA-{year:04d}-000000") & (AttestationRow.serial <= f"PA-{year:04d}-999999"))
        .order_by(AttestationRow.serial, ascending=False)
        .first()
    )
    return 0 if row is None else int(str(row["serial"])[-6:])


async def insert(**values: Any) -> None:
    await AttestationRow.insert(AttestationRow(**values)).run()


async def by_serial(serial: str) -> AttestationRecord | None:
    return _record(
        await AttestationRow.select(*_COLUMNS).where(AttestationRow.serial == serial).output(load_json=True).first()
    )


async def of_assessment(assessment_id: uuid.UUID) -> AttestationRecord | None:
    rows = (
        await AttestationRow.select(*_COLUMNS)
        .where(AttestationRow.assessment == assessment_id)
        .order_by(AttestationRow.created_at, ascending=False)
        .output(load_json=True)
        .first()
    )
    return _record(rows)


async def listing(*, organisation_id: uuid.UUID | None = None) -> list[AttestationRecord]:
    query = AttestationRow.select(*_COLUMNS)
    if organisation_id is not None:
        query = query.where(AttestationRow.organisation == organisation_id)
    rows = await query.order_by(AttestationRow.created_at, ascending=False).output(load_json=True)
    return [msgspec.convert(row, AttestationRecord) for row in rows]


async def current_for_scope(organisation_id: uuid.UUID, scope_sha256: str) -> list[AttestationRecord]:
    """Attestations of this organisation and scope that a new one supersedes: active or suspended."""
    rows = (
        await AttestationRow.select(*_COLUMNS)
        .where(
            (AttestationRow.organisation == organisation_id)
            & (AttestationRow.scope_sha256 == scope_sha256)
            & AttestationRow.status.is_in([Status.ACTIVE.value, Status.SUSPENDED.value])
        )
        .output(load_json=True)
    )
    return [msgspec.convert(row, AttestationRecord) for row in rows]


async def due_to_expire(at: dt.datetime) -> list[str]:
    rows = await AttestationRow.select(AttestationRow.serial).where(
        (AttestationRow.expires_at <= at) & AttestationRow.status.is_in([Status.ACTIVE.value, Status.SUSPENDED.value])
    )
    return [row["serial"] for row in rows]


async def move(
    serial: str, sources: Iterable[Status], target: Status, *, at: dt.datetime, values: dict[str, Any] | None = None
) -> bool:
    """Move the attestation from any of ``sources`` to ``target`` in one compare-and-set; whether it won."""
    allowed = LIFECYCLE.check(sources, target)
    if values and "status" in values:
        raise ValueError("the status is written by the move itself")
    changes: dict[Any, Any] = {getattr(AttestationRow, name): value for name, value in (values or {}).items()}
    changes |= {AttestationRow.status: target.value, AttestationRow.updated_at: at}
    moved = (
        await AttestationRow.update(changes)
        .where((AttestationRow.serial == serial) & AttestationRow.status.is_in([s.value for s in allowed]))
        .returning(AttestationRow.serial)
    )
    return bool(moved)


async def set_document(serial: str, document: dict[str, Any], at: dt.datetime) -> None:
    """Conditions change state (met, overdue) inside the public document; nothing else of it ever changes."""
    await AttestationRow.update({AttestationRow.document: document, AttestationRow.updated_at: at}).where(
        AttestationRow.serial == serial
    )


# --- events ----------------------------------------------------------------------------------------------------


async def add_event(attestation_id: uuid.UUID, **values: Any) -> None:
    await AttestationEvent.insert(AttestationEvent(attestation=attestation_id, **values)).run()


async def events(serial: str) -> list[EventRecord]:
    rows = (
        await AttestationEvent.select(*_EVENT_COLUMNS)
        .where(AttestationEvent.serial == serial)
        .order_by(AttestationEvent.at)
    )
    return [msgspec.convert(row, EventRecord) for row in rows]


# --- the public read path (plain SQL through portal.db.reads: the status endpoint's hot query) --------------

_STATUS_SQL = "SELECT status, expires_at, superseded_by FROM attestation WHERE serial = ?"


class StatusRow(msgspec.Struct, frozen=True):
    status: Status
    expires_at: dt.datetime
    superseded_by: str | None


async def status_row(reader: Reader, serial: str) -> StatusRow | None:
    found = await reader.row(_STATUS_SQL, serial)
    if found is None:
        return None
    return StatusRow(Status(found[0]), moment(found[1]), found[2])


_REGISTRY_SQL = "SELECT token, status, expires_at, superseded_by FROM attestation WHERE serial = ?"


class RegistryRow(msgspec.Struct, frozen=True):
    """What a verification compares a presented token with: the token issued under the serial, and its status."""

    token: str
    status: Status
    expires_at: dt.datetime
    superseded_by: str | None


async def registry_row(reader: Reader, serial: str) -> RegistryRow | None:
    found = await reader.row(_REGISTRY_SQL, serial)
    if found is None:
        return None
    return RegistryRow(str(found[0]), Status(found[1]), moment(found[2]), found[3])
