"""Single-statement reads for the public hot path, on the engine's own connections but without the ORM.

A piccolo query costs far more than the lookup it runs (on SQLite it opens a new connection each time), and
the public status endpoint is polled by every wallet and procurement system. These reads are plain SQL with
``?`` placeholders, outside any transaction, each seeing the latest committed state:

- PostgreSQL: a connection from the engine's asyncpg pool (asyncpg prepares and caches the statement);
- SQLite: one read-only connection per process, used from the event loop's thread (a point lookup by a
  unique index takes microseconds, less than handing it to a thread would).
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from portal.db.tables import ALL_TABLES

_PLACEHOLDER = re.compile(r"\?")


def _numbered(sql: str) -> str:
    count = iter(range(1, 1_000))
    return _PLACEHOLDER.sub(lambda _: f"${next(count)}", sql)


class Reader:
    """Runs read-only statements on whichever engine the tables are bound to."""

    def __init__(self) -> None:
        self._sqlite: sqlite3.Connection | None = None
        self._sqlite_path: str | None = None
        self._numbered: dict[str, str] = {}

    def _sqlite_connection(self, engine: SQLiteEngine) -> sqlite3.Connection:
        path = str(engine.connection_kwargs["database"])
        if self._sqlite is None or self._sqlite_path != path:
            if self._sqlite is not None:
                self._sqlite.close()
            self._sqlite = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False, timeout=10
            )
            self._sqlite_path = path
        return self._sqlite

    async def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        engine = ALL_TABLES[0]._meta.db
        if isinstance(engine, SQLiteEngine):
            return list(self._sqlite_connection(engine).execute(sql, args).fetchall())
        if isinstance(engine, PostgresEngine):
            statement = self._numbered.get(sql) or self._numbered.setdefault(sql, _numbered(sql))
            if engine.pool is not None:
                async with engine.pool.acquire() as connection:
                    return [tuple(row) for row in await connection.fetch(statement, *args)]
            connection = await engine.get_new_connection()
            try:
                return [tuple(row) for row in await connection.fetch(statement, *args)]
            finally:
                await connection.close()
        raise TypeError(f"no fast read path for {type(engine).__name__}")

    async def row(self, sql: str, *args: Any) -> tuple[Any, ...] | None:
        found = await self.rows(sql, *args)
        return found[0] if found else None

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None


def in_transaction() -> bool:
    """Whether this task is inside a transaction: its reads must see its own writes, so they go through the ORM on
    the transaction's connection. Outside one, a :class:`Reader` sees exactly what the ORM's autocommit read would
    (the latest committed state), for far less."""
    return ALL_TABLES[0]._meta.db.current_transaction.get() is not None


def moment(value: Any) -> dt.datetime:
    """A ``Timestamptz`` column as read here: a datetime on PostgreSQL, its ISO text on SQLite."""
    found = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return found if found.tzinfo is not None else found.replace(tzinfo=dt.UTC)


COMMITTED = Reader()  # this process's reads of committed state, outside any transaction (see in_transaction)
