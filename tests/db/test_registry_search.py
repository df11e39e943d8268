"""The registry's search against the database, on SQLite and on PostgreSQL: a term matches the serial or the
provider's stored profile (search text, category, country), every term must match, filters narrow it, the total
counts every match, and a profile is stored once however many entries share it."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from portal.db.tables import RegistryEntry, RegistryText
from portal.domain.registry import repo
from portal.domain.registry.rows import RegistryRow, registry_row, terms

pytestmark = pytest.mark.usefixtures("app")
AT = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)


def _row(serial: str, name: str, *, country: str = "BH", name_ar: str = "", status: str = "active") -> RegistryRow:
    document = {
        "provider": {"name": name, "legal_name": f"{name} W.L.L.", "category": "cloud_hosting", "country": country,
                     "registration": f"CR-{len(name)}{country}"},
        "scope": {"summary": "", "services": ["Hosting"], "products": []},
        "catalog": {"id": "ppa-baseline", "version": "1.0"},
        "level": "full",
        "result": {},
    }  # fmt: skip
    return registry_row(
        serial=serial, organisation=uuid.uuid4(), document=document, name_ar=name_ar, status=status, level="full",
        valid_from=AT + dt.timedelta(days=int(serial[-3:])), expires_at=AT + dt.timedelta(days=1000),
        superseded_by=None, updated_at=AT,
    )  # fmt: skip


ROWS = [
    _row("PA-2026-000101", "Gulf Cloud"),
    _row("PA-2026-000102", "Gulf Cloud"),  # a renewal: the same profile
    _row("PA-2026-000103", "Gulf Cloud", country="AE"),  # the same text in another country: its own profile
    _row("PA-2026-000104", "Pearl 2026 Hosting", status="revoked"),  # a number in the name that serials hold too
    _row("PA-2025-000105", "Oasis Data"),
]


async def _find(q: str = "", **filters: str) -> tuple[list[str], int]:
    found, total = await repo.search(
        repo.Filters(terms=terms(q), **filters), sort="-issued", limit=2, offset=0
    )  # a page of two: the total still counts every match
    everything, _ = await repo.search(repo.Filters(terms=terms(q), **filters), sort="-issued", limit=50, offset=0)
    assert [e.serial for e in found] == [e.serial for e in everything][:2]
    return sorted(e.serial for e in everything), total


async def test_terms_match_serials_and_profiles_and_filters_narrow_them() -> None:
    await repo.insert_many(ROWS)
    assert await RegistryText.count() == 4 and await RegistryEntry.count() == 5
    cases = [
        ("gulf", {}, ["PA-2026-000101", "PA-2026-000102", "PA-2026-000103"]),
        ("GULF cloud", {}, ["PA-2026-000101", "PA-2026-000102", "PA-2026-000103"]),
        ("ulf", {}, ["PA-2026-000101", "PA-2026-000102", "PA-2026-000103"]),  # inside a word
        ("gulf", {"country": "AE"}, ["PA-2026-000103"]),
        ("gulf", {"category": "telecom_operator"}, []),
        ("gulf oasis", {}, []),  # every term must match one entry
        ("pa-2026-000102", {}, ["PA-2026-000102"]),  # a whole serial, any case
        ("PA-2026-000102", {"country": "AE"}, []),  # and still filtered
        ("000102", {}, ["PA-2026-000102"]),  # part of a serial
        ("2025", {}, ["PA-2025-000105"]),
        ("2026", {}, ["PA-2026-000101", "PA-2026-000102", "PA-2026-000103", "PA-2026-000104"]),
        ("2026", {"status": "revoked"}, ["PA-2026-000104"]),
        ("pearl 2025", {}, []),  # "pearl" in one entry's text, "2025" only in another's serial
        ("gulf 000101", {}, ["PA-2026-000101"]),  # one term in the text, one in the serial
        ("cr-18bh", {}, ["PA-2026-000104"]),  # its registration number
        ("", {"country": "BH", "status": "active"}, ["PA-2025-000105", "PA-2026-000101", "PA-2026-000102"]),
        ("", {}, [row.serial for row in sorted(ROWS, key=lambda r: r.serial)]),
        ("nothing", {}, []),
    ]
    for q, filters, expected in cases:
        found, total = await _find(q, **filters)
        assert (found, total) == (expected, len(expected)), (q, filters)


async def test_a_changed_profile_is_found_by_its_new_text_and_no_longer_by_the_old() -> None:
    await repo.insert_many(ROWS)
    renamed = _row("PA-2026-000101", "Gulf Cloud", name_ar="سحابة الخليج")
    # What repo.refresh does inside its transaction: the entry's row again, from the attestation as it is now.
    await RegistryEntry.delete().where(RegistryEntry.serial == renamed.serial)
    await repo.insert_many([renamed])
    assert await _find("سحابه") == (["PA-2026-000101"], 1)  # teh marbuta searched as heh
    assert await _find("gulf", country="BH") == (["PA-2026-000101", "PA-2026-000102"], 2)
    assert await RegistryText.count() == 5  # the old profile stays, used by the renewal only
    await RegistryEntry.delete().where(RegistryEntry.serial == "PA-2026-000102")
    assert await _find("gulf", country="BH") == (["PA-2026-000101"], 1)  # an unused profile matches nothing
