"""Transparency log benchmark: append rate through LogService, then proof, tile and checkpoint latency at
1,000,000 entries, in the service and through the application, on a fresh SQLite database or on PostgreSQL.

``measure(size=1_000_000, postgres_url=None) -> dict[str, float | int | str]`` returns the named figures
(milliseconds are medians and 95th percentiles, ``*_ms_median`` / ``*_ms_p95``); ``report(figures)`` is
their text. ``python -m bench.log`` prints it, with ``LOG_BENCH_SIZE`` and ``LOG_BENCH_POSTGRES_URL`` (an
empty database: its schema is dropped and recreated) taken from the environment.

Only the first appends go through the service (that is the append rate); the rest of the log is
bulk-loaded with the same rows the service writes, straight through the database driver, because a million
signed appends would take far longer than the measurements.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from attestations.canonical import canonical_json
from attestations.checkpoint import Checkpoint, sign_checkpoint
from attestations.keys import KeyPurpose
from attestations.merkle import hash_children, hash_leaf
from portal.domain.log import tree

APPENDS = 300
BATCH = 20_000


def _settings(tmp: Path, url: str) -> Any:
    from portal.settings import load_settings

    return load_settings(
        {
            "PORTAL_ENV": "test",
            "PORTAL_DATA_DIR": str(tmp),
            "PORTAL_DATABASE_URL": url,
            "PORTAL_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "PORTAL_ISSUER": "http://bench.invalid",
            "PORTAL_LOG_LEVEL": "WARNING",
        }
    )


def _rows(start: int, end: int, known: dict[tree.Node, bytes]) -> Iterator[tuple[list[Any], list[Any]]]:
    """Entry and node rows for leaves ``start .. end - 1``, exactly as LogService.append writes them."""
    entries: list[Any] = []
    nodes: list[Any] = []
    for index in range(start, end):
        # Filler shaped like audit anchors: a portal's log holds few `key` entries, and start-up reads them all.
        filler = {"event": "audit-anchor", "seq": index, "head": "00" * 32, "at": 1_767_225_600 + index}
        body = canonical_json(filler)
        leaf = hash_leaf(body)
        entries.append((index, body.decode(), leaf.hex(), "audit-anchor", None))
        node = leaf
        for level, position in tree.new_nodes(index):
            if level:  # ``known`` keeps only the frontier: both children go once their parent is made
                left, right = known.pop((level - 1, 2 * position)), known.pop((level - 1, 2 * position + 1))
                node = hash_children(left, right)
            known[(level, position)] = node
            nodes.append((tree.node_key(level, position), level, position, node.hex()))
        if len(entries) >= BATCH:
            yield entries, nodes
            entries, nodes = [], []
    if entries:
        yield entries, nodes


def _frontier_of(size: int, stored: dict[tree.Node, bytes]) -> dict[tree.Node, bytes]:
    return {node: stored[node] for node in tree.frontier(size)}


async def _bulk_load(url: str, start: int, end: int, known: dict[tree.Node, bytes], at: Any) -> None:
    if url.startswith("sqlite:///"):
        import sqlite3

        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            for entries, nodes in _rows(start, end, known):
                connection.executemany(
                    'INSERT INTO log_entry ("index", body, leaf_hash, event, jti, at) VALUES (?, ?, ?, ?, ?, ?)',
                    [(*e, at) for e in entries],
                )
                connection.executemany('INSERT INTO log_node (key, level, "index", hash) VALUES (?, ?, ?, ?)', nodes)
                connection.commit()
        finally:
            connection.close()
        return
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        for entries, nodes in _rows(start, end, known):
            await connection.copy_records_to_table(
                "log_entry",
                records=[(*e, at) for e in entries],
                columns=["index", "body", "leaf_hash", "event", "jti", "at"],
            )
            await connection.copy_records_to_table("log_node", records=nodes, columns=["key", "level", "index", "hash"])
    finally:
        await connection.close()


Figures = dict[str, float | int | str]


async def _timed(figures: Figures, name: str, work: Callable[[], Awaitable[Any]], runs: int) -> None:
    """``name_ms_median`` and ``name_ms_p95`` of ``work`` into ``figures``."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await work()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    figures[f"{name}_ms_median"] = round(statistics.median(samples), 3)
    figures[f"{name}_ms_p95"] = round(samples[int(len(samples) * 0.95) - 1], 3)


async def _served(settings: Any, n: int, rng: random.Random, figures: Figures) -> None:
    """The same reads through the whole application (ASGI, no network): routing, problems, encoding."""
    import logging

    import httpx

    from portal.app import create_app
    from portal.db import close_engine, open_engine
    from portal.db.tables import LogEntry

    app = create_app(settings)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the numbers
    await open_engine(LogEntry._meta.db)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:

            async def get(path: str) -> None:
                response = await client.get(path)
                assert response.status_code == 200, response.text

            for name, path in (
                ("served_proof", lambda: "/api/v1/log/proof/BENCH-1"),
                ("served_hash_tile", lambda: f"/log/tile/0/{tree.encode_tile_index(rng.randrange(n // 256))}"),
                ("served_entry_bundle", lambda: f"/log/tile/entries/{tree.encode_tile_index(rng.randrange(n // 256))}"),
                ("served_checkpoint", lambda: "/log/checkpoint"),
                ("served_consistency", lambda: f"/api/v1/log/consistency?from={rng.randrange(1, n)}"),
                ("served_entries_1000", lambda: f"/api/v1/log/entries?start={rng.randrange(n - 1000)}"),
            ):
                await _timed(figures, name, lambda path=path: get(path()), 200)
    finally:
        await close_engine(LogEntry._meta.db)


