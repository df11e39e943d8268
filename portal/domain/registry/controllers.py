"""The public registry over HTTP (DESIGN section 5): search, export, changes, statistics. No login, and the
same answer for every caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream

from portal.deps import Registry
from portal.domain.registry.schemas import ChangesOut, RegistryPage, StatisticsOut
from portal.domain.registry.services import MAX_PAGE, MAX_PER_PAGE, ExportVersion, Query
from portal.security.ratelimit import RateLimited

# Every registry route, page or API, counts against one per-address limit (portal/security/ratelimit.py).
PUBLIC_LIMITS = [RateLimited("registry")]
FRESH = "public, max-age=1"  # no cache in between keeps a status change hidden longer than a second
MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl"}

Text = Annotated[str | None, QueryParameter(max_length=200)]


def not_modified(request: Request[Any, Any, Any], version: ExportVersion) -> bool:
    """RFC 9110: If-None-Match decides when sent; otherwise If-Modified-Since, at one-second precision."""
    tags = request.headers.get("if-none-match")
    if tags is not None:
        return version.etag in {t.strip().removeprefix("W/") for t in tags.split(",")} or tags.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since and version.last_modified is not None:
        try:
            return version.last_modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


class RegistryController(Controller):
    path = "/api/v1/registry"
    tags = ["registry"]
    middleware = PUBLIC_LIMITS

    @get(
        "/",
        summary="Search the public registry",
        description="`q` matches provider names (English and Arabic), legal name, registration number, serial, "
        "and the products, models and services of the attested scope; every word must match. `sort`: name, "
        "issued (newest first), expires (soonest first); a leading `-` reverses. `catalog`: an id or id@version.",
    )
    async def search(
        self,
        registry: Registry,
        q: Text = None,
        category: Text = None,
        country: Text = None,
        status: Text = None,
        catalog: Text = None,
        sort: FromQuery[Literal["name", "-name", "issued", "-issued", "expires", "-expires"]] = "name",
        page: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 1,
        per_page: Annotated[int, QueryParameter(ge=1, le=MAX_PER_PAGE)] = 20,
    ) -> Response[RegistryPage]:
        query = Query(
            q=q or "", category=category, country=country, status=status, catalog=catalog, sort=sort,
            page=page, per_page=per_page,
        )  # fmt: skip
        return Response(await registry.search(query), headers={"Cache-Control": FRESH})

    @get(
        "/export",
        summary="Every public attestation, streamed as CSV (with a header row) or JSON Lines",
        description="CSV columns, in this order: serial, status, provider_name, provider_name_ar, legal_name, "
        "registration_number, category, country, catalog_id, catalog_version, level, scope_summary, services, "
        "products, sites, valid_from, expires_at, superseded_by, url (lists joined with '; '). A JSON Lines "
        "line is a registry search item. Send If-None-Match (ETag) or If-Modified-Since for a 304.",
        media_type="text/csv",
    )
    async def export(
        self, request: Request[Any, Any, Any], registry: Registry, format: FromQuery[Literal["csv", "jsonl"]] = "csv"
    ) -> Response[Any]:
        version = await registry.export_version(format)
        headers = {"ETag": version.etag, "Cache-Control": FRESH}
        if version.http_date:
            headers["Last-Modified"] = version.http_date
        if not_modified(request, version):
            return Response(b"", status_code=304, headers=headers, media_type=MEDIA[format])
        headers["Content-Disposition"] = f'attachment; filename="registry.{format}"'
        body: AsyncIterator[bytes] = registry.export(format)
        return Stream(body, media_type=MEDIA[format], headers=headers)

    @get(
        "/changes",
        summary="Lifecycle events from the transparency log, from log index `since` on, oldest first",
        description="Issue, suspend, reinstate, revoke, expire, supersede and condition events. Pass `next` "
        "back as `since` to continue: no event is ever skipped. `since` beyond the log's size is a 400.",
    )
    async def changes(
        self,
        registry: Registry,
        since: Annotated[int, QueryParameter(ge=0, le=2**62)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> Response[ChangesOut]:
        return Response(await registry.changes(since, limit), headers={"Cache-Control": FRESH})

    @get("/statistics", summary="Attestations by status, category and country; the regulator's review times")
    async def statistics(self, registry: Registry) -> Response[StatisticsOut]:
        return Response(await registry.statistics(), headers={"Cache-Control": "public, max-age=60"})
