"""The public registry's rules: what a query may ask, the export's columns and version, changes from the log,
and the published statistics. Everything here is public and the same for every caller: no caller is taken."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import AsyncIterator
from email.utils import format_datetime
from typing import Any

import msgspec

from portal.clock import now
from portal.db import atomic
from portal.domain.issuance.services import IssuanceService
from portal.domain.issuance.states import Status
from portal.domain.registry import repo
from portal.domain.registry.rows import terms
from portal.domain.registry.schemas import (
    Change,
    ChangesOut,
    RegistryItem,
    RegistryPage,
    ReviewTimes,
    StatisticsOut,
)
from portal.domain.registry.stats import days, percentile
from portal.errors import BadRequest, Message
from portal.labels import CATEGORIES

MAX_PER_PAGE = 100
MAX_PAGE = 100_000
MAX_QUERY = 200
MAX_CHANGES = 1000
REVIEW_WINDOW_DAYS = 90
EXPORT_BATCH = 1000
COUNTRY = re.compile(r"[A-Z]{2}")
CATALOG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}(@[A-Za-z0-9][A-Za-z0-9._-]{0,31})?")
STATUS_AFTER = {
    "issue": Status.ACTIVE.value,
    "suspend": Status.SUSPENDED.value,
    "reinstate": Status.ACTIVE.value,
    "revoke": Status.REVOKED.value,
    "expire": Status.EXPIRED.value,
    "supersede": Status.SUPERSEDED.value,
}
# The export's columns, in this order, forever: add at the end, never rename or reorder.
CSV_COLUMNS = (
    "serial",
    "status",
    "provider_name",
    "provider_name_ar",
    "legal_name",
    "registration_number",
    "category",
    "country",
    "catalog_id",
    "catalog_version",
    "level",
    "scope_summary",
    "services",
    "products",
    "sites",
    "valid_from",
    "expires_at",
    "superseded_by",
    "url",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Query(msgspec.Struct, frozen=True, kw_only=True):
    """A registry query as asked (the page keeps these in its URL)."""

    q: str = ""
    category: str | None = None
    country: str | None = None
    status: str | None = None
    catalog: str | None = None
    sort: str = "name"
    page: int = 1
    per_page: int = 20


class ExportVersion(msgspec.Struct, frozen=True, kw_only=True):
    etag: str
    last_modified: dt.datetime | None

    @property
    def http_date(self) -> str | None:
        return None if self.last_modified is None else format_datetime(self.last_modified, usegmt=True)


def _filters(query: Query) -> repo.Filters:
    if len(query.q) > MAX_QUERY:
        raise BadRequest(Message("a search is at most %(n)s characters", n=MAX_QUERY), field="q")
    if query.category and query.category not in CATEGORIES:
        raise BadRequest(Message("category is one of %(known)s", known=", ".join(CATEGORIES)), field="category")
    if query.status and query.status not in {s.value for s in Status}:
        raise BadRequest(
            Message("status is one of %(known)s", known=", ".join(s.value for s in Status)), field="status"
        )
    country = (query.country or "").upper() or None
    if country and not COUNTRY.fullmatch(country):
        raise BadRequest("country is a two-letter ISO 3166 code, e.g. BH", field="country")
    catalog_id = catalog_version = None
    if query.catalog:
        if not CATALOG.fullmatch(query.catalog):
            raise BadRequest("catalog is a catalog id, or id@version (e.g. ppa-baseline@1.0)", field="catalog")
        catalog_id, _, version = query.catalog.partition("@")
        catalog_version = version or None
    if query.sort not in repo.SORTS:
        raise BadRequest(Message("sort is one of %(known)s", known=", ".join(repo.SORTS)), field="sort")
    if not 1 <= query.page <= MAX_PAGE:
        raise BadRequest(Message("page is between 1 and %(n)s", n=MAX_PAGE), field="page")
    if not 1 <= query.per_page <= MAX_PER_PAGE:
        raise BadRequest(Message("per_page is between 1 and %(n)s", n=MAX_PER_PAGE), field="per_page")
    return repo.Filters(
        terms=terms(query.q),
        category=query.category or None,
        country=country,
        status=query.status or None,
        catalog_id=catalog_id,
        catalog_version=catalog_version,
    )


def _cell(value: str) -> str:
    # A spreadsheet would run a cell that starts like a formula; a provider chooses its own name.
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class RegistryService:
    def __init__(self, issuance: IssuanceService, issuer: str) -> None:
        self.issuance = issuance
        self.issuer = issuer.rstrip("/")

    def item(self, entry: repo.Entry) -> RegistryItem:
        document = entry.document
        return RegistryItem(
            serial=entry.serial,
            status=entry.status,
            provider=document["provider"],
            scope=document["scope"],
            catalog=document["catalog"],
            level=entry.level,
            result=document["result"],
            valid_from=entry.valid_from,
            expires_at=entry.expires_at,
            superseded_by=entry.superseded_by,
            url=f"{self.issuer}/attestations/{entry.serial}",
        )

    async def fill_missing(self) -> int:
        """Give every attestation that has none its registry row (``portal migrate`` runs this)."""
        missing = await repo.missing_serials()
        for serial in missing:
            async with atomic():
                await repo.refresh(serial)
        return len(missing)

    # --- search --------------------------------------------------------------------------------------------

    async def search(self, query: Query) -> RegistryPage:
        filters = _filters(query)
        await self.issuance.expire_due()  # an expiry due is recorded before anyone reads the status
        entries, total = await repo.search(
            filters, sort=query.sort, limit=query.per_page, offset=(query.page - 1) * query.per_page
        )
        return RegistryPage(
            items=[self.item(e) for e in entries], total=total, page=query.page, per_page=query.per_page
        )

    async def catalogs(self) -> list[str]:
        return [f"{catalog_id}@{version}" for catalog_id, version in await repo.catalogs()]

    async def countries(self) -> list[str]:
        return sorted(await repo.counts("country"))

    # --- export --------------------------------------------------------------------------------------------

    async def export_version(self, fmt: str) -> ExportVersion:
        await self.issuance.expire_due()
        count, latest = await repo.version()
        stamp = latest.isoformat() if latest else "-"
        digest = hashlib.sha256(f"{fmt}:{count}:{stamp}".encode()).hexdigest()[:32]
        return ExportVersion(etag=f'"{digest}"', last_modified=latest.replace(microsecond=0) if latest else None)

    async def _entries(self) -> AsyncIterator[repo.Entry]:
        last = ""
        while True:
            batch = await repo.after(last, EXPORT_BATCH)
            for entry in batch:
                yield entry
            if len(batch) < EXPORT_BATCH:
                return
            last = batch[-1].serial

    def csv_row(self, entry: repo.Entry) -> list[str]:
        item = self.item(entry)
        provider, scope = item.provider, item.scope
        products = "; ".join(" ".join(p for p in (x["name"], x["model"], x["version"]) if p) for x in scope["products"])
        values = [
            item.serial,
            item.status,
            provider["name"],
            provider["name_ar"],
            provider["legal_name"],
            provider["registration"],
            provider["category"],
            provider["country"],
            item.catalog["id"],
            item.catalog["version"],
            item.level,
            scope["summary"],
            "; ".join(scope["services"]),
            products,
            "; ".join(scope["sites"]),
            _iso(item.valid_from),
            _iso(item.expires_at),
            item.superseded_by or "",
            item.url,
        ]
        return [_cell(v) for v in values]

    async def export(self, fmt: str) -> AsyncIterator[bytes]:
        """Every registry entry in serial order, a batch at a time: CSV with a header row, or JSON Lines."""
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow(CSV_COLUMNS)
            async for entry in self._entries():
                writer.writerow(self.csv_row(entry))
                if buffer.tell() > 64_000:
                    yield buffer.getvalue().encode("utf-8")
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue().encode("utf-8")
            return
        async for entry in self._entries():
            yield msgspec.json.encode(self.item(entry)) + b"\n"

    # --- changes -------------------------------------------------------------------------------------------

    async def _changes(self, events: list[repo.LogEvent]) -> list[Change]:
        names = {
            s: e.document["provider"]["name"] for s, e in (await repo.by_serials(x.jti or "" for x in events)).items()
        }
        out = []
        for event in events:
            body: dict[str, Any] = json.loads(event.body)
            until = body.get("until")
            out.append(
                Change(
                    log_index=event.index,
                    event=event.event,
                    serial=event.jti or "",
                    at=dt.datetime.fromtimestamp(int(body.get("at", 0)), dt.UTC),
                    status=STATUS_AFTER.get(event.event),
                    provider=names.get(event.jti or "", ""),
                    reason=body.get("reason"),
                    until=dt.datetime.fromtimestamp(until, dt.UTC) if isinstance(until, int) else None,
                    superseded_by=body.get("superseded_by"),
                    condition=body.get("condition"),
                )
            )
        return out

    async def changes(self, since: int, limit: int = 100) -> ChangesOut:
        """Lifecycle events from log index ``since`` on, oldest first; ``next`` continues without a gap."""
        if not 1 <= limit <= MAX_CHANGES:
            raise BadRequest(f"limit is between 1 and {MAX_CHANGES}", field="limit")
        await self.issuance.expire_due()
        # The size is read first: every entry below it is committed (appends hold the log's lock to commit).
        size = await repo.log_size()
        if not 0 <= since <= size:
            raise BadRequest(f"since is a log index between 0 and {size}", field="since")
        events = await repo.log_events(since, size, limit)
        following = events[-1].index + 1 if len(events) == limit else size
        return ChangesOut(since=since, next=following, log_size=size, changes=await self._changes(events))

    async def latest_changes(self, count: int = 50) -> list[Change]:
        """The most recent lifecycle events, newest first (the Atom feed)."""
        await self.issuance.expire_due()
        return await self._changes(await repo.log_events(0, await repo.log_size(), count, newest_first=True))

    # --- statistics ----------------------------------------------------------------------------------------

    async def statistics(self) -> StatisticsOut:
        await self.issuance.expire_due()
        by_status = {s.value: 0 for s in Status} | await repo.counts("status")
        moment = now()
        decided = await repo.decided_since(moment - dt.timedelta(days=REVIEW_WINDOW_DAYS))
        durations = [(d.decided_at - d.submitted_at).total_seconds() for d in decided]
        median, p90 = percentile(durations, 0.5), percentile(durations, 0.9)
        return StatisticsOut(
            total=sum(by_status.values()),
            by_status=by_status,
            by_category=dict(sorted((await repo.counts("category")).items())),
            by_country=dict(sorted((await repo.counts("country")).items())),
            review_times=ReviewTimes(
                window_days=REVIEW_WINDOW_DAYS,
                decisions=len(durations),
                median_days=None if median is None else days(median),
                p90_days=None if p90 is None else days(p90),
            ),
            generated_at=moment,
        )
