"""Queries for the audit trail. Appends serialise on a lock so the chain has one head."""

from __future__ import annotations

from typing import Any

from piccolo.columns import Varchar
from piccolo.engine.postgres import PostgresEngine

from portal.db.tables import AuditEvent

_LOCK_ID = 0x41554454  # "AUDT": serialises appends on PostgreSQL; SQLite's IMMEDIATE lock already does.


def fitted(row: dict[str, Any]) -> dict[str, Any]:
    """What the trail keeps of text that came from outside (an email tried at login, a forwarded client
    address): NUL replaced and each value cut to its column's length, so recording an event never fails."""
    out = dict(row)
    for column in AuditEvent._meta.columns:
        name = column._meta.name
        if isinstance(column, Varchar) and isinstance(out.get(name), str):
            out[name] = out[name].replace("\x00", "\ufffd")[: column.length]
    return out


async def lock_head() -> None:
    """Inside a write transaction: hold the chain's head until commit."""
    engine = AuditEvent._meta.db
    if isinstance(engine, PostgresEngine):
        await engine.run_ddl(f"SELECT pg_advisory_xact_lock({_LOCK_ID})")


async def head_hash() -> str | None:
    last = await AuditEvent.select(AuditEvent.hash).order_by(AuditEvent.seq, ascending=False).first()
    return last["hash"] if last else None


async def append(row: dict[str, Any]) -> int:
    """Insert one event; returns its ``seq``."""
    inserted = await AuditEvent.insert(AuditEvent(**row)).returning(AuditEvent.seq).run()
    return int(inserted[0]["seq"])


async def hash_at(seq: int) -> str | None:
    row = await AuditEvent.select(AuditEvent.hash).where(AuditEvent.seq == seq).first()
    return None if row is None else str(row["hash"])


async def events_after(seq: int, limit: int) -> list[dict[str, Any]]:
    """Raw rows, exactly as stored: the chain is checked over these bytes, so no conversion happens here."""
    return (
        await AuditEvent.select()
        .where(AuditEvent.seq > seq)
        .order_by(AuditEvent.seq)
        .limit(limit)
        .output(load_json=True)
    )


async def actors(action: str, object_id: str) -> set[str]:
    """Who did ``action`` to ``object_id``, successfully, at any time."""
    rows = await AuditEvent.select(AuditEvent.actor_id).where(
        (AuditEvent.action == action) & (AuditEvent.object_id == object_id) & (AuditEvent.outcome == "success")
    )
    return {row["actor_id"] for row in rows if row["actor_id"]}
