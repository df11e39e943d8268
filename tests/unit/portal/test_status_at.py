"""The status at an instant from an attestation's event history (issuance.rules.status_at), and the RFC 3339
instants the status endpoint accepts (issuance.lookup.parse_instant)."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.domain.issuance.lookup import parse_instant
from portal.domain.issuance.rules import HistoricStatus, status_at
from portal.errors import BadRequest

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
EXPIRES = T0 + 365 * DAY
HISTORY = [(T0, "active"), (T0 + 10 * DAY, "suspended"), (T0 + 20 * DAY, "active"), (T0 + 30 * DAY, "revoked")]


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (T0 - dt.timedelta(seconds=1), HistoricStatus(False, "", None)),
        (T0, HistoricStatus(True, "active", None)),
        (T0 + 10 * DAY, HistoricStatus(True, "suspended", None)),
        (T0 + 15 * DAY, HistoricStatus(True, "suspended", None)),
        (T0 + 25 * DAY, HistoricStatus(True, "active", None)),
        (T0 + 31 * DAY, HistoricStatus(True, "revoked", None)),
        (EXPIRES + DAY, HistoricStatus(True, "revoked", None)),  # revoked before expiry stays revoked
    ],
)
def test_status_at_each_instant(at: dt.datetime, expected: HistoricStatus) -> None:
    assert status_at(HISTORY, at, expires_at=EXPIRES, superseded_by=None) == expected


def test_active_or_suspended_past_expiry_is_expired_without_an_expire_event() -> None:
    assert status_at([(T0, "active")], EXPIRES, expires_at=EXPIRES, superseded_by=None).status == "expired"
    assert status_at([(T0, "active")], EXPIRES - dt.timedelta(microseconds=1), expires_at=EXPIRES,
                     superseded_by=None).status == "active"  # fmt: skip
    suspended = [(T0, "active"), (T0 + DAY, "suspended")]
    assert status_at(suspended, EXPIRES + DAY, expires_at=EXPIRES, superseded_by=None).status == "expired"


def test_superseded_names_its_successor_only_once_superseded() -> None:
    history = [(T0, "active"), (T0 + DAY, "superseded")]
    assert status_at(history, T0, expires_at=EXPIRES, superseded_by="PA-2026-000002").superseded_by is None
    then = status_at(history, T0 + 2 * DAY, expires_at=EXPIRES, superseded_by="PA-2026-000002")
    assert then == HistoricStatus(True, "superseded", "PA-2026-000002")


def test_no_history_means_not_issued() -> None:
    assert status_at([], T0, expires_at=EXPIRES, superseded_by=None) == HistoricStatus(False, "", None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T12:00:00Z", dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)),
        ("2026-03-01t12:00:00.5z", dt.datetime(2026, 3, 1, 12, 0, 0, 500_000, tzinfo=dt.UTC)),
        ("2026-03-01 16:00:00+04:00", dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)),
    ],
)
def test_rfc3339_instants(text: str, expected: dt.datetime) -> None:
    assert parse_instant(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2026-03-01", "2026-03-01T12:00:00", "20260301T120000Z", "2026-02-30T00:00:00Z", "now", "", "2026-03-01T12:00Z"],
)
def test_anything_else_is_a_bad_request_naming_at(text: str) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_instant(text)
    assert refused.value.extra["field"] == "at"
