"""The seeder's bulk writer: SQLite by ``executemany`` in large transactions, PostgreSQL by COPY.

Rows are tuples of ``str``, ``int`` and ``None`` (times as ``str`` of a UTC datetime, which is piccolo's SQLite
form and which PostgreSQL reads as ``timestamptz``; ids as ``str`` of the UUID). ``encode`` turns a batch into
what the sink takes — COPY text for PostgreSQL, the tuples themselves for SQLite — so a batch can be encoded
in the process that built it.

On PostgreSQL each table has its own connection and COPY task, so tables load side by side while the caller
builds the next batch. Before a table's first rows its foreign keys (out and in), primary key, unique
constraints and indexes are dropped; ``close`` puts them back from their own definitions — keys and indexes
built in one sorted pass each, each foreign key checked by one join (PostgreSQL's advice for populating a
database) — so every constraint is still checked, at the end. On SQLite the sink's connection enforces no
foreign keys, and constraints are part of the table, so only secondary indexes are dropped and rebuilt.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

BATCH = 20_000  # rows per COPY or transaction
Row = tuple[Any, ...]
Encoded = bytes | list[Row]

_ORDER = {"p": 0, "u": 0, "i": 1, "f": 2}  # primary keys and unique constraints, indexes, then foreign keys
_CONSTRAINTS = """
SELECT c.conname, c.conrelid::regclass::text AS owner, c.contype::text, pg_get_constraintdef(c.oid) AS definition
FROM pg_constraint c
WHERE (c.conrelid = to_regclass($1) AND c.contype IN ('p', 'u', 'f'))
   OR (c.confrelid = to_regclass($1) AND c.contype = 'f')
