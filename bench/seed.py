"""Seed the database named by ``PORTAL_DATABASE_URL`` with N realistic attestations, by bulk inserts.

    .venv/bin/python -m bench.seed --attestations 1000000

Migrates first (and makes the signing keys under ``PORTAL_DATA_DIR``), then writes, in issue order over the
last three years: provider organisations (about ten attestations each), one attested assessment per
attestation, the attestations (each a real signed ``attestation+jwt`` with its status-list reference), their
status-list entries and signed-list bits, their events, the public registry's entries and profiles, and the
transparency log — an ``issue`` entry per attestation and an entry per later change, in time order, with the
real leaf and subtree hashes and a signed checkpoint, so ``portal log verify`` passes. Each attestation's fate is
drawn as 80 % active, 5 % suspended, 6 % revoked, 5 % expired and 4 % superseded (by the same provider's
next attestation); one drawn to expire whose year has not yet run out, or to be superseded with no
successor, stays active, so about 82 % active, 5 % suspended, 6 % revoked, 3 % expired and 4 % superseded
are stored. Every attestation shares one rendered certificate PDF (rendering takes 60 ms each). Prints one
JSON line: the count, the seconds, the seconds of each phase, the counts per status and a sample of serials
of each status.

How the work is shared: every fact about an attestation is a pure function of its number
(``bench.seed_plan``), so a process per core (``bench.seed_slices``) builds slices of 5,000 attestations —
tokens, the rows of every table that depends on the attestation alone, and its log entries' bodies and leaf
hashes — already encoded for the database. This process takes the slices in order, hands their rows to the
sink (on PostgreSQL one COPY stream per table, loading side by side), and does what needs the order: the
log's tree and indexes and the events that name them. Adding a table: rows that depend on one attestation
go in ``bench.seed_slices.build`` (with its columns in ``TABLES``); rows that need all of them, here.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import heapq
import json
import multiprocessing
import os
import time
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from attestations.checkpoint import Checkpoint, sign_checkpoint
from attestations.keys import KeyPurpose, SigningKey
from attestations.merkle import hash_children
from attestations.status_list import MIN_SIZE, StatusList
from attestations.tokens import sign_attestation
from bench import seed_slices
from bench.seed_plan import LIST_VALUE, YEARS, Plan, moment
from bench.seed_slices import EVENT, LOG_ENTRY, TABLES, Logged, Slice
from bench.seed_slices import time as when
from bench.sink import BATCH, Row, Sink
from portal.domain.log import tree

SLICE = 5_000  # attestations per task of the workers
ORGANISATION = ("id", "kind", "name", "legal_name", "category", "country", "registration_number", "website",
                "contact_email", "status", "status_reason", "verified_at", "verified_by", "created_at")  # fmt: skip
LOG_NODE = ("key", "level", "index", "hash")
STATUS_LIST = ("id", "bits", "size", "data", "allocated", "version", "created_at", "updated_at")
REGISTRY_TEXT = ("id", "search", "category", "country")


class Log:
    """The log's rows and the tree arithmetic of LogService.append (kept frontier, new nodes per leaf), with the
    events that name each entry's index; entries arrive in time order, their rows built but for the index."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.known: dict[tree.Node, bytes] = {}
        self.size = 0
        self.entries: list[Any] = []  # COPY lines (PostgreSQL) or tuples (SQLite)
        self.nodes: list[Any] = []
        self.events: list[Any] = []

    def append(self, logged: Logged) -> None:
        index = self.size
        self.size += 1
        node = logged.leaf
        for level, position in tree.new_nodes(index):
            if level:
                node = hash_children(self.known.pop((level - 1, 2 * position)),
                                     self.known.pop((level - 1, 2 * position + 1)))  # fmt: skip
            self.known[(level, position)] = node
            key = tree.node_key(level, position)
            self.nodes.append(f"{key}\t{level}\t{position}\t{node.hex()}" if self.postgres
                              else (key, level, position, node.hex()))  # fmt: skip
        if self.postgres:
            self.entries.append(f"{index}\t{logged.entry}")
            self.events.append(f"{logged.event}\t{index}\t{logged.event_at}")
        else:
            self.entries.append((index, *logged.entry))
            self.events.append((*logged.event, index, *logged.event_at))

    def root(self) -> bytes:
        return tree.root(self.size, {node: self.known[node] for node in tree.frontier(self.size)})

    async def put(self, sink: Sink, at_least: int = BATCH) -> None:
        for table, columns, rows in (("log_entry", LOG_ENTRY, self.entries), ("log_node", LOG_NODE, self.nodes),
                                     ("attestation_event", EVENT, self.events)):  # fmt: skip
            if rows and len(rows) >= at_least:
                await sink.put(table, columns, ("\n".join(rows) + "\n").encode() if self.postgres else list(rows))
                rows.clear()


class Tally:
    """The status lists' bits and the counts and samples of each status."""

    def __init__(self, plan: Plan) -> None:
        self.lists = [StatusList(MIN_SIZE, 2) for _ in range(plan.lists)]
        self.allocated = [0] * plan.lists
        self.counts: dict[str, int] = {}
        self.samples: dict[str, list[str]] = {}

    def add(self, status: str, serial: str, status_list: int, index: int) -> None:
        self.lists[status_list - 1].set(index, int(LIST_VALUE[status]))
        self.allocated[status_list - 1] += 1
        self.counts[status] = self.counts.get(status, 0) + 1
        if len(self.samples.setdefault(status, [])) < 5:
            self.samples[status].append(serial)

    def rows(self, now: int) -> Iterator[Row]:
        for number, bits in enumerate(self.lists):
            yield (number + 1, 2, MIN_SIZE, base64.b64encode(bits.to_bytes()).decode(), self.allocated[number], 1,
                   when(now), when(now))  # fmt: skip


