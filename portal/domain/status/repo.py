"""Queries for status lists and the indexes handed out in them."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any

import msgspec

from portal.db.reads import COMMITTED, in_transaction
from portal.db.tables import StatusEntry, StatusListRow


class StatusListRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    bits: int
    size: int
    data: bytes
    allocated: int
    version: int
    updated_at: dt.datetime


_COLUMNS = (
    StatusListRow.id,
    StatusListRow.bits,
    StatusListRow.size,
    StatusListRow.data,
    StatusListRow.allocated,
    StatusListRow.version,
    StatusListRow.updated_at,
)


def _record(row: dict[str, Any] | None) -> StatusListRecord | None:
    if row is None:
        return None
    return msgspec.convert({**row, "data": base64.b64decode(row["data"])}, StatusListRecord)


async def get(list_id: int) -> StatusListRecord | None:
    return _record(await StatusListRow.select(*_COLUMNS).where(StatusListRow.id == list_id).first())


async def version(list_id: int) -> int | None:
    """The list's version (it moves with every change): read on every public request for the list."""
    if not in_transaction():
        found = await COMMITTED.row("SELECT version FROM status_list WHERE id = ?", list_id)
        return int(found[0]) if found else None
    row = await StatusListRow.select(StatusListRow.version).where(StatusListRow.id == list_id).first()
    return int(row["version"]) if row else None


async def open_list() -> StatusListRecord | None:
    """The newest list with room left."""
    row = (
        await StatusListRow.select(*_COLUMNS)
        .where(StatusListRow.allocated < StatusListRow.size)
        .order_by(StatusListRow.id, ascending=False)
        .first()
    )
    return _record(row)


async def create(*, bits: int, size: int, data: bytes, at: dt.datetime) -> int:
    row = StatusListRow(
        bits=bits, size=size, data=base64.b64encode(data).decode(), allocated=0, version=1, created_at=at, updated_at=at
    )
    await row.save()
    return int(row.id)


async def index_taken(list_id: int, index: int) -> bool:
    return await StatusEntry.exists().where(StatusEntry.key == f"{list_id}:{index}")


async def taken_indexes(list_id: int) -> set[int]:
    rows = await StatusEntry.select(StatusEntry.idx).where(StatusEntry.status_list == list_id)
    return {int(row["idx"]) for row in rows}


async def hand_out(list_id: int, index: int, serial: str | None, at: dt.datetime) -> None:
    await StatusEntry.insert(
        StatusEntry(
            id=uuid.uuid4(), key=f"{list_id}:{index}", status_list=list_id, idx=index, serial=serial, created_at=at
        )
    ).run()
    await StatusListRow.update({StatusListRow.allocated: StatusListRow.allocated + 1}).where(
        StatusListRow.id == list_id
    )


async def write_data(list_id: int, data: bytes, at: dt.datetime) -> None:
    await StatusListRow.update(
        {
            StatusListRow.data: base64.b64encode(data).decode(),
            StatusListRow.version: StatusListRow.version + 1,
            StatusListRow.updated_at: at,
        }
    ).where(StatusListRow.id == list_id)
