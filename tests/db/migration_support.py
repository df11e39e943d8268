"""What the migration tests share: running the portal's migrations in a fresh process, up to a given one, and
a scratch PostgreSQL database of their own (dropped after), for the PostgreSQL pass of ``make test``."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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
