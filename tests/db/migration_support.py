"""What the migration tests share: running the portal's migrations in a fresh process, up to a given one, and
a scratch PostgreSQL database of their own (dropped after), for the PostgreSQL pass of ``make test``."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

_SCRIPT = (
    "import asyncio, sys\n"
    "from portal.db.engine import close_engine, connect, open_engine\n"
    "from portal.db.migrate import migrate\n"
    "async def main():\n"
    "    engine = connect(sys.argv[1])\n"
    "    await open_engine(engine)\n"
    "    await migrate(engine, up_to=sys.argv[2])\n"
    "    await close_engine(engine)\n"
    "asyncio.run(main())\n"
)


def migrate(url: str, up_to: str = "all") -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, url, up_to], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr


@asynccontextmanager
async def scratch_postgres() -> AsyncIterator[str]:
    """The URL of a new, empty PostgreSQL database; skips outside the PostgreSQL pass."""
    url = os.environ.get("PORTAL_TEST_POSTGRES_URL")
    if not url or os.environ.get("PORTAL_TEST_DATABASE") != "postgres":
        pytest.skip("runs in the PostgreSQL pass of make test (PORTAL_TEST_POSTGRES_URL set)")
    import asyncpg

    name = f"portal_migration_{uuid.uuid4().hex[:12]}"
    server = await asyncpg.connect(url)
    await server.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    finally:
        await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await server.close()


async def schema(url: str) -> dict[str, str]:
    """Every index and (PostgreSQL) constraint the schema defines, by name, with its definition."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            rows = connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
            return dict(rows.fetchall())
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        found: Any = await connection.fetch(
            "SELECT indexname AS name, indexdef AS definition FROM pg_indexes WHERE schemaname = current_schema()"
            " UNION ALL SELECT conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)"
            " FROM pg_constraint WHERE connamespace = current_schema()::regnamespace"
        )
        return {row["name"]: row["definition"] for row in found}
    finally:
        await connection.close()


@asynccontextmanager
async def scratch_database(directory: Path, name: str) -> AsyncIterator[str]:
    """A new, empty database of the engine under test: a SQLite file in ``directory``, or a scratch PostgreSQL
    database in the PostgreSQL pass."""
    if os.environ.get("PORTAL_TEST_DATABASE") == "postgres":
        async with scratch_postgres() as url:
            yield url
    else:
        yield f"sqlite:///{directory / f'{name}.sqlite3'}"
