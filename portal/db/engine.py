"""Database engines: a SQLite file by default, PostgreSQL when the URL says so."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from pathlib import Path
from typing import Any

from piccolo.engine.base import Engine as BaseEngine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

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
        return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_SECONDS, factory=TunedConnection)
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
