"""What an attestation says, computed from the frozen revision: pure functions, tested on their own."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

import controls

RESULT_KEYS = ("implemented", "partially_implemented", "planned", "not_implemented", "not_applicable")

SERIAL_FORM = re.compile(r"PA-[0-9]{4}-[0-9]{6}")  # what rules.serial makes


def result_per_family(catalog: controls.Catalog, revision_document: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Per control family of the catalog, how many controls were assessed and how each was answered.

    Families with no applicable control are left out; the keys are the catalog's family ids, in its order.
    """
    family_of = {control.id: control.family for control in catalog.controls}
    result: dict[str, dict[str, int]] = {}
    for family in catalog.families:
        answers = [a for a in revision_document["answers"] if family_of.get(a["control_id"]) == family.id]
        if answers:
            counts = {"controls": len(answers)}
            counts |= {key: sum(1 for a in answers if a["status"] == key) for key in RESULT_KEYS}
            result[family.id] = {k: v for k, v in counts.items() if v or k == "controls"}
    return result


def serial(year: int, number: int) -> str:
    """``PA-<year>-<6 digits>``."""
    if not 0 < number <= 999_999:
        raise ValueError("a year holds at most 999,999 serials")
    return f"PA-{year:04d}-{number:06d}"


def expiry(valid_from: dt.datetime, valid_days: int) -> dt.datetime:
    return valid_from + dt.timedelta(days=valid_days)


class HistoricStatus(NamedTuple):
    """What an attestation's event history says about one instant."""

    issued: bool  # False: the instant is before the attestation was issued
    status: str  # active | suspended | revoked | expired | superseded (meaningless when not issued)
    superseded_by: str | None


def status_at(
    events: Sequence[tuple[dt.datetime, str]],
    at: dt.datetime,
    *,
    expires_at: dt.datetime,
    superseded_by: str | None,
) -> HistoricStatus:
    """The status at ``at`` from ``events`` — ``(when, status after the event)`` in the order they happened.

    An attestation is expired from ``expires_at`` on unless revoked or superseded before, even when no
    ``expire`` event was recorded yet (the first request after expiry records it). An event is in force from
    the whole second its transparency log entry publishes, so asking about that second answers with it.
    """
    if not events or at < events[0][0].replace(microsecond=0):
        return HistoricStatus(False, "", None)
    status = events[0][1]
    for when, after in events:
        if when.replace(microsecond=0) > at:
            break
        status = after
    if status in ("active", "suspended") and at >= expires_at:
        status = "expired"
    return HistoricStatus(True, status, superseded_by if status == "superseded" else None)
