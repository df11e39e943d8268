"""Registry bodies (DESIGN section 5): search results, changes from the log, statistics. Public fields only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec


class RegistryItem(msgspec.Struct, kw_only=True, omit_defaults=True):
    serial: str
    status: str
    provider: dict[str, str]  # name, name_ar, legal_name, category, country, registration
    scope: dict[str, Any]  # summary, services, products [{name, model, version}], sites
    catalog: dict[str, str]  # id, version
    level: str
    result: dict[str, dict[str, int]]  # per control family
    valid_from: dt.datetime
    expires_at: dt.datetime
    url: str
    superseded_by: str | None = None


class RegistryPage(msgspec.Struct, kw_only=True):
    items: list[RegistryItem]
    total: int
    page: int
    per_page: int


class Change(msgspec.Struct, kw_only=True, omit_defaults=True):
    log_index: int
    event: str  # issue | suspend | reinstate | revoke | expire | supersede | condition
    serial: str
    at: dt.datetime
    status: str | None = None  # the status after the event; None for a condition marked met
    provider: str = ""
    reason: str | None = None  # a revocation's reason code
    until: dt.datetime | None = None  # a suspension's end
    superseded_by: str | None = None
    condition: int | None = None


class ChangesOut(msgspec.Struct, kw_only=True):
    since: int
    next: int  # pass as ?since= to continue: every later change, none missed
    log_size: int
    changes: list[Change]


class ReviewTimes(msgspec.Struct, kw_only=True):
    window_days: int
    decisions: int
    median_days: float | None
    p90_days: float | None


class StatisticsOut(msgspec.Struct, kw_only=True):
    total: int
    by_status: dict[str, int]
    by_category: dict[str, int]
    by_country: dict[str, int]
    review_times: ReviewTimes
    generated_at: dt.datetime
