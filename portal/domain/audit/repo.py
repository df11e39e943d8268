"""Queries for the audit trail. Appends serialise on a lock so the chain has one head."""

from __future__ import annotations

from typing import Any

from piccolo.columns import Varchar
from piccolo.engine.postgres import PostgresEngine

from portal.db.tables import AuditEvent

_LOCK_ID = 0x41554454  # "AUDT": serialises appends on PostgreSQL; SQLite's IMMEDIATE lock already does.


# How much of each text column an event may fill: what comes from outside (an email, a path, an address) is
# cut to fit, so recording a request can never be what fails it.
COLUMN_LENGTHS: dict[str, int] = {
    column._meta.name: column.length
    for column in AuditEvent._meta.columns
    if isinstance(column, Varchar) and column.length is not None
}


async def lock_head() -> None:
    """Inside a write transaction: hold the chain's head until commit."""
    engine = AuditEvent._meta.db
    if isinstance(engine, PostgresEngine):
        await engine.run_ddl(f"SELECT pg_advisory_xact_lock({_LOCK_ID})")


async def head_hash() -> str | None:
    last = await AuditEvent.select(AuditEvent.hash).order_by(AuditEvent.seq, ascending=False).first()
    return last["hash"] if last else None


async def append(row: dict[str, Any]) -> None:
    await AuditEvent.insert(AuditEvent(**row)).run()


async def events_after(seq: int, limit: int) -> list[dict[str, Any]]:
    """Raw rows, exactly as stored: the chain is checked over these bytes, so no conversion happens here."""
    return (
        await AuditEvent.select()
        .where(AuditEvent.seq > seq)
        .order_by(AuditEvent.seq)
        .limit(limit)
        .output(load_json=True)
    )
