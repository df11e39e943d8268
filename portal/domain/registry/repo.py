"""Queries for the registry read model, the log events its feeds come from, and the review times it publishes."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import msgspec
from piccolo.columns import Column, Varchar
from piccolo.columns.combination import WhereRaw
from piccolo.engine.postgres import PostgresEngine
from piccolo.query.functions.aggregate import Count, Max
from piccolo.querystring import QueryString

from portal.db.tables import AttestationRow, Decision, LogEntry, Organisation, RegistryEntry, RegistryText, Revision
from portal.domain.issuance.rules import SERIAL_FORM
from portal.domain.registry.rows import RegistryRow, may_be_in_serial, registry_row, search_text

# Lifecycle events of attestations: what the change feed publishes (key and audit-anchor entries are not).
FEED_EVENTS = ("issue", "suspend", "reinstate", "revoke", "expire", "supersede", "condition")


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    serial: str
    status: str
    level: str
    document: dict[str, Any]
    valid_from: dt.datetime
    expires_at: dt.datetime
    superseded_by: str | None
    updated_at: dt.datetime


class Filters(msgspec.Struct, frozen=True, kw_only=True):
    terms: list[str] = []
    category: str | None = None
    country: str | None = None
    status: str | None = None
    catalog_id: str | None = None
    catalog_version: str | None = None


class LogEvent(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    event: str
    jti: str | None
    body: str
    at: dt.datetime


class Decided(msgspec.Struct, frozen=True, kw_only=True):
    submitted_at: dt.datetime
    decided_at: dt.datetime


_ENTRY_COLUMNS = tuple(getattr(RegistryEntry, name) for name in Entry.__struct_fields__)
SORTS: dict[str, tuple[Column, bool]] = {
    "name": (RegistryEntry.sort_name, True),
    "-name": (RegistryEntry.sort_name, False),
    "issued": (RegistryEntry.valid_from, False),  # newest first
    "-issued": (RegistryEntry.valid_from, True),
    "expires": (RegistryEntry.expires_at, True),  # soonest first
    "-expires": (RegistryEntry.expires_at, False),
}


# --- writing -----------------------------------------------------------------------------------------------


async def insert_many(rows: Iterable[RegistryRow]) -> None:
    """Insert rows built by ``rows.registry_row``, and each search text not stored yet, in two statements."""
    batch = list(rows)
    if not batch:
        return
    texts = {
        row.text: RegistryText(
            id=row.text, search=search_text(row.document), category=row.category, country=row.country
        )
        for row in batch
    }
    await RegistryText.insert(*texts.values()).on_conflict(target=RegistryText.id, action="DO NOTHING").run()
    await RegistryEntry.insert(*(RegistryEntry(**msgspec.structs.asdict(row)) for row in batch)).run()


async def refresh(serial: str, *, touched: dt.datetime | None = None) -> None:
    """Inside the caller's write transaction: rewrite the serial's row from the attestation as it is now.

    ``touched`` is when something outside the attestation changed (the organisation's Arabic name), so the
    export's version moves on; otherwise the row changed when the attestation last did."""
    found = (
        await AttestationRow.select(
            AttestationRow.serial,
            AttestationRow.organisation,
            AttestationRow.document,
            AttestationRow.status,
            AttestationRow.level,
            AttestationRow.valid_from,
            AttestationRow.expires_at,
            AttestationRow.superseded_by,
            AttestationRow.updated_at,
        )
        .where(AttestationRow.serial == serial)
        .output(load_json=True)
        .first()
    )
    if found is None:
        return
    organisation = uuid.UUID(str(found["organisation"]))
    named = await Organisation.select(Organisation.name_ar).where(Organisation.id == organisation).first()
    row = registry_row(
        serial=serial,
        organisation=organisation,
        document=found["document"],
        name_ar=(named or {}).get("name_ar") or "",
        status=found["status"],
        level=found["level"],
        valid_from=found["valid_from"],
        expires_at=found["expires_at"],
        superseded_by=found["superseded_by"],
        updated_at=touched or found["updated_at"],
    )
    await RegistryEntry.delete().where(RegistryEntry.serial == serial)
    await insert_many([row])


async def rename(organisation: uuid.UUID, at: dt.datetime) -> None:
    """Inside the caller's write transaction: the organisation's rows again, with its new Arabic name."""
    rows = await RegistryEntry.select(RegistryEntry.serial).where(RegistryEntry.organisation == organisation)
    for row in rows:
        await refresh(row["serial"], touched=at)


async def missing_serials() -> list[str]:
    """Attestations without a registry row (a database from before the registry existed)."""
    if int(await AttestationRow.count()) == int(await RegistryEntry.count()):
        return []
    present = {row["serial"] for row in await RegistryEntry.select(RegistryEntry.serial)}
    return [r["serial"] for r in await AttestationRow.select(AttestationRow.serial) if r["serial"] not in present]


# --- reading -----------------------------------------------------------------------------------------------


def _texts_matching(patterns: list[str], filters: Filters, *, postgres: bool) -> WhereRaw:
    """Entries whose search text contains every pattern, narrowed by category and country already among the
    texts. On PostgreSQL the texts come first, from the trigram index of the small ``registry_text``, as one
    array: the entries are then read by the index on ``text`` alone (a planner that joined instead could
    choose to scan the whole table)."""
    where = ["registry_text.search LIKE {}" for _ in patterns]
    values: list[Any] = list(patterns)
    for name, value in (("category", filters.category), ("country", filters.country)):
        if value is not None:
            where.append(f"registry_text.{name} = {{}}")
            values.append(value)
    texts = f"SELECT id FROM registry_text WHERE {' AND '.join(where)}"  # noqa: S608 -- the values are parameters
    column = '"registry_entry"."text"'
    return WhereRaw(f"{column} = ANY(ARRAY({texts}))" if postgres else f"{column} IN ({texts})", *values)


def _in_serial(term: str, *, postgres: bool) -> WhereRaw:
    """Entries whose serial contains the term: a whole serial is looked up by key; a part of one by LIKE, which
    ignores ASCII case on SQLite, and by ILIKE with the trigram index on serial on PostgreSQL."""
    if SERIAL_FORM.fullmatch(term.upper()):
        return WhereRaw('"registry_entry"."serial" = {}', term.upper())
    return WhereRaw(f'"registry_entry"."serial" {"ILIKE" if postgres else "LIKE"} {{}}', f"%{term}%")


def _conditions(filters: Filters, *, postgres: bool) -> list[Any]:
    """A term matches the serial or the search text; a term no serial can hold is looked for in texts only."""
    conditions: list[Any] = []
    textual = [f"%{term}%" for term in filters.terms if not may_be_in_serial(term)]
    if textual:
        conditions.append(_texts_matching(textual, filters, postgres=postgres))
    for term in filters.terms:
        if may_be_in_serial(term):
            texts = _texts_matching([f"%{term}%"], filters, postgres=postgres)
            conditions.append(texts | _in_serial(term, postgres=postgres))
    for column, value in (
        (RegistryEntry.category, filters.category),
        (RegistryEntry.country, filters.country),
        (RegistryEntry.status, filters.status),
        (RegistryEntry.catalog_id, filters.catalog_id),
        (RegistryEntry.catalog_version, filters.catalog_version),
    ):
        if value is not None:
            conditions.append(column == value)
    return conditions


def _sort_key(column: Column, *, on_postgres: bool, searched: bool) -> Column | QueryString:
    """The sort column, or on PostgreSQL with search terms an expression of it that no index provides.

    A common word matches rows clustered in one stretch of the sort order (names starting "Gulf"), but the
    planner assumes they are spread evenly, walks the sort index and filters half a million rows to find the
    first 20 (1.8 s at 1,000,000). Sorting the matches read from the index on ``text`` costs what matching costs.
    """
    if not (searched and on_postgres):
        return column
    name = column._meta.get_full_name(with_alias=False)
    return QueryString(f"{name} || ''" if isinstance(column, Varchar) else f"{name} + interval '0 s'")


async def search(filters: Filters, *, sort: str, limit: int, offset: int) -> tuple[list[Entry], int]:
    """One page of entries matching every filter, and how many match in all.

    The page's serials are chosen first, from columns the index on ``text`` carries, and only those rows are
    read from the table: a common word matches 50,000 of 1,000,000 entries, whose rows would fill 44,000 pages.
    """
    engine = RegistryEntry._meta.db
    postgres = engine if isinstance(engine, PostgresEngine) else None
    conditions = _conditions(filters, postgres=postgres is not None)
    column, ascending = SORTS[sort]
    chosen = RegistryEntry.select(RegistryEntry.serial)
    counting = RegistryEntry.count()
    if conditions:
        chosen, counting = chosen.where(*conditions), counting.where(*conditions)
    key = _sort_key(column, on_postgres=postgres is not None, searched=bool(filters.terms))
    chosen = chosen.order_by(key, ascending=ascending).order_by(RegistryEntry.serial).limit(limit).offset(offset)
    if postgres is not None and postgres.pool is not None and postgres.current_transaction.get() is None:
        # Side by side on two pooled connections: the answer takes the longer of the two, not their sum (each
        # is true at its own instant; a commit between them can make the total differ by what it changed).
        picked, total = await asyncio.gather(chosen.run(), counting.run())
    else:
        picked, total = await chosen, await counting
    serials = [row["serial"] for row in picked]
    found = await by_serials(serials)
    return [found[serial] for serial in serials if serial in found], int(total)


async def after(serial: str, limit: int) -> list[Entry]:
    """Entries in serial order after ``serial`` (keyset paging, for the export)."""
    rows = (
        await RegistryEntry.select(*_ENTRY_COLUMNS)
        .where(RegistryEntry.serial > serial)
        .order_by(RegistryEntry.serial)
        .limit(limit)
        .output(load_json=True)
    )
    return msgspec.convert(rows, list[Entry])


async def by_serials(serials: Iterable[str]) -> dict[str, Entry]:
    wanted = sorted(set(serials))
    if not wanted:
        return {}
    rows = await RegistryEntry.select(*_ENTRY_COLUMNS).where(RegistryEntry.serial.is_in(wanted)).output(load_json=True)
    return {entry.serial: entry for entry in msgspec.convert(rows, list[Entry])}


async def version() -> tuple[int, dt.datetime | None]:
    """How many entries there are and when the last one changed: what the export's ETag is made of."""
    row = await RegistryEntry.select(Count(), Max(RegistryEntry.updated_at, alias="latest")).first()
    if row is None:
        return 0, None
    latest = row["latest"]
    if isinstance(latest, str):  # SQLite answers an aggregate of timestamps as text
        latest = dt.datetime.fromisoformat(latest)
    if latest is not None and latest.tzinfo is None:
        latest = latest.replace(tzinfo=dt.UTC)
    return int(row["count"]), latest


async def catalogs() -> list[tuple[str, str]]:
    rows = (
        await RegistryEntry.select(RegistryEntry.catalog_id, RegistryEntry.catalog_version)
        .distinct()
        .order_by(RegistryEntry.catalog_id)
        .order_by(RegistryEntry.catalog_version)
    )
    return [(row["catalog_id"], row["catalog_version"]) for row in rows]


async def counts(column_name: str) -> dict[str, int]:
    """Entries per value of one column (status, category or country)."""
    column = getattr(RegistryEntry, column_name)
    rows = await RegistryEntry.select(column, Count()).group_by(column)
    return {str(row[column_name]): int(row["count"]) for row in rows}


# --- the log's events --------------------------------------------------------------------------------------


async def log_size() -> int:
    """The number of committed log entries (indexes are dense; appends commit in index order)."""
    last = await LogEntry.select(LogEntry.index).order_by(LogEntry.index, ascending=False).first()
    return 0 if last is None else int(last["index"]) + 1


async def log_events(start: int, end: int, limit: int, *, newest_first: bool = False) -> list[LogEvent]:
    rows = (
        await LogEntry.select(LogEntry.index, LogEntry.event, LogEntry.jti, LogEntry.body, LogEntry.at)
        .where((LogEntry.index >= start) & (LogEntry.index < end) & LogEntry.event.is_in(list(FEED_EVENTS)))
        .order_by(LogEntry.index, ascending=not newest_first)
        .limit(limit)
    )
    return msgspec.convert(rows, list[LogEvent])


# --- review times ------------------------------------------------------------------------------------------


async def decided_since(cutoff: dt.datetime) -> list[Decided]:
    """Each decision since ``cutoff`` with its assessment's first submission (revision 1 frozen)."""
    decisions = await Decision.select(Decision.assessment, Decision.at).where(Decision.at >= cutoff)
    if not decisions:
        return []
    ids = sorted({row["assessment"] for row in decisions}, key=str)
    firsts = await Revision.select(Revision.assessment, Revision.created_at).where(
        (Revision.number == 1) & Revision.assessment.is_in(ids)
    )
    submitted = {str(row["assessment"]): row["created_at"] for row in firsts}
    return [
        Decided(submitted_at=submitted[str(row["assessment"])], decided_at=row["at"])
        for row in decisions
        if str(row["assessment"]) in submitted
    ]
