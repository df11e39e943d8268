"""The database layer itself: SQLite pragmas and IMMEDIATE writes, PostgreSQL pool lifespan, concurrent writers."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from portal.db import bind_tables
from portal.db.engine import SQLITE_BUSY_TIMEOUT_SECONDS, write_transaction
from portal.db.tables import AuditEvent, Organisation
from portal.domain.audit.services import record, verify_chain
from portal.domain.context import Caller


def _engine():
    return Organisation._meta.db


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout_and_immediate_writes(settings) -> None:
    engine = _engine()
    if not isinstance(engine, SQLiteEngine):
        pytest.skip("SQLite-specific settings; this run is on PostgreSQL")
    with sqlite3.connect(settings.database_url.removeprefix("sqlite:///")) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert engine.connection_kwargs["timeout"] == SQLITE_BUSY_TIMEOUT_SECONDS == 10.0
    transaction = write_transaction(engine)
    assert transaction.transaction_type == TransactionType.immediate


async def test_concurrent_writers_all_land_and_keep_the_audit_chain_intact(app) -> None:
    caller = Caller(principal=None, client="test")
    await asyncio.gather(*(record(caller, "test.concurrent", object_id=str(i)) for i in range(25)))
    assert await AuditEvent.count().where(AuditEvent.action == "test.concurrent") == 25
    report = await verify_chain()
    assert report.ok and report.events == 25


async def test_the_app_lifespan_opens_and_closes_the_postgres_pool(settings) -> None:
    engine = _engine()
    if not isinstance(engine, PostgresEngine):
        pytest.skip("the connection pool exists on PostgreSQL only")
    from portal.app import create_app

    app = create_app(settings)
    own = Organisation._meta.db
    assert own is not engine and own.pool is None
    async with app.lifespan():
        assert own.pool is not None and await Organisation.count() >= 0
    assert own.pool is None or own.pool._closed
    bind_tables(engine)  # the rest of the suite keeps its own engine
