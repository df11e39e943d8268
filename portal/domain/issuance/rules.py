"""What an attestation says, computed from the frozen revision: pure functions, tested on their own."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

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
