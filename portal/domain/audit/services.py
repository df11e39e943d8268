"""The audit trail: append-only, hash-chained. Every state change, login and refusal is written here."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import msgspec

from attestations.canonical import canonical_digest
from portal.clock import now
from portal.db import atomic
from portal.domain.audit import repo
from portal.domain.context import Caller
from portal.security.principal import Principal

if TYPE_CHECKING:
    from portal.domain.audit.anchors import AuditAnchors

GENESIS = "0" * 64
# Installed by build_runtime: `record` is called from every service as a function, so the anchoring it
# triggers is looked up here rather than passed through every caller.
_anchors: AuditAnchors | None = None


def install_anchors(anchors: AuditAnchors | None) -> None:
    """Make ``record`` anchor the chain's head in the transparency log (``portal.domain.audit.anchors``)."""
    global _anchors
    _anchors = anchors


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
    anchors = _anchors
    async with atomic():
        looked = anchors is not None and anchors.may_be_due(row["at"])
        if looked:
            assert anchors is not None
            await anchors.log.lock()  # the log's lock before the trail's, as issuance takes them
        await repo.lock_head()
        prev_hash = await repo.head_hash() or GENESIS
        digest = event_digest(row, prev_hash)
        seq = await repo.append({**row, "prev_hash": prev_hash, "hash": digest})
        if anchors is not None:
            await anchors.after(seq, digest, row["at"], looked=looked)


class ChainReport(msgspec.Struct, kw_only=True):
    events: int
    ok: bool
    head: str
    problems: list[str]
    anchors: int = 0  # audit-anchor entries of the transparency log checked against the trail
    last_anchor: dict[str, Any] | None = None  # {index, seq, head} of the last one


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
    anchors = await anchors_of_log()
    for anchor in anchors:
        problems += await _anchor_problems(anchor, prev_seq, count)
    last = anchors[-1] if anchors else None
    return ChainReport(
        events=count,
        ok=not problems,
        head=prev_hash,
        problems=problems,
        anchors=len(anchors),
        last_anchor=None if last is None else {k: last[k] for k in ("index", "seq", "head")},
    )


async def anchors_of_log() -> list[dict[str, Any]]:
    """Every ``audit-anchor`` entry of the transparency log, in log order, with its log ``index``."""
    from portal.domain.log import repo as log_repo

    return [{**body, "index": index} for index, body in await log_repo.indexed_bodies_of("audit-anchor")]


async def _anchor_problems(anchor: dict[str, Any], last_seq: int, count: int) -> list[str]:
    where = f"the audit-anchor in log entry {anchor['index']}"
    seq, head = int(anchor["seq"]), str(anchor["head"])
    if seq > last_seq:
        return [
            f"{where} anchors event {seq}, but the trail ends at event {last_seq} ({count} events): "
            "events were deleted from its end"
        ]
    stored = await repo.hash_at(seq)
    if stored is None:
        return [f"{where} anchors event {seq}, which is missing from the trail"]
    if stored != head:
        return [f"{where} anchors event {seq} with hash {head[:16]}…; the trail's event {seq} has {stored[:16]}…"]
    return []
