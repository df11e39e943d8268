"""Queries for stored catalog versions."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from typing import Any

import msgspec

from portal.db.tables import Catalog

# Column widths, read from the table so a check never drifts from the schema.
ID_MAX: int = Catalog.catalog_id.length or 0
VERSION_MAX: int = Catalog.version.length or 0
TITLE_MAX: int = Catalog.title.length or 0


class CatalogRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    reference: str
    catalog_id: str
    version: str
    title: str
    status: str
    digest: str
    control_count: int
    created_at: dt.datetime
    published_at: dt.datetime | None
    published_by: uuid.UUID | None
    retired_at: dt.datetime | None


def _record(row: dict[str, Any] | None) -> CatalogRecord | None:
    return None if row is None else msgspec.convert(row, CatalogRecord)


# Everything but the document, which is read only when a catalog is opened.
_SUMMARY = (
    Catalog.id,
    Catalog.reference,
    Catalog.catalog_id,
    Catalog.version,
    Catalog.title,
    Catalog.status,
    Catalog.digest,
    Catalog.control_count,
    Catalog.created_at,
    Catalog.published_at,
    Catalog.published_by,
    Catalog.retired_at,
)


def ref(catalog_id: str, version: str) -> str:
    return f"{catalog_id}@{version}"


async def by_ref(catalog_id: str, version: str) -> CatalogRecord | None:
    return _record(await Catalog.select(*_SUMMARY).where(Catalog.reference == ref(catalog_id, version)).first())


async def rows(statuses: Collection[str]) -> list[CatalogRecord]:
    found = await Catalog.select(*_SUMMARY).where(Catalog.status.is_in(list(statuses)))
    return [msgspec.convert(row, CatalogRecord) for row in found]


async def versions(catalog_id: str, statuses: Collection[str]) -> list[CatalogRecord]:
    found = await Catalog.select(*_SUMMARY).where(
        (Catalog.catalog_id == catalog_id) & Catalog.status.is_in(list(statuses))
    )
    return [msgspec.convert(row, CatalogRecord) for row in found]


async def by_id(row_id: uuid.UUID) -> CatalogRecord | None:
    return _record(await Catalog.select(*_SUMMARY).where(Catalog.id == row_id).first())


async def document(row_id: uuid.UUID) -> str:
    """The catalog's JSON text exactly as stored."""
    row = await Catalog.select(Catalog.document).where(Catalog.id == row_id).first()
    if row is None:
        raise LookupError(row_id)
    return str(row["document"])


async def insert(values: dict[str, Any]) -> uuid.UUID:
    row = Catalog(**values)
    await row.save()
    return uuid.UUID(str(row.id))


async def _update_if(row_id: uuid.UUID, status: str, changes: dict[Any, Any]) -> bool:
    """Apply ``changes`` only while the row still has ``status``; whether it did (a concurrent change wins)."""
    updated = (
        await Catalog.update(changes).where((Catalog.id == row_id) & (Catalog.status == status)).returning(Catalog.id)
    )
    return bool(updated)


async def replace_draft(row_id: uuid.UUID, content: dict[str, Any]) -> bool:
    return await _update_if(row_id, "draft", {getattr(Catalog, name): value for name, value in content.items()})


async def move_status(row_id: uuid.UUID, current: str, status: str, *, at: dt.datetime, by: uuid.UUID | None) -> bool:
    changes: dict[Any, Any] = {Catalog.status: status}
    if status == "published":
        changes |= {Catalog.published_at: at, Catalog.published_by: by}
    else:
        changes[Catalog.retired_at] = at
    return await _update_if(row_id, current, changes)


async def count() -> int:
    return int(await Catalog.count())
