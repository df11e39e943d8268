"""The bench seeder's bulk writer: what slows a load (indexes; on PostgreSQL also keys, unique constraints and
foreign keys, into and out of the table) is dropped before it and comes back as it was — and a constraint the
loaded rows break fails the load when it comes back."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bench.sink import Sink
from portal.db.tables import ThrottleCounter
from tests.db.migration_support import migrate, schema, scratch_postgres

COLUMNS = ("key", "failures", "blocked_until", "forget_at")


async def test_a_bulk_load_drops_what_slows_it_and_puts_back_the_same_at_close(settings) -> None:
    url = settings.database_url
    before = await schema(url)
    sink = Sink(url)
    await sink.open()
    try:
        rows = [(f"k{i}", i, 0.0, float(i)) for i in range(3)]
        assert await sink.write("throttle_counter", COLUMNS, rows) == 3
        await sink.prepare(["organisation"])
        await sink.flush()
        gone = set(before) - set(await schema(url))
    finally:
        await sink.close()
    if sink.postgres:
        assert {"throttle_counter_forget_at", "throttle_counter_pkey", "throttle_counter.throttle_counter_pkey",
                "organisation_pkey", "organisation.organisation_pkey", "attestation.attestation_organisation_fkey",
                "portal_user.portal_user_organisation_fkey"} <= gone  # fmt: skip
        assert all(name.startswith(("throttle_counter", "organisation")) or name.endswith("_fkey") for name in gone)
    else:
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            query = ("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                     " AND tbl_name IN ('throttle_counter', 'organisation')")  # fmt: skip
            assert gone == {name for (name,) in connection.execute(query)}
        assert "throttle_counter_forget_at" in gone
    assert await schema(url) == before
    stored = await ThrottleCounter.select(ThrottleCounter.key, ThrottleCounter.failures).order_by(ThrottleCounter.key)
    assert stored == [{"key": "k0", "failures": 0}, {"key": "k1", "failures": 1}, {"key": "k2", "failures": 2}]
    await ThrottleCounter.delete(force=True)


@pytest.mark.parametrize(
    ("table", "columns", "rows", "error"),
    [
        ("throttle_counter", COLUMNS, [("same", 1, 0.0, 1.0), ("same", 2, 0.0, 2.0)], "UniqueViolationError"),
        ("attestation_event", ("id", "attestation", "serial", "event", "status", "log_index", "at"),
         [("00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002", "PA-2026-000001",
           "issue", "active", 0, "2026-01-01 00:00:00+00:00")],
         "ForeignKeyViolationError"),
    ],
)  # fmt: skip
async def test_rows_that_break_a_constraint_fail_the_load_when_it_comes_back(
    tmp_path: Path, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]], error: str
) -> None:
    if os.environ.get("PORTAL_TEST_DATABASE") != "postgres":
        pytest.skip("on SQLite the constraints stay with the table and refuse such rows as they come")
    async with scratch_postgres() as url:
        migrate(url)
        sink = Sink(url)
        await sink.open()
        await sink.write(table, columns, rows)
        with pytest.raises(asyncpg.PostgresError) as failed:
            await sink.close()
        assert type(failed.value).__name__ == error