def organisations(plan: Plan, officer: str) -> Iterator[Row]:
    verified = when(plan.now - YEARS * 366 * 86_400)
    for number, org in enumerate(plan.organisations):
        p = plan.provider(number)
        yield (str(org), "provider", p["name"], p["legal_name"], p["category"], p["country"], p["registration"],
               f"https://org{number}.example", f"security@org{number}.example", "verified", "", verified, officer,
               verified)  # fmt: skip


def slices(plan: Plan, key: SigningKey, postgres: bool, certificate: str, officer: str) -> Iterator[Future[Slice]]:
    """The slices, built by a process per core, in order, with a few under way ahead of the one taken."""
    private = key.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    workers = os.cpu_count() or 1
    context = multiprocessing.get_context("spawn")  # no fork of a process with an event loop and connections
    args = ((plan.n, plan.now, plan.issuer, plan.catalog), private, key.created_at.timestamp(), postgres,
            certificate, officer)  # fmt: skip
    with ProcessPoolExecutor(workers, mp_context=context, initializer=seed_slices.start, initargs=args) as pool:
        starts = iter(range(0, plan.n, SLICE))
        ahead: deque[Future[Slice]] = deque()
        for first in starts:
            ahead.append(pool.submit(seed_slices.build, first, min(first + SLICE, plan.n)))
            if len(ahead) > 2 * workers:
                yield ahead.popleft()
        yield from ahead


async def load(plan: Plan, key: SigningKey, sink: Sink, certificate: str, officer: str) -> tuple[Log, Tally]:
    log, tally = Log(sink.postgres), Tally(plan)
    await sink.write("organisation", ORGANISATION, organisations(plan, officer))
    pending: list[tuple[int, int, Logged]] = []  # changes not yet due: (at, attestation number, the change)
    profiles: dict[str, tuple[str, str, str]] = {}  # registry profile id -> search text, category, country
    for future in slices(plan, key, sink.postgres, certificate, officer):
        done = await asyncio.wrap_future(future)
        for table, rows in done.tables.items():
            await sink.put(table, TABLES[table], rows)
        for offset, issue in enumerate(done.issues):
            while pending and pending[0][0] <= issue.at:
                log.append(heapq.heappop(pending)[2])
            log.append(issue)
            change = done.changes.get(done.start + offset)
            if change is not None:
                heapq.heappush(pending, (change.at, done.start + offset, change))
            if offset % 500 == 0:
                await asyncio.sleep(0)  # let the COPY streams send what they hold
        for status in done.statuses:
            tally.add(*status)
        await log.put(sink)
        profiles.update(done.texts)
    while pending:
        log.append(heapq.heappop(pending)[2])
    await log.put(sink, at_least=1)
    await sink.write("status_list", STATUS_LIST, tally.rows(plan.now))
    await sink.write("registry_text", REGISTRY_TEXT, ((k, *v) for k, v in profiles.items()))
    return log, tally


async def seed(n: int) -> dict[str, Any]:
    from attestations.certificate import CertificateData, render_certificate
    from portal.db import close_engine, connect, open_engine
    from portal.db.migrate import migrate
    from portal.db.tables import AttestationRow, Catalog, LogCheckpoint, LogEntry
    from portal.runtime import build_runtime
    from portal.settings import load_settings

    started = time.perf_counter()
    settings = load_settings()
    engine = connect(settings.database_url)
    await open_engine(engine)
    try:
        await migrate(engine)
        runtime = build_runtime(settings)
        runtime.keys.ensure_all()
        await runtime.catalogs.ensure_baseline()
        if await AttestationRow.count() or await LogEntry.count():
            raise SystemExit("bench.seed: the database already holds attestations or log entries; give it an empty one")
        catalog = await Catalog.select(Catalog.id, Catalog.catalog_id, Catalog.version, Catalog.digest).first()
        assert catalog is not None
        plan = Plan(n, int(time.time()), settings.issuer.rstrip("/"), {k: str(v) for k, v in catalog.items()})
        key = runtime.keys.signing_key(KeyPurpose.ATTESTATION)
        first = plan.fate(0)
        token = sign_attestation(plan.claims(first, plan.document(first)), key)
        certificate = runtime.issuance.certificates.put(render_certificate(CertificateData.from_token(token)))
        officer = str(uuid.UUID(int=1, version=4))
        sink = Sink(settings.database_url)
        await sink.open()
        try:
            await sink.prepare(["organisation", *TABLES, "attestation_event", "log_entry", "log_node",
                                "status_list", "registry_text"])  # fmt: skip
            loading = time.perf_counter()
            log, tally = await load(plan, key, sink, certificate, officer)
            await sink.flush()
            sink.seconds["building and loading"] = time.perf_counter() - loading
        finally:
            await sink.close()
        note = sign_checkpoint(
            Checkpoint(runtime.log.origin, log.size, log.root()), runtime.keys.signing_key(KeyPurpose.LOG)
        )
        await LogCheckpoint.insert(
            LogCheckpoint(size=log.size, root_hash=log.root().hex(), note=note, at=moment(plan.now))
        ).run()
    finally:
        await close_engine(engine)
    return {
        "count": n,
        "seconds": round(time.perf_counter() - started, 1),
        "workers": os.cpu_count() or 1,
        "phases": {name: round(seconds, 1) for name, seconds in sink.seconds.items()},
        "log_entries": log.size,
        "statuses": tally.counts,
        "sample": tally.samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.seed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--attestations", type=int, required=True, help="how many (at most 2,999,997)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(seed(args.attestations))))


if __name__ == "__main__":
    main()
