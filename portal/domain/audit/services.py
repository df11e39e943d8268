"""The audit trail: append-only, hash-chained. Every state change, login and refusal is written here."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from attestations.canonical import canonical_digest
from portal.clock import now
from portal.db import atomic
from portal.domain.audit import repo
from portal.domain.context import Caller
from portal.security.principal import Principal

GENESIS = "0" * 64
# Keys never copied into an audit row, whatever a caller passes in before/after.
_SECRET_KEYS = frozenset({"password", "password_hash", "token", "token_hash", "totp", "totp_secret", "secret"})


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("[redacted]" if k in _SECRET_KEYS else _scrub(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return _text(value) if isinstance(value, str) else value


def _text(value: str, limit: int | None = None) -> str:
    """Text from outside as the trail can hold it: no NUL (PostgreSQL refuses one), at most ``limit`` long."""
    return value.replace("\x00", "\ufffd")[:limit]


def _plain(value: Any) -> Any:
    return None if value is None else _scrub(msgspec.to_builtins(value))


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_digest(row: dict[str, Any], prev_hash: str) -> str:
    """The hash that links an event to its predecessor; covers every column but ``seq`` and ``hash``."""
    body = {
        "prev_hash": prev_hash,
        "at": _timestamp(row["at"]),
        **{k: row[k] for k in ("action", "outcome", "actor_id", "actor_label", "actor_org", "client")},
        **{k: row[k] for k in ("object_type", "object_id", "before", "after")},
    }
    return canonical_digest(body)


async def record(
    caller: Caller,
    action: str,
    *,
    outcome: str = "success",
    object_type: str = "",
    object_id: object = "",
    before: Any = None,
    after: Any = None,
) -> None:
    """Append one event, inside the caller's transaction when there is one."""
    actor = caller.principal
    principal = actor if isinstance(actor, Principal) else None
    row: dict[str, Any] = {
        "at": now(),
        "action": action,
        "outcome": outcome,
        "actor_id": str(principal.user_id) if principal else "",
        "actor_label": actor.label if actor is not None else "",
        "actor_org": str(principal.organisation_id) if principal else "",
        "client": caller.client,
        "object_type": object_type,
        "object_id": str(object_id),
        "before": _plain(before),
        "after": _plain(after),
    }
    row = repo.fitted(row)  # hashed as stored
    async with atomic():
        await repo.lock_head()
        prev_hash = await repo.head_hash() or GENESIS
        await repo.append({**row, "prev_hash": prev_hash, "hash": event_digest(row, prev_hash)})


class ChainReport(msgspec.Struct, kw_only=True):
    events: int
    ok: bool
    head: str
    problems: list[str]


async def verify_chain(batch: int = 5000) -> ChainReport:
    """Walk the whole trail; report every edited row (hash mismatch) and every gap (deleted row)."""
    problems: list[str] = []
    prev_hash, prev_seq, count, after_seq = GENESIS, 0, 0, 0
    while True:
        rows = await repo.events_after(after_seq, batch)
        if not rows:
            break
        for row in rows:
            count += 1
            if row["prev_hash"] != prev_hash:
                problems.append(f"event {row['seq']}: does not follow event {prev_seq} (a row was deleted or moved)")
            if event_digest(row, row["prev_hash"]) != row["hash"]:
                problems.append(f"event {row['seq']}: contents do not match its hash (the row was edited)")
            prev_hash, prev_seq = row["hash"], row["seq"]
        after_seq = rows[-1]["seq"]
    return ChainReport(events=count, ok=not problems, head=prev_hash, problems=problems)