MONITOR_NEW = 1000


async def _monitor(settings: Any, n: int, figures: Figures) -> None:
    """A `portal monitor` run over HTTP (a real `portal serve`) that finds ``MONITOR_NEW`` new entries."""
    from attestations.merkle import frontier_root
    from attestations.monitor import Monitor, MonitorState
    from portal.domain.log import repo
    from tests.served import Served

    seen = n - MONITOR_NEW
    frontier = [value for _, value in sorted((await repo.nodes(tree.frontier(seen))).items(), key=lambda i: -i[0][0])]
    server = Served(settings)
    try:
        state = MonitorState(
            base=server.base,
            origin=f"127.0.0.1:{server.port}/log",  # its start-up signed a checkpoint (the first keys' entries)
            size=seen,
            root=frontier_root(frontier).hex(),
            frontier=[h.hex() for h in frontier],
        )
        monitor = Monitor(server.base)
        start = time.perf_counter()
        monitor.sync(state, full=False)  # checkpoint, consistency, the new entries hashed to the root, replay
        figures[f"monitor_{MONITOR_NEW}_new_entries_ms"] = round((time.perf_counter() - start) * 1000, 1)
        figures["monitor_requests"] = monitor.http.requests
    finally:
        server.stop()


async def _measure(size: int, postgres_url: str | None) -> Figures:
    from portal.clock import now
    from portal.db import atomic, close_engine, connect, open_engine
    from portal.db.migrate import migrate
    from portal.db.tables import LogCheckpoint, LogEntry, LogNode
    from portal.runtime import build_runtime

    tmp = Path(tempfile.mkdtemp(prefix="portal-log-bench-"))
    url = postgres_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    if url.startswith("postgres"):
        import asyncpg

        connection = await asyncpg.connect(url)
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        await connection.close()
    figures: Figures = {"database": "postgresql" if url.startswith("postgres") else "sqlite", "entries": size}
    engine = connect(url)
    await open_engine(engine)
    try:
        await migrate(engine)
        runtime = build_runtime(_settings(tmp, url))
        log = runtime.log

        start = time.perf_counter()
        for i in range(APPENDS):
            async with atomic():
                await log.append({"event": "key", "kid": f"bench-{i}", "at": 1_767_225_600 + i})
        figures["append_per_s"] = round(APPENDS / (time.perf_counter() - start), 1)

        # Bulk-load the rest: replay the service's node arithmetic from its stored frontier.
        stored = {(int(r["level"]), int(r["index"])): bytes.fromhex(r["hash"]) for r in await LogNode.select().run()}
        known = _frontier_of(APPENDS, stored)
        load_start = time.perf_counter()
        await _bulk_load(url, APPENDS, size - 1, known, now())
        root = tree.root(size - 1, known)
        note = sign_checkpoint(Checkpoint(log.origin, size - 1, root), runtime.keys.signing_key(KeyPurpose.LOG))
        await LogCheckpoint.insert(LogCheckpoint(size=size - 1, root_hash=root.hex(), note=note, at=now())).run()
        figures["bulk_load_s"] = round(time.perf_counter() - load_start, 1)
        async with atomic():
            await log.append({"event": "issue", "jti": "BENCH-1", "token_sha256": "ab" * 32, "at": 1_767_225_600})
        assert await LogEntry.count() == size
        if size <= 50_000:  # the bulk load wrote what the service would have: check it as an auditor would
            report = await log.verify()
            assert report.ok, report.problems

        rng = random.Random(13)
        n = size
        await _timed(figures, "inclusion_proof", lambda: log.inclusion_proof(rng.randrange(n), n), 300)
        await _timed(figures, "consistency_proof", lambda: log.consistency_proof(rng.randrange(1, n), n), 300)
        await _timed(figures, "log_proof_json", lambda: log.proof("BENCH-1"), 200)
        await _timed(figures, "hash_tile", lambda: log.tile(0, rng.randrange(n // 256), 256), 200)
        await _timed(figures, "entry_bundle", lambda: log.tile(None, rng.randrange(n // 256), 256), 200)
        await _timed(figures, "checkpoint", log.checkpoint, 300)

        async def append() -> None:
            async with atomic():
                await log.append({"event": "key", "kid": "late", "at": 1})

        await _timed(figures, "append_at_size", append, 50)
        await _served(_settings(tmp, url), n, rng, figures)
        await _monitor(_settings(tmp, url), n, figures)
    finally:
        await close_engine(engine)
        shutil.rmtree(tmp, ignore_errors=True)
    return figures


def measure(size: int = 1_000_000, postgres_url: str | None = None) -> Figures:
    """Append rate, proof, tile and checkpoint latency at ``size`` entries: named figures (see the module)."""
    return asyncio.run(_measure(size, postgres_url))


def report(figures: Figures) -> str:
    """The figures as ``make bench`` prints them."""
    lines = [f"transparency log on {figures['database']} at {figures['entries']:,} entries"]
    lines += [f"  {name}: {value}" for name, value in figures.items() if name not in ("database", "entries")]
    return "\n".join(lines)


def run() -> None:
    size = int(os.environ.get("LOG_BENCH_SIZE", "1000000"))
    print(report(measure(size, os.environ.get("LOG_BENCH_POSTGRES_URL") or None)))


if __name__ == "__main__":
    run()
