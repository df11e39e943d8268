"""Queries for stored catalog versions."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from portal.db.tables import Catalog

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


async def by_ref(catalog_id: str, version: str) -> dict[str, Any] | None:
    return await Catalog.select(*_SUMMARY).where(Catalog.reference == ref(catalog_id, version)).first()


async def rows(statuses: Collection[str]) -> list[dict[str, Any]]:
    return await Catalog.select(*_SUMMARY).where(Catalog.status.is_in(list(statuses)))


async def versions(catalog_id: str, statuses: Collection[str]) -> list[dict[str, Any]]:
    return await Catalog.select(*_SUMMARY).where(
        (Catalog.catalog_id == catalog_id) & Catalog.status.is_in(list(statuses))
    )


async def by_id(row_id: uuid.UUID) -> dict[str, Any] | None:
    return await Catalog.select(*_SUMMARY).where(Catalog.id == row_id).first()


async def document(row_id: uuid.UUID) -> str:
    """The catalog's JSON text exactly as stored."""
    row = await Catalog.select(Catalog.document).where(Catalog.id == row_id).first()
    if row is None:
        raise LookupError(row_id)
    return str(row["document"])


async def insert(values: dict[str, Any]) -> uuid.UUID:
    row = Catalog(**values)
    await row.save()
    return row.id


async def update_if(row_id: uuid.UUID, status: str, changes: dict[Any, Any]) -> bool:
    """Apply ``changes`` only while the row still has ``status``; whether it did (a concurrent change wins)."""
    updated = (
        await Catalog.update(changes).where((Catalog.id == row_id) & (Catalog.status == status)).returning(Catalog.id)
    )
    return bool(updated)


async def count() -> int:
    return int(await Catalog.count())
