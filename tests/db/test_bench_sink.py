"""The bench seeder's bulk writer: a table's secondary indexes are dropped for the load and come back as they were."""

from __future__ import annotations

import sqlite3
from typing import Any

import asyncpg

from bench.seed import Sink
from portal.db.tables import ThrottleCounter

COLUMNS = ("key", "failures", "blocked_until", "forget_at")


async def _indexes(url: str) -> dict[str, str]:
    """Every index the schema defines, by name, with the statement that makes it."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            rows = connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
            return dict(rows.fetchall())
    connection = await asyncpg.connect(url)
    try:
        rows: Any = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        )
        return {row["indexname"]: row["indexdef"] for row in rows}
    finally:
        await connection.close()


async def test_a_bulk_load_drops_the_tables_indexes_and_builds_the_same_ones_at_close(settings) -> None:
    url = settings.database_url
    before = await _indexes(url)
    ours = {name for name in before if name.startswith("throttle_counter_") and not name.endswith("_pkey")}
    assert ours == {"throttle_counter_forget_at"}
    sink = Sink(url)
    await sink.open()
    try:
        rows = [(f"k{i}", i, 0.0, float(i)) for i in range(3)]
        assert await sink.write("throttle_counter", COLUMNS, rows) == 3
        during = await _indexes(url)
        assert set(before) - set(during) == ours
    finally:
        await sink.close()
    assert await _indexes(url) == before
    stored = await ThrottleCounter.select(ThrottleCounter.key, ThrottleCounter.failures).order_by(ThrottleCounter.key)
    assert stored == [{"key": "k0", "failures": 0}, {"key": "k1", "failures": 1}, {"key": "k2", "failures": 2}]
