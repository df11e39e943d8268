"""Queries for the transparency log. Rows are only ever inserted: nothing here updates or deletes.

The reads that serve the public (proofs, tiles, checkpoints, entries) run as plain SQL through
``portal.db.reads.COMMITTED`` when no transaction is open, and through the ORM inside one (an issuance reads
the proof of the entry it has just appended, not yet committed).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

import msgspec

from portal.db.reads import COMMITTED, Reader, in_transaction, moment
from portal.db.tables import LogCheckpoint, LogEntry, LogNode
from portal.domain.log.tree import Node, key_node, node_key


class EntryRow(msgspec.Struct, frozen=True):
    index: int
    body: str
    leaf_hash: str
    event: str
    jti: str | None
    at: dt.datetime


class NodeRow(msgspec.Struct, frozen=True):
    key: int
    level: int
    index: int
    hash: str


class CheckpointRow(msgspec.Struct, frozen=True):
    size: int
    root_hash: str
    note: str
    at: dt.datetime


async def size() -> int:
    """The number of entries: the last index plus one (indexes are dense)."""
    last = await LogEntry.select(LogEntry.index).order_by(LogEntry.index, ascending=False).first()
    return 0 if last is None else int(last["index"]) + 1


async def insert(entry: EntryRow, nodes: Iterable[tuple[Node, bytes]], checkpoint: CheckpointRow) -> None:
    """One append: the entry, the subtrees it completes and the checkpoint it reaches."""
    await LogEntry.insert(LogEntry(**msgspec.structs.asdict(entry))).run()
    await LogNode.insert(
        *(LogNode(key=node_key(*node), level=node[0], index=node[1], hash=value.hex()) for node, value in nodes)
    ).run()
    await LogCheckpoint.insert(LogCheckpoint(**msgspec.structs.asdict(checkpoint))).run()


async def nodes(wanted: Iterable[Node]) -> dict[Node, bytes]:
    """The stored hashes of ``wanted``, in one query; a missing node is simply absent from the result."""
    keys = sorted({node_key(*node) for node in wanted})
    if not keys:
        return {}
    if not in_transaction():
        marks = ", ".join("?" * len(keys))  # only placeholders go into the text; the keys are parameters
        found = await COMMITTED.rows(f'SELECT "key", hash FROM log_node WHERE "key" IN ({marks})', *keys)  # noqa: S608
        return {key_node(int(key)): bytes.fromhex(value) for key, value in found}
    rows = await LogNode.select(LogNode.key, LogNode.hash).where(LogNode.key.is_in(keys)).run()
    return {key_node(int(row["key"])): bytes.fromhex(row["hash"]) for row in rows}


_LEVEL_SQL = 'SELECT hash FROM log_node WHERE "key" >= ? AND "key" < ? ORDER BY "key"'


async def level_hashes(level: int, start: int, end: int) -> list[bytes]:
    """The hashes of nodes ``start .. end - 1`` of tree ``level``, in order (one key range)."""
    low, high = node_key(level, start), node_key(level, end)
    if not in_transaction():
        return [bytes.fromhex(value) for (value,) in await COMMITTED.rows(_LEVEL_SQL, low, high)]
    rows = (
        await LogNode.select(LogNode.hash)
        .where((LogNode.key >= low) & (LogNode.key < high))
        .order_by(LogNode.key)
        .run()
    )
    return [bytes.fromhex(row["hash"]) for row in rows]


async def node_rows(after_key: int, limit: int) -> list[NodeRow]:
    """Stored nodes in key order (level by level), for ``portal log verify``."""
    rows = await LogNode.select().where(LogNode.key > after_key).order_by(LogNode.key).limit(limit).run()
    return msgspec.convert(rows, list[NodeRow])


async def entries(start: int, end: int) -> list[EntryRow]:
    rows = (
        await LogEntry.select().where((LogEntry.index >= start) & (LogEntry.index < end)).order_by(LogEntry.index).run()
    )
    return msgspec.convert(rows, list[EntryRow])


_BODIES_SQL = 'SELECT body FROM log_entry WHERE "index" >= ? AND "index" < ? ORDER BY "index"'


async def entry_bodies(start: int, end: int) -> list[str]:
    if not in_transaction():
        return [str(body) for (body,) in await COMMITTED.rows(_BODIES_SQL, start, end)]
    rows = (
        await LogEntry.select(LogEntry.body)
        .where((LogEntry.index >= start) & (LogEntry.index < end))
        .order_by(LogEntry.index)
        .run()
    )
    return [row["body"] for row in rows]


async def bodies_of(event: str) -> list[dict[str, Any]]:
    """The parsed bodies of every entry of ``event``, in log order (few: keys, anchors)."""
    return [body for _, body in await indexed_bodies_of(event)]


async def indexed_bodies_of(event: str) -> list[tuple[int, dict[str, Any]]]:
    """(index, parsed body) of every entry of ``event``, in log order."""
    rows = (
        await LogEntry.select(LogEntry.index, LogEntry.body)
        .where(LogEntry.event == event)
        .order_by(LogEntry.index)
        .run()
    )
    return [(int(row["index"]), json.loads(row["body"])) for row in rows]


async def latest_of(event: str) -> dict[str, Any] | None:
    """The body of the last entry of ``event``, or ``None``."""
    row = (
        await LogEntry.select(LogEntry.body)
        .where(LogEntry.event == event)
        .order_by(LogEntry.index, ascending=False)
        .first()
        .run()
    )
    return None if row is None else dict(json.loads(row["body"]))


_ENTRY = 'SELECT "index", body, leaf_hash, event, jti, at FROM log_entry WHERE jti = ?'
_FIRST_OF_SQL = _ENTRY + ' AND event = ? ORDER BY "index" LIMIT 1'
_LATEST_OF_SQL = _ENTRY + ' ORDER BY "index" DESC LIMIT 1'


async def entry_of(jti: str, *, event: str | None) -> EntryRow | None:
    """The first entry of ``event`` for serial ``jti``, or (``event`` None) its latest entry."""
    if not in_transaction():
        if event is None:
            found = await COMMITTED.row(_LATEST_OF_SQL, jti)
        else:
            found = await COMMITTED.row(_FIRST_OF_SQL, jti, event)
        if found is None:
            return None
        index, body, leaf, kind, serial, at = found
        return EntryRow(index=int(index), body=str(body), leaf_hash=str(leaf), event=str(kind), jti=serial,
                        at=moment(at))  # fmt: skip
    query = LogEntry.select().where(LogEntry.jti == jti)
    if event is not None:
        query = query.where(LogEntry.event == event)
    row = await query.order_by(LogEntry.index, ascending=event is not None).first()
    return None if row is None else msgspec.convert(row, EntryRow)


async def entries_of(jti: str) -> list[EntryRow]:
    """Every entry of serial ``jti``, in log order."""
    rows = await LogEntry.select().where(LogEntry.jti == jti).order_by(LogEntry.index).run()
    return msgspec.convert(rows, list[EntryRow])


_LATEST_CHECKPOINT_SQL = "SELECT size, root_hash, note, at FROM log_checkpoint ORDER BY size DESC LIMIT 1"


async def latest_checkpoint() -> CheckpointRow | None:
    if not in_transaction():
        found = await COMMITTED.row(_LATEST_CHECKPOINT_SQL)
        if found is None:
            return None
        size, root, note, at = found
        return CheckpointRow(size=int(size), root_hash=str(root), note=str(note), at=moment(at))
    row = await LogCheckpoint.select().order_by(LogCheckpoint.size, ascending=False).first()
    return None if row is None else msgspec.convert(row, CheckpointRow)


async def checkpoints_after(size: int, limit: int) -> list[CheckpointRow]:
    """Stored checkpoints of tree sizes above ``size``, smallest first (for ``portal log verify``)."""
    rows = await LogCheckpoint.select().where(LogCheckpoint.size > size).order_by(LogCheckpoint.size).limit(limit).run()
    return msgspec.convert(rows, list[CheckpointRow])


async def checkpoint_count() -> int:
    return int(await LogCheckpoint.count())


# --- for readers that follow the log (plain SQL through portal.db.reads) ----------------------------------------

_HEAD_SQL = 'SELECT "index", leaf_hash FROM log_entry ORDER BY "index" DESC LIMIT 1'
_CHANGES_SQL = (
    'SELECT DISTINCT event, jti FROM log_entry WHERE "index" > ? AND "index" <= ? AND (jti IS NOT NULL OR event = ?)'
    " LIMIT ?"
)
_LEAF_SQL = 'SELECT leaf_hash FROM log_entry WHERE "index" = ?'


async def head(reader: Reader) -> tuple[int, str]:
    """The newest entry's index and leaf hash; ``(-1, "")`` for an empty log."""
    found = await reader.row(_HEAD_SQL)
    return (-1, "") if found is None else (int(found[0]), str(found[1]))


async def leaf_hash(reader: Reader, index: int) -> str | None:
    """The leaf hash of entry ``index``; None when there is no such entry."""
    found = await reader.row(_LEAF_SQL, index)
    return None if found is None else str(found[0])


async def changes_between(reader: Reader, after: int, upto: int, most: int) -> tuple[set[str], bool] | None:
    """The serials named by entries ``after + 1 .. upto``, and whether a ``key`` entry is among them; None when
    there are more than ``most`` of them (the caller forgets everything rather than read them all)."""
    rows = await reader.rows(_CHANGES_SQL, after, upto, "key", most + 1)
    if len(rows) > most:
        return None
    return {str(jti) for _, jti in rows if jti is not None}, any(event == "key" for event, _ in rows)
