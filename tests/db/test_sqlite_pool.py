"""The SQLite engine reuses idle connections: a reused connection never carries a failed statement's or a
rolled-back transaction's writes, sees other processes' commits, keeps foreign keys on, never holds more than
``IDLE`` idle, and never holds up the process's exit."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys

import pytest

from portal.db import atomic
from portal.db.engine import PooledConnection, PooledSQLiteEngine
from portal.db.tables import ThrottleCounter

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def engine() -> PooledSQLiteEngine:
    found = ThrottleCounter._meta.db
    if not isinstance(found, PooledSQLiteEngine):
        pytest.skip("the SQLite engine's own pool; PostgreSQL has asyncpg's")
    return found


async def _keys() -> list[str]:
    return [row["key"] for row in await ThrottleCounter.select(ThrottleCounter.key).order_by(ThrottleCounter.key)]


async def test_a_failed_statement_or_a_rolled_back_transaction_leaves_nothing_on_the_next_use(engine) -> None:
    await ThrottleCounter.insert(ThrottleCounter(key="a", failures=1, blocked_until=0.0, forget_at=1.0))
    with pytest.raises(sqlite3.IntegrityError):  # the same primary key: refused, inside an implicit transaction
        await ThrottleCounter.insert(ThrottleCounter(key="a", failures=2, blocked_until=0.0, forget_at=1.0))
    assert all(not c._connection.in_transaction for c in engine._idle if c._connection is not None)
    with pytest.raises(RuntimeError):
        async with atomic():
            await ThrottleCounter.insert(ThrottleCounter(key="b", failures=1, blocked_until=0.0, forget_at=1.0))
            raise RuntimeError("roll it back")
    await ThrottleCounter.insert(ThrottleCounter(key="c", failures=1, blocked_until=0.0, forget_at=1.0))
    assert await _keys() == ["a", "c"]
    # Each statement committed on its own: another connection sees exactly that.
    with sqlite3.connect(engine.connection_kwargs["database"]) as other:
        assert [k for (k,) in other.execute("SELECT key FROM throttle_counter ORDER BY key")] == ["a", "c"]
    await ThrottleCounter.delete(force=True)


async def test_an_idle_connection_sees_another_process_commit_and_keeps_foreign_keys_on(engine) -> None:
    await ThrottleCounter.count()  # leaves a connection idle
    assert engine._idle
    with sqlite3.connect(engine.connection_kwargs["database"]) as other:
        other.execute("INSERT INTO throttle_counter (key, failures, blocked_until, forget_at) VALUES ('x', 1, 0, 1)")
    assert await _keys() == ["x"]
    assert (await engine._run_in_new_connection("PRAGMA foreign_keys")) == [{"foreign_keys": 1}]
    await ThrottleCounter.delete(force=True)


async def test_many_at_once_each_get_their_own_connection_and_at_most_idle_stay_open(engine) -> None:
    await engine.close_idle()
    used: list[int] = []
    real = engine.get_connection

    async def counted() -> PooledConnection:
        connection = await real()
        used.append(id(connection))
        return connection

    engine.get_connection = counted  # type: ignore[method-assign]
    try:
        await asyncio.gather(*(ThrottleCounter.count() for _ in range(30)))
    finally:
        del engine.get_connection
    assert len(used) == 30 and len(engine._idle) == PooledSQLiteEngine.IDLE
    assert all(connection._thread.daemon for connection in engine._idle)
    await engine.close_idle()
    assert engine._idle == []


def test_a_command_that_leaves_connections_idle_still_exits(tmp_path) -> None:
    script = (
        "import asyncio\n"
        "from portal.db import connect\n"
        "from portal.db.tables import ThrottleCounter\n"
        f"engine = connect('sqlite:///{tmp_path / 'exit.sqlite3'}')\n"
        "asyncio.run(engine._run_in_new_connection('CREATE TABLE t (x)'))\n"
        "assert engine._idle\n"
        "print('done')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0 and done.stdout == "done\n", done.stderr


async def test_a_cancelled_statements_connection_is_never_handed_to_anyone_else(engine) -> None:
    import threading

    await engine.close_idle()
    await ThrottleCounter.count()  # one idle connection, which the next statement takes
    (connection,) = engine._idle
    held = threading.Event()
    connection._tx.put_nowait((None, held.wait))  # its thread is busy: the next statement waits in its queue
    try:
        task = asyncio.ensure_future(
            ThrottleCounter.insert(ThrottleCounter(key="cancelled", failures=1, blocked_until=0.0, forget_at=1.0))
        )
        await asyncio.sleep(0.05)
        task.cancel()  # cancelled while its INSERT is still queued on that thread
        with pytest.raises(asyncio.CancelledError):
            await task
        assert connection not in engine._idle  # never handed to anyone else while its thread still owes that INSERT
        async with atomic():  # the next users get another connection and start at once
            await ThrottleCounter.insert(ThrottleCounter(key="next", failures=1, blocked_until=0.0, forget_at=1.0))
        assert await _keys() == ["next"]
    finally:
        held.set()  # now the queued INSERT runs and commits itself (autocommit), as on a connection of its own
    await asyncio.sleep(0.1)
    assert connection._connection is None and not connection._thread.is_alive()  # then the file closed
    assert connection not in engine._idle and await _keys() == ["cancelled", "next"]
    await ThrottleCounter.delete(force=True)