ORDER BY c.contype = 'f' DESC  -- foreign keys first: a key cannot go while one depends on it
"""
_INDEXES = """
SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1
AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = to_regclass($1))
"""


def _text(value: object) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return value
    return str(value)


def encode(rows: Iterable[Row], postgres: bool) -> Encoded:
    """A batch as the sink takes it: COPY text (PostgreSQL) or the list of tuples (SQLite)."""
    if not postgres:
        return list(rows)
    lines = []
    for row in rows:
        # Most rows need no escape: join them with NUL for None (no text holds one: PostgreSQL refuses it), check
        # the whole line once, and escape value by value only when a value might need it.
        line = "\t".join([value if type(value) is str else "\0" if value is None else str(value) for value in row])
        nones = row.count(None)
        if (line.count("\t") != len(row) - 1 or line.count("\0") != nones or "\\" in line or "\n" in line
                or "\r" in line):  # fmt: skip
            line = "\t".join([_text(value) for value in row])
        elif nones:
            line = line.replace("\0", "\\N")
        lines.append(line)
    lines.append("")
    return "\n".join(lines).encode()


class Sink:
    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = not url.startswith("sqlite:///")
        self._pg: Any = None
        self._lite: sqlite3.Connection | None = None
        # What close() puts back, in order: keys and unique constraints, then indexes, then foreign keys.
        self._dropped: dict[str, str] = {}  # name -> the statement that makes it again
        self._prepared: set[str] = set()
        self._queues: dict[str, asyncio.Queue[bytes | None]] = {}
        self._writers: dict[str, asyncio.Task[None]] = {}
        self.seconds: dict[str, float] = {}  # seconds loading each table (its COPY stream), indexes, vacuum

    async def open(self) -> None:
        if self.postgres:
            import asyncpg

            self._pg = await asyncpg.connect(self.url)
        else:
            self._lite = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            self._lite.execute("PRAGMA synchronous=OFF")

    async def prepare(self, tables: Iterable[str]) -> None:
        """Drop what slows a bulk load of ``tables`` (done anyway before a table's first rows)."""
        for table in tables:
            if table in self._prepared:
                continue
            self._prepared.add(table)
            if self._pg is not None:
                for row in await self._pg.fetch(_CONSTRAINTS, table):
                    name, owner = row["conname"], row["owner"]
                    key = f"{row['contype']}:{owner}.{name}"  # 'f' sorts after 'p' and 'u': keys first
                    if key in self._dropped:
                        continue
                    self._dropped[key] = f'ALTER TABLE {owner} ADD CONSTRAINT "{name}" {row["definition"]}'
                    await self._pg.execute(f'ALTER TABLE {owner} DROP CONSTRAINT "{name}"')
                indexes = [(row["indexname"], row["indexdef"]) for row in await self._pg.fetch(_INDEXES, table)]
            else:
                assert self._lite is not None
                query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL"
                indexes = list(self._lite.execute(query, (table,)).fetchall())
            for name, definition in indexes:
                self._dropped[f"i:{name}"] = definition
                await self._execute(f'DROP INDEX "{name}"')

    async def write(self, table: str, columns: tuple[str, ...], rows: Iterable[Row]) -> int:
        """Encode ``rows`` here and put them, ``BATCH`` at a time."""
        count = 0
        batch: list[Row] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                await self.put(table, columns, encode(batch, self.postgres))
                count, batch = count + len(batch), []
        if batch:
            await self.put(table, columns, encode(batch, self.postgres))
            count += len(batch)
        return count

    async def put(self, table: str, columns: tuple[str, ...], batch: Encoded) -> None:
        """Load one encoded batch: queued for the table's COPY task (PostgreSQL), or inserted now (SQLite)."""
        await self.prepare([table])
        if isinstance(batch, bytes):
            if table not in self._queues:
                self._queues[table] = asyncio.Queue(maxsize=4)  # a bound on what waits in memory
                self._writers[table] = asyncio.create_task(self._copy(table, columns, self._queues[table]))
            queued = asyncio.ensure_future(self._queues[table].put(batch))
            writer = self._writers[table]
            await asyncio.wait((queued, writer), return_when=asyncio.FIRST_COMPLETED)
            if not queued.done():  # the COPY ended, and only a failure ends it early
                queued.cancel()
                writer.result()
                raise RuntimeError(f"the COPY into {table} ended before its last rows")
            return
        assert self._lite is not None
        started = time.perf_counter()
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        self._lite.execute("BEGIN")
        self._lite.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', batch)
        self._lite.execute("COMMIT")
        self.seconds[table] = self.seconds.get(table, 0.0) + time.perf_counter() - started

    async def _copy(self, table: str, columns: tuple[str, ...], queue: asyncio.Queue[bytes | None]) -> None:
        import asyncpg

        connection = await asyncpg.connect(self.url)
        try:
            # lz4 (PostgreSQL 14+) compresses the large values (token, document) several times faster than the
            # default pglz; the values read back the same either way.
            try:
                await connection.execute("SET default_toast_compression = 'lz4'")
            except asyncpg.PostgresError:
                pass  # a server built without lz4 keeps pglz
            started = time.perf_counter()

            async def chunks() -> Any:
                while (chunk := await queue.get()) is not None:
                    yield chunk

            await connection.copy_to_table(table, source=chunks(), columns=list(columns), format="text")
            self.seconds[table] = time.perf_counter() - started
        finally:
            await connection.close()

    async def flush(self) -> None:
        """Wait until every queued batch is loaded; a failed COPY raises here."""
        for queue in self._queues.values():
            await queue.put(None)
        writers = list(self._writers.values())
        self._queues.clear()
        self._writers.clear()
        await asyncio.gather(*writers)

    async def close(self) -> None:
        try:
            await self.flush()
            await self._restore()
            started = time.perf_counter()
            if self._pg is not None:
                # VACUUM too: it marks the loaded pages all-visible, which the registry's index-only reads need
                # (autovacuum would do it later, at a time of its choosing).
                await self._pg.execute("VACUUM (ANALYZE)")
            if self._lite is not None:
                self._lite.execute("ANALYZE")
            self.seconds["vacuum, analyze"] = time.perf_counter() - started
        finally:
            if self._pg is not None:
                await self._pg.close()
            if self._lite is not None:
                self._lite.close()

    async def _restore(self) -> None:
        """Make again what was dropped: keys and unique constraints, then indexes, then foreign keys, each kind
        timed in ``seconds``.

        On PostgreSQL with a connection per core: a table's keys one after another (each ALTER TABLE locks its
        table) and tables side by side; indexes all side by side. Foreign keys are added ``NOT VALID`` one at a
        time (no scan, but each locks two tables, so two side by side could deadlock), then validated side by
        side, a table's own one after another: a validation locks its own table only against another
        validation or a change of schema, and the referenced table only as a reader does, so no two lanes wait
        on each other. A row that breaks a key fails its validation as it would fail a plain ``ADD CONSTRAINT``,
        and the key's definition stays in ``_dropped`` until it is valid."""
        keys: dict[str, list[tuple[str, str]]] = {}
        indexes: list[list[tuple[str, str]]] = []
        adds: list[tuple[str, str]] = []
        validations: dict[str, list[tuple[str, str]]] = {}
        for key, definition in self._dropped.items():
            owner, name = key[2:].rsplit(".", 1) if "." in key else ("", key[2:])
            if _ORDER[key[0]] == 0:
                keys.setdefault(owner, []).append((key, definition))
            elif _ORDER[key[0]] == 1:
                indexes.append([(key, definition)])
            elif self._pg is None:
                adds.append((key, definition))
            else:
                adds.append(("", definition if definition.endswith("NOT VALID") else f"{definition} NOT VALID"))
                validations.setdefault(owner, []).append((key, f'ALTER TABLE {owner} VALIDATE CONSTRAINT "{name}"'))
        steps = [("keys", list(keys.values())), ("indexes", indexes), ("foreign keys", [adds]),
                 ("foreign keys", list(validations.values()))]  # fmt: skip
        connections = [self._pg]
        try:
            if self._pg is not None:
                import asyncpg

                connections += [await asyncpg.connect(self.url) for _ in range((os.cpu_count() or 1) - 1)]
                for connection in connections:
                    await connection.execute("SET maintenance_work_mem = '512MB'")
            for phase, lanes in steps:
                started = time.perf_counter()
                if self._pg is None:
                    for lane in lanes:
                        await self._make(self._execute, lane)
                else:
                    await self._side_by_side(connections, lanes)
                self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - started
        finally:
            for connection in connections[1:]:
                await connection.close()

    async def _side_by_side(self, connections: list[Any], lanes: list[list[tuple[str, str]]]) -> None:
        """Each lane on one connection, one statement after another; as many lanes at once as connections."""
        waiting = deque(lanes)

        async def drive(connection: Any) -> None:
            while waiting:
                await self._make(connection.execute, waiting.popleft())

        try:
            async with asyncio.TaskGroup() as group:
                for connection in connections:
                    group.create_task(drive(connection))
        except ExceptionGroup as failed:  # the first failure, as a sequential run would raise it
            raise failed.exceptions[0] from None

    async def _make(self, execute: Any, lane: list[tuple[str, str]]) -> None:
        """Run a lane's statements in order; a statement that completes what was dropped under ``key`` removes it
        (only once made: a failure leaves the definition to report or retry). An empty key: a step on the way."""
        for key, statement in lane:
            await execute(statement)
            if key:
                del self._dropped[key]

    async def _execute(self, sql: str) -> None:
        if self._pg is not None:
            await self._pg.execute(sql)
        elif self._lite is not None:
            self._lite.execute(sql)
