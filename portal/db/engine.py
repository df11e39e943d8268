"""Database engines: a SQLite file by default, PostgreSQL when the URL says so."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite
from piccolo.engine.base import Engine as BaseEngine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory

from portal.db.tables import ALL_TABLES

SQLITE_BUSY_TIMEOUT_SECONDS = 10.0
Engine = BaseEngine[Any]


def create_engine(database_url: str) -> Engine:
    """Build a piccolo engine from ``sqlite:///path`` or ``postgresql://...``."""
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        _enable_wal(path)
        # sqlite3's timeout is its busy handler: writers wait for the lock instead of failing at once.
        return PooledSQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_SECONDS, factory=TunedConnection)
    if database_url.startswith(("postgres://", "postgresql://")):
        return PostgresEngine(config={"dsn": database_url})
    raise ValueError("PORTAL_DATABASE_URL must start with sqlite:/// or postgresql://")


class TunedConnection(sqlite3.Connection):
    """Every connection piccolo opens (one per transaction or statement). ``synchronous`` is a setting of the
    connection, not of the file: without this each commit waited for an fsync of the WAL (tens of ms on a
    shared disk). NORMAL in WAL mode never corrupts the database; a power loss (not a crash of the process,
    such as kill -9) may lose the last commits, which is SQLite's documented trade-off for WAL."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA synchronous=NORMAL")


class PooledConnection(aiosqlite.Connection):
    """An aiosqlite connection that goes back to its engine's idle list when closed clean (no transaction left
    open, nothing failed), instead of closing its file and ending its thread. Its thread is a daemon, so an idle
    connection never holds up the process's exit (every statement it ran has committed)."""

    def __init__(self, engine: PooledSQLiteEngine, database: str, kwargs: dict[str, Any]) -> None:
        super().__init__(lambda: sqlite3.connect(database, **kwargs), iter_chunk_size=64)
        self._thread.daemon = True
        self._engine = engine

    async def close(self) -> None:
        if self._engine.release(self):
            return
        await super().close()

    async def discard(self) -> None:
        await aiosqlite.Connection.close(self)


class PooledSQLiteEngine(SQLiteEngine):
    """piccolo's SQLite engine, except that a statement or transaction takes an idle connection when there is one
    instead of opening a new one — a thread, the file and two pragmas — each time (1 to 2 ms, several times a
    request), and a statement inside a transaction is not preceded by ``PRAGMA foreign_keys = 1`` each time (a
    no-op inside a transaction, said by SQLite; every connection sets it once when it opens)."""

    IDLE = 8  # connections kept open between uses: as many as one worker's requests write or read at once

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idle: list[PooledConnection] = []

    def release(self, connection: PooledConnection) -> bool:
        """Keep ``connection`` for the next use when it is open, outside any transaction, and there is room."""
        raw = connection._connection
        if raw is None or raw.in_transaction or len(self._idle) >= self.IDLE or connection in self._idle:
            return False
        self._idle.append(connection)
        return True

    async def get_connection(self) -> PooledConnection:
        while self._idle:
            connection = self._idle.pop()
            if connection._connection is not None:
                return connection
        kwargs = dict(self.connection_kwargs)
        database = str(kwargs.pop("database"))
        connection = PooledConnection(self, database, kwargs)
        await connection  # starts its thread and opens the file
        connection.row_factory = dict_factory  # type: ignore[assignment]  # piccolo's rows are dicts
        await connection.execute("PRAGMA foreign_keys = 1")
        return connection

    async def close_idle(self) -> None:
        """Close every idle connection (the app's shutdown, the end of a command)."""
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.discard()

    async def _run_in_new_connection(
        self, query: str, args: list[Any] | None = None, query_type: str = "generic", table: Any = None
    ) -> Any:
        connection = await self.get_connection()
        try:
            async with connection.execute(query, args or []) as cursor:
                await connection.commit()
                if query_type == "insert" and self.get_version_sync() < 3.35:
                    assert table is not None
                    pk = await self._get_inserted_pk(cursor, table)
                    rows: Any = [{table._meta.primary_key._meta.db_column_name: pk}]
                else:
                    rows = await cursor.fetchall()
        except BaseException:
            # Failed or cancelled (its statement may still be queued on its thread, and will run and commit itself,
            # as with a connection of its own): never handed to anyone else; the thread closes the file and ends
            # once what is queued has run.
            connection.stop()
            raise
        await connection.close()  # back to the idle list
        return rows

    async def _run_in_existing_connection(
        self, connection: Any, query: str, args: list[Any] | None = None, query_type: str = "generic",
        table: Any = None,
    ) -> Any:  # fmt: skip
        async with connection.execute(query, args or []) as cursor:
            response = await cursor.fetchall()
            if query_type == "insert" and self.get_version_sync() < 3.35:
                assert table is not None
                pk = await self._get_inserted_pk(cursor, table)
                return [{table._meta.primary_key._meta.db_column_name: pk}]
            return response


def _enable_wal(path: Path) -> None:
    # WAL lets readers proceed while one writer commits; the mode is stored in the file itself.
    with contextlib.closing(sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")


def connect(database_url: str) -> Engine:
    """The one place the portal builds its engine: created from the URL and bound to every table."""
    engine = create_engine(database_url)
    bind_tables(engine)
    return engine


def bind_tables(engine: Engine) -> None:
    """Point every table at ``engine`` (the app, the CLI and the tests each choose theirs)."""
    for table in ALL_TABLES:
        table._meta.db = engine


async def open_engine(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=10)


async def close_engine(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
    if isinstance(engine, PooledSQLiteEngine):
        await engine.close_idle()


def write_transaction(engine: Engine) -> Any:
    """A transaction for writes: IMMEDIATE on SQLite so the write lock is taken up front, not on upgrade."""
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


async def lock(name: str) -> None:
    """Inside a write transaction: hold the lock called ``name`` until commit or rollback.

    PostgreSQL takes a transaction-scoped advisory lock; SQLite's IMMEDIATE transaction already holds the
    database's one write lock, which serialises every writer.
    """
    engine = ALL_TABLES[0]._meta.db
    if isinstance(engine, PostgresEngine):
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        await engine.run_ddl(f"SELECT pg_advisory_xact_lock({key})")


def atomic() -> Any:
    """A write transaction on the engine the tables are bound to; nested calls join the outer one."""
    return write_transaction(ALL_TABLES[0]._meta.db)
