"""Registry pages: search (filters in the URL, no script needed), statistics with SVG charts, the Atom feed."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from babel import Locale
from litestar import Controller, Request, Response, get
from litestar.response import Template

from portal.deps import Registry
from portal.domain.issuance.states import Status
from portal.domain.log.services import log_origin
from portal.domain.registry.charts import Bar, bar_chart
from portal.domain.registry.controllers import PUBLIC_LIMITS
from portal.domain.registry.feed import atom_feed
from portal.domain.registry.services import MAX_PER_PAGE, Query, RegistryService
from portal.errors import BadRequest, Message
from portal.i18n import current_language, gettext
from portal.labels import CATEGORIES
from portal.pages import form_errors, render

FIELDS = ("q", "category", "country", "status", "catalog", "sort", "page", "per_page")
EMPTY_SINCE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # the feed's "updated" before any change
SORTS = (("name", "Provider name"), ("issued", "Newest first"), ("expires", "Expiring soonest"))


def country_name(code: str) -> str:
    return str(Locale(current_language.get()).territories.get(code, code))


def _number(value: str | None, default: int, field: str) -> int:
    if value in (None, ""):
        return default
    if not (value.isascii() and value.isdigit()) or len(value) > 7:
        raise BadRequest(Message("%(field)s is a whole number", field=field), field=field)
    return int(value)


def _asked(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {k: request.query_params[k] for k in FIELDS if request.query_params.get(k)}


def _href(asked: dict[str, str], **changes: Any) -> str:
    merged = {**asked, **{k: str(v) for k, v in changes.items()}}
    return "/registry?" + urlencode({k: v for k, v in merged.items() if v not in ("", None)})


class RegistryPages(Controller):
    path = "/registry"
    include_in_schema = False
    middleware = PUBLIC_LIMITS

    @get("/")
    async def search(self, request: Request[Any, Any, Any], registry: Registry) -> Template:
        asked = _asked(request)
        context: dict[str, Any] = {
            "asked": asked,
            "categories": CATEGORIES,
            "statuses": [s.value for s in Status],
            "sorts": SORTS,
            "per_pages": (20, 50, MAX_PER_PAGE),
            "catalogs": await registry.catalogs(),
            "countries": await registry.countries(),
            "country_name": country_name,
        }
        try:
            query = Query(
                q=asked.get("q", ""),
                category=asked.get("category"),
                country=asked.get("country"),
                status=asked.get("status"),
                catalog=asked.get("catalog"),
                sort=asked.get("sort", "name"),
                page=_number(asked.get("page"), 1, "page"),
                per_page=_number(asked.get("per_page"), 20, "per_page"),
            )
            result = await registry.search(query)
        except BadRequest as exc:
            return render(
                request, "registry/search.html", status_code=400, errors=form_errors(exc), result=None, **context
            )
        last = max(1, -(-result.total // result.per_page))
        pages = {
            "previous": _href(asked, page=result.page - 1) if result.page > 1 else None,
            "next": _href(asked, page=result.page + 1) if result.page < last else None,
            "last": last,
        }
        return render(request, "registry/search.html", result=result, pages=pages, **context)

    @get("/statistics")
    async def statistics(self, request: Request[Any, Any, Any], registry: Registry) -> Template:
        stats = await registry.statistics()
        status_bars = [Bar(gettext(s), n, f"bar {s}") for s, n in stats.by_status.items()]
        category_bars = [Bar(gettext(c), n) for c, n in stats.by_category.items()]
        country_bars = [Bar(country_name(c), n) for c, n in stats.by_country.items()]
        times = stats.review_times
        time_bars = [
            Bar(gettext("Median"), times.median_days or 0),
            Bar(gettext("90th percentile"), times.p90_days or 0),
        ]
        days = gettext("days")
        charts = {
            "status": bar_chart("chart-status", gettext("Attestations by status"), _describe(status_bars), status_bars),
            "category": bar_chart(
                "chart-category", gettext("Attestations by category"), _describe(category_bars), category_bars
            ),
            "country": bar_chart(
                "chart-country", gettext("Attestations by country"), _describe(country_bars), country_bars
            ),
            "times": bar_chart(
                "chart-times",
                gettext("Review times, last 90 days"),
                _describe(time_bars, f" {days}"),
                time_bars,
                unit=" " + days,
            ),
        }
        tables = {
            "status": [(b.label, int(b.value)) for b in status_bars],
            "category": [(b.label, int(b.value)) for b in category_bars],
            "country": [(b.label, int(b.value)) for b in country_bars],
        }
        return render(request, "registry/statistics.html", stats=stats, charts=charts, tables=tables)

    @get("/feed.atom")
    async def feed(self, request: Request[Any, Any, Any], registry: Registry) -> Response[bytes]:
        headers = {"Cache-Control": "public, max-age=1"}
        return Response(await _atom(registry), media_type="application/atom+xml", headers=headers)


def _describe(bars: list[Bar], unit: str = "") -> str:
    return "; ".join(f"{b.label}: {b.value:g}{unit}" for b in bars) or gettext("No data yet.")


async def _atom(registry: RegistryService) -> bytes:
    issuer = registry.issuer
    return atom_feed(await registry.latest_changes(), issuer=issuer, origin=log_origin(issuer), empty_since=EMPTY_SINCE)
