"""Seed the database named by ``PORTAL_DATABASE_URL`` with N realistic attestations, by bulk inserts.

    .venv/bin/python -m bench.seed --attestations 1000000

Migrates first (and makes the signing keys under ``PORTAL_DATA_DIR``), then writes, in issue order over the
last three years: provider organisations (about ten attestations each), one attested assessment per
attestation, the attestations (each a real signed ``attestation+jwt`` with its status-list reference), their
status-list entries and signed-list bits, their events, and the transparency log — an ``issue`` entry per
attestation and an entry per later change, in time order, with the real leaf and subtree hashes and a signed
checkpoint, so ``portal log verify`` passes. The status mix is about 80 % active, 5 % suspended, 6 % revoked,
5 % expired and 4 % superseded (by the same provider's next attestation). Every attestation shares one
rendered certificate PDF (rendering takes 60 ms each). Prints one JSON line: the count, the seconds, the
counts per status and a sample of serials of each status.

Extending it: each table is filled by one generator over the attestations (``Seeded``); a new table (the
registry's read model, say) is one more function taking the list of ``Seeded`` and yielding rows, returned by
``registry_tables`` (or ``_tables``) with its column names.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import hashlib
import heapq
import json
import multiprocessing
import os
import random
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import msgspec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from attestations.canonical import canonical_digest, canonical_json
from attestations.checkpoint import Checkpoint, sign_checkpoint
from attestations.keys import KeyPurpose, SigningKey
from attestations.log_proof import attestation_log_entry
from attestations.merkle import hash_children, hash_leaf
from attestations.status_list import MIN_SIZE, StatusList, TokenStatus
from attestations.tokens import (
    Attestation,
    AttestationClaims,
    Catalog,
    Provider,
    Revision,
    Scope,
    Status,
    StatusListReference,
)
from bench import signing
from portal.domain.log import tree
from portal.domain.registry.rows import RegistryRow, registry_row, search_text

BATCH = 20_000
SIGN_BATCH = 5_000  # attestations per task of the signing processes
YEARS = 3
MIX = (("active", 0.80), ("suspended", 0.05), ("revoked", 0.06), ("expired", 0.05), ("superseded", 0.04))
LIST_VALUE = {
    "active": TokenStatus.VALID,
    "suspended": TokenStatus.SUSPENDED,
    "revoked": TokenStatus.INVALID,
    "expired": TokenStatus.INVALID,
    "superseded": TokenStatus.INVALID,
}
CATEGORIES = ("telecom_operator", "cloud_hosting", "device_manufacturer", "software_producer", "digital_platform")
COUNTRIES = ("BH", "AE", "SA", "OM", "QA", "KW", "EG", "JO", "MA", "GB", "DE", "SG")
WORDS = (
    "Gulf", "Nimbus", "Falcon", "Pearl", "Delta", "Oasis", "Crescent", "Atlas", "Horizon", "Cedar", "Nile", "Zenith",
    "Harbor", "Summit", "Aurora", "Dune", "Coral", "Orbit", "Beacon", "Granite",
)  # fmt: skip
KINDS = ("Telecom", "Cloud", "Networks", "Devices", "Software", "Digital", "Systems", "Data")
FAMILIES = ("GOV", "IAM", "VUL", "CVD", "INC", "LOG", "SUP", "CRI", "PRV", "CON", "LAW", "PRD", "VUS", "HRI", "AWR")
RESULT = {f: {"controls": 3, "implemented": 3} for f in FAMILIES}  # one object shared by every row
REASONS = ("non_conformity", "provider_request", "misrepresentation", "scope_change", "other")


@dataclass(slots=True)
class Seeded:
    """One attestation as seeded, with what every table needs to know about it."""

    id: uuid.UUID
    serial: str
    organisation: int  # index into the organisations
    assessment: uuid.UUID
    issued: int  # epoch seconds
    expires: int
    status: str
    changed: int | None  # epoch seconds of the change that gave it its status (None: active)
    superseded_by: str | None
    status_list: int
    status_index: int
    token: str
    document: str  # JSON, encoded at once: a million dicts would not fit in memory
    scope: str  # JSON
    scope_sha256: str
    log_indexes: list[int] = field(default_factory=list)


def _moment(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


class Sink:
    """Bulk rows into SQLite (executemany in large transactions) or PostgreSQL (COPY).

    Each table's secondary indexes are dropped before its first rows and built again, from their own
    definitions, when the sink closes: one sorted build instead of a million row-by-row updates (PostgreSQL's
    advice for populating a database). Primary keys and unique constraints stay and are checked throughout.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = not url.startswith("sqlite:///")
        self._pg: Any = None
        self._lite: sqlite3.Connection | None = None
        self._dropped: dict[str, str] = {}  # index name -> the statement that creates it
        self._loaded: set[str] = set()
        self.seconds: dict[str, float] = {}  # per table (building its rows and writing them), indexes, vacuum

    async def open(self) -> None:
        if self.postgres:
            import asyncpg

            self._pg = await asyncpg.connect(self.url)
        else:
            self._lite = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            self._lite.execute("PRAGMA synchronous=OFF")

    async def close(self) -> None:
        started = time.perf_counter()
        await self._rebuild()
        built = time.perf_counter()
        self.seconds["indexes"] = built - started
        if self._pg is not None:
            # VACUUM too: it marks the loaded pages all-visible, which the registry's index-only reads need
            # (autovacuum would do it later, at a time of its choosing).
            await self._pg.execute("VACUUM (ANALYZE)")
            await self._pg.close()
        if self._lite is not None:
            self._lite.execute("ANALYZE")
            self._lite.close()
        self.seconds["vacuum, analyze"] = time.perf_counter() - built

    def time(self, epoch: int | None) -> Any:
        if epoch is None:
            return None
        moment = _moment(epoch)
        return moment if self.postgres else str(moment)  # piccolo's SQLite form: str() of the UTC datetime

    def uid(self, value: uuid.UUID | None) -> Any:
        return value if self.postgres or value is None else str(value)

    async def _drop_indexes(self, table: str) -> None:
        if self._pg is not None:
            found = await self._pg.fetch(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1"
                " AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = to_regclass($1))",
                table,
            )
            indexes = [(row["indexname"], row["indexdef"]) for row in found]
        else:
            assert self._lite is not None
            query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL"
            indexes = list(self._lite.execute(query, (table,)).fetchall())
        for name, definition in indexes:
            self._dropped[name] = definition
            await self._execute(f'DROP INDEX "{name}"')

    async def _rebuild(self) -> None:
        if self._pg is not None:
            await self._pg.execute("SET maintenance_work_mem = '512MB'")
        for name, definition in list(self._dropped.items()):
            await self._execute(definition)
            del self._dropped[name]  # only once built: a failed build leaves the definition to report or retry

    async def _execute(self, sql: str) -> None:
        if self._pg is not None:
            await self._pg.execute(sql)
        elif self._lite is not None:
            self._lite.execute(sql)

    async def write(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> int:
        started = time.perf_counter()
        try:
            return await self._write(table, columns, rows)
        finally:
            self.seconds[table] = self.seconds.get(table, 0.0) + time.perf_counter() - started

    async def _write(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> int:
        if table not in self._loaded:
            self._loaded.add(table)
            await self._drop_indexes(table)
        count = 0
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                count += await self._flush(table, columns, batch)
                batch = []
        if batch:
            count += await self._flush(table, columns, batch)
        return count

    async def _flush(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> int:
        if self.postgres:
            await self._pg.copy_records_to_table(table, records=rows, columns=list(columns))
        else:
            assert self._lite is not None
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _ in columns)
            self._lite.execute("BEGIN")
            self._lite.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
            self._lite.execute("COMMIT")
        return len(rows)


class Plan:
    """Everything seeded, decided up front from one random seed (the same N gives the same data)."""

    def __init__(self, n: int, now: int, key: SigningKey, issuer: str, catalog: dict[str, str]) -> None:
        self.rng = random.Random(n)
        self.n, self.now, self.key, self.issuer, self.catalog = n, now, key, issuer, catalog
        self.organisations = [uuid.UUID(int=self.rng.getrandbits(128), version=4) for _ in range(max(1, n // 10))]
        self.lists = max(1, -(-n // MIN_SIZE))
        self.orders = []
        for _ in range(self.lists):
            order = list(range(MIN_SIZE))
            self.rng.shuffle(order)
            self.orders.append(order)

    def provider(self, org: int) -> dict[str, str]:
        pick = random.Random(org)
        name = f"{pick.choice(WORDS)} {pick.choice(KINDS)} {org}"
        return {
            "name": name,
            "legal_name": f"{name} W.L.L.",
            "category": CATEGORIES[org % len(CATEGORIES)],
            "country": COUNTRIES[org % len(COUNTRIES)],
            "registration": f"CR-{100000 + org}",
        }

    def attestations(self) -> Iterator[tuple[Seeded, AttestationClaims]]:
        """Each attestation, its token still to sign, with the claims to sign (``seed_rows`` signs them)."""
        rng, n, now = self.rng, self.n, self.now
        start = now - (YEARS * 365 - 60) * 86_400  # the oldest 3-year attestation still has 60 days
        per_year: dict[int, int] = {}
        orgs = len(self.organisations)
        supersede_at: dict[int, int] = {}  # attestation number -> issue time of its successor
        scopes: dict[tuple[int, int], tuple[str, str]] = {}  # (organisation, variant) -> scope JSON, digest
        providers: dict[int, dict[str, str]] = {}
        for i in range(n):
            issued = start + (now - 3_600 - start) * i // max(1, n)
            year = _moment(issued).year
            per_year[year] = per_year.get(year, 0) + 1
            serial = f"PA-{year:04d}-{per_year[year]:06d}"
            draw = rng.random()
            status = "active"
            for name, share in MIX:
                if draw < share:
                    status = name
                    break
                draw -= share
            valid_days = 365 if status == "expired" else 1095
            expires = issued + valid_days * 86_400
            if status == "expired" and expires >= now:
                status, expires = "active", issued + 1095 * 86_400
            successor = i + orgs  # the same provider's next attestation supersedes this one
            if status == "superseded" and successor >= n:
                status = "active"
            changed = None
            if status == "expired":
                changed = expires
            elif status in ("suspended", "revoked"):
                changed = issued + rng.randrange(3_600, max(3_601, min(expires, now) - issued))
            elif status == "superseded":
                changed = start + (now - 3_600 - start) * successor // n
                supersede_at[successor] = i
            org = i % orgs
            list_number, position = divmod(i, MIN_SIZE)
            index = self.orders[list_number][position]
            provider = providers.get(org) or providers.setdefault(org, self.provider(org))
            variant = i // orgs % 3 + 1
            scope = {"summary": f"{provider['name']}: services in scope {variant}", "services": ["Core"]}
            scoped = scopes.get((org, variant))
            if scoped is None:  # a provider's renewals share their scope: its JSON and digest are made once
                digest = canonical_digest({"organisation": str(self.organisations[org]), "scope": scope})
                scoped = scopes[org, variant] = (json.dumps(scope), digest)
            document = {
                "provider": provider,
                "scope": scope,
                "catalog": {"id": self.catalog["catalog_id"], "version": self.catalog["version"],
                            "sha256": self.catalog["digest"]},
                "revision": {"number": 1, "sha256": hashlib.sha256(serial.encode()).hexdigest()},
                "level": "full",
                "result": RESULT,
                "conditions": [],
            }  # fmt: skip
            claims = AttestationClaims(
                iss=self.issuer,
                sub=f"urn:portal:org:{self.organisations[org]}",
                jti=serial,
                iat=issued,
                nbf=issued,
                exp=expires,
                status=Status(
                    StatusListReference(idx=index, uri=f"{self.issuer}/api/v1/status-lists/{list_number + 1}")
                ),
                att=Attestation(
                    provider=Provider(provider["name"], provider["category"], provider["country"],
                                      provider["registration"]),
                    scope=Scope(scope["summary"], scope["services"], [], []),
                    catalog=Catalog(**document["catalog"]),
                    revision=Revision(**document["revision"]),
                    level="full",
                    result=document["result"],
                    conditions=[],
                ),
            )  # fmt: skip
            seeded = Seeded(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                serial=serial,
                organisation=org,
                assessment=uuid.UUID(int=rng.getrandbits(128), version=4),
                issued=issued,
                expires=expires,
                status=status,
                changed=changed,
                superseded_by=None,
                status_list=list_number + 1,
                status_index=index,
                token="",
                document=msgspec.json.encode(document).decode(),  # msgspec: faster than json.dumps
                scope=scoped[0],
                scope_sha256=scoped[1],
            )
            yield seeded, claims
        del supersede_at


def seed_rows(plan: Plan) -> list[Seeded]:
    """Every attestation, signed by a process per core while this one goes on building the rest (the same
    tokens as signing here: Ed25519 signatures are deterministic)."""
    private = plan.key.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    rows: list[Seeded] = []
    pending: list[tuple[list[Seeded], Future[list[str]]]] = []
    context = multiprocessing.get_context("spawn")  # no fork of a process with an event loop and connections
    with ProcessPoolExecutor(os.cpu_count() or 1, mp_context=context, initializer=signing.start,
                             initargs=(private, plan.key.created_at.timestamp())) as pool:  # fmt: skip
        batch: list[tuple[Seeded, AttestationClaims]] = []
        for pair in plan.attestations():
            batch.append(pair)
            if len(batch) == SIGN_BATCH:
                pending.append(([row for row, _ in batch], pool.submit(signing.sign_all, [c for _, c in batch])))
                batch = []
        if batch:
            pending.append(([row for row, _ in batch], pool.submit(signing.sign_all, [c for _, c in batch])))
        for seeded, tokens in pending:
            for row, token in zip(seeded, tokens.result(), strict=True):
                row.token = token
                rows.append(row)
    orgs = len(plan.organisations)
    for i, row in enumerate(rows):
        if row.status == "superseded":
            row.superseded_by = rows[i + orgs].serial
    return rows


def log_events(rows: list[Seeded]) -> Iterator[tuple[int, Seeded, str]]:
    """``(at, attestation, event)`` for every log entry, in time order: issues merged with later changes."""
    pending: list[tuple[int, int, str]] = []
    event_of = {"suspended": "suspend", "revoked": "revoke", "expired": "expire", "superseded": "supersede"}
    for number, row in enumerate(rows):
        while pending and pending[0][0] <= row.issued:
            at, other, event = heapq.heappop(pending)
            yield at, rows[other], event
        yield row.issued, row, "issue"
        if row.changed is not None:
            heapq.heappush(pending, (row.changed, number, event_of[row.status]))
    while pending:
        at, other, event = heapq.heappop(pending)
        yield at, rows[other], event


def entry_of(row: Seeded, event: str, at: int) -> dict[str, Any]:
    """The entry exactly as IssuanceService writes it."""
    entry = attestation_log_entry(row.token, jti=row.serial, event=event, at=at)
    if event == "revoke":
        entry["reason"] = REASONS[row.status_index % len(REASONS)]
    if event == "suspend":
        entry["until"] = at + 90 * 86_400
    if event == "supersede":
        entry["superseded_by"] = row.superseded_by
    return entry


class Log:
    """The log's rows and the tree arithmetic of LogService.append (kept frontier, new nodes per leaf)."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.known: dict[tree.Node, bytes] = {}
        self.size = 0
        self.nodes: list[tuple[Any, ...]] = []

    def entries(self, events: Iterable[tuple[int, Seeded, str]]) -> Iterator[tuple[Any, ...]]:
        for at, row, event in events:
            body = canonical_json(entry_of(row, event, at))
            leaf = hash_leaf(body)
            index = self.size
            self.size += 1
            row.log_indexes.append(index)
            node = leaf
            for level, position in tree.new_nodes(index):
                if level:
                    left = self.known.pop((level - 1, 2 * position))
                    right = self.known.pop((level - 1, 2 * position + 1))
                    node = hash_children(left, right)
                self.known[(level, position)] = node
                self.nodes.append((tree.node_key(level, position), level, position, node.hex()))
            yield index, body.decode(), leaf.hex(), event, row.serial, self.sink.time(at)


def _tables(plan: Plan, rows: list[Seeded], sink: Sink, certificate: str, officer: uuid.UUID) -> list[Any]:
    t, u = sink.time, sink.uid
    event_status = {"issue": "active", "suspend": "suspended", "revoke": "revoked", "expire": "expired",
                    "supersede": "superseded"}  # fmt: skip

    def organisations() -> Iterator[tuple[Any, ...]]:
        for number, org in enumerate(plan.organisations):
            p = plan.provider(number)
            yield (u(org), "provider", p["name"], p["legal_name"], p["category"], p["country"], p["registration"],
                   f"https://org{number}.example", f"security@org{number}.example", "verified", "",
                   t(plan.now - YEARS * 366 * 86_400), u(officer), t(plan.now - YEARS * 366 * 86_400))  # fmt: skip

    def assessments() -> Iterator[tuple[Any, ...]]:
        for row in rows:
            yield (u(row.assessment), u(plan.organisations[row.organisation]), u(uuid.UUID(plan.catalog["id"])),
                   f"Annual filing {_moment(row.issued).year}", row.scope, "attested", 1, 1,
                   u(officer), t(row.issued - 30 * 86_400), t(row.issued), t(row.issued - 20 * 86_400))  # fmt: skip

    def attestations() -> Iterator[tuple[Any, ...]]:
        for row in rows:
            suspended_until = row.changed + 90 * 86_400 if row.status == "suspended" and row.changed else None
            yield (u(row.id), row.serial, u(row.assessment), f"{row.assessment}:1",
                   u(plan.organisations[row.organisation]), row.scope_sha256, row.document, "full",
                   row.status, row.status_list, row.status_index, row.token,
                   hashlib.sha256(row.token.encode()).hexdigest(), certificate, t(row.issued), t(row.expires),
                   t(suspended_until), row.superseded_by, u(officer), t(row.issued),
                   t(row.changed or row.issued))  # fmt: skip

    def events() -> Iterator[tuple[Any, ...]]:
        rng = random.Random(7)
        for row in rows:
            names = ["issue"] if row.changed is None else ["issue", {"suspended": "suspend", "revoked": "revoke",
                     "expired": "expire", "superseded": "supersede"}[row.status]]  # fmt: skip
            for event, index in zip(names, row.log_indexes, strict=True):
                at = row.issued if event == "issue" else row.changed
                assert at is not None
                reason = REASONS[row.status_index % len(REASONS)] if event == "revoke" else ""
                until = t(at + 90 * 86_400) if event == "suspend" else None
                yield (u(uuid.UUID(int=rng.getrandbits(128), version=4)), u(row.id), row.serial, event,
                       event_status[event], reason, "seeded" if event != "issue" else "", until,
                       u(officer if event != "expire" else None), index, t(at))  # fmt: skip

    def entries() -> Iterator[tuple[Any, ...]]:
        rng = random.Random(11)
        for row in rows:
            yield (u(uuid.UUID(int=rng.getrandbits(128), version=4)), f"{row.status_list}:{row.status_index}",
                   row.status_list, row.status_index, row.serial, t(row.issued))  # fmt: skip

    def lists() -> Iterator[tuple[Any, ...]]:
        bits = [StatusList(MIN_SIZE, 2) for _ in range(plan.lists)]
        counts = [0] * plan.lists
        for row in rows:
            bits[row.status_list - 1].set(row.status_index, int(LIST_VALUE[row.status]))
            counts[row.status_list - 1] += 1
        for number, entries_ in enumerate(bits):
            data = base64.b64encode(entries_.to_bytes()).decode()
            yield number + 1, 2, MIN_SIZE, data, counts[number], 1, t(plan.now), t(plan.now)

    return [
        ("organisation", ("id", "kind", "name", "legal_name", "category", "country", "registration_number",
                          "website", "contact_email", "status", "status_reason", "verified_at", "verified_by",
                          "created_at"), organisations),
        ("assessment", ("id", "organisation", "catalog", "title", "scope", "state", "revision", "version",
                        "created_by", "created_at", "updated_at", "submitted_at"), assessments),
        ("attestation", ("id", "serial", "assessment", "revision_key", "organisation", "scope_sha256", "document",
                         "level", "status", "status_list", "status_index", "token", "token_sha256",
                         "certificate_sha256", "valid_from", "expires_at", "suspended_until", "superseded_by",
                         "issued_by", "created_at", "updated_at"), attestations),
        ("attestation_event", ("id", "attestation", "serial", "event", "status", "reason", "detail", "until",
                               "actor", "log_index", "at"), events),
        ("status_list", ("id", "bits", "size", "data", "allocated", "version", "created_at", "updated_at"), lists),
        ("status_entry", ("id", "key", "status_list", "idx", "serial", "created_at"), entries),
    ]  # fmt: skip


REGISTRY_COLUMNS = tuple(RegistryRow.__struct_fields__)
Generated = tuple[str, tuple[str, ...], Iterable[tuple[Any, ...]]]


def registry_tables() -> list[Callable[[Plan, list[Seeded], Sink], Generated]]:
    """The public registry's read model, built by the registry's own pure function: one entry per attestation,
    then each distinct search text the entries name (written after them, once the entries have listed them)."""
    texts: dict[uuid.UUID, tuple[str, str, str]] = {}  # id -> search text, category, country

    def registry_entries(plan: Plan, rows: list[Seeded], sink: Sink) -> Generated:
        t, u = sink.time, sink.uid

        def generate() -> Iterator[tuple[Any, ...]]:
            # An entry's public part (document, profile, sort name) depends on the provider and the scope only, so
            # registry_row runs once per provider and scope and the rest of its renewals take that row's values.
            made: dict[tuple[int, str], tuple[RegistryRow, str]] = {}  # its row (document aside), document JSON
            for row in rows:
                known = made.get((row.organisation, row.scope))
                if known is None:
                    entry = registry_row(
                        serial=row.serial,
                        organisation=plan.organisations[row.organisation],
                        document=json.loads(row.document),
                        name_ar="",
                        status=row.status,
                        level="full",
                        valid_from=_moment(row.issued),
                        expires_at=_moment(row.expires),
                        superseded_by=row.superseded_by,
                        updated_at=_moment(row.changed or row.issued),
                    )
                    texts[entry.text] = (search_text(entry.document), entry.category, entry.country)
                    known = made[row.organisation, row.scope] = (
                        msgspec.structs.replace(entry, document={}),
                        json.dumps(entry.document),
                    )
                values = msgspec.structs.asdict(known[0])
                values.update(serial=row.serial, status=row.status, superseded_by=row.superseded_by)
                values["organisation"] = u(values["organisation"])
                values["text"] = u(values["text"])
                values["document"] = known[1]
                values["valid_from"], values["expires_at"] = t(row.issued), t(row.expires)
                values["updated_at"] = t(row.changed or row.issued)
                yield tuple(values[name] for name in REGISTRY_COLUMNS)

        return "registry_entry", REGISTRY_COLUMNS, generate()

    def registry_texts(plan: Plan, rows: list[Seeded], sink: Sink) -> Generated:
        columns = ("id", "search", "category", "country")
        return "registry_text", columns, ((sink.uid(key), *profile) for key, profile in texts.items())

    return [registry_entries, registry_texts]


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
        plan = Plan(
            n,
            int(time.time()),
            runtime.keys.signing_key(KeyPurpose.ATTESTATION),
            settings.issuer.rstrip("/"),
            {k: str(v) for k, v in catalog.items()},
        )
        rows = seed_rows(plan)
        signed = time.perf_counter()
        pdf = render_certificate(CertificateData.from_token(rows[0].token))
        certificate = runtime.issuance.certificates.put(pdf)
        sink = Sink(settings.database_url)
        await sink.open()
        try:
            log = Log(sink)
            columns = ("index", "body", "leaf_hash", "event", "jti", "at")
            await sink.write("log_entry", columns, log.entries(log_events(rows)))
            await sink.write("log_node", ("key", "level", "index", "hash"), log.nodes)
            officer = uuid.UUID(int=1, version=4)
            for table, names, generate in _tables(plan, rows, sink, certificate, officer):
                await sink.write(table, names, generate())
            for extra in registry_tables():
                table, names, generated = extra(plan, rows, sink)
                await sink.write(table, names, generated)
        finally:
            await sink.close()
        root = tree.root(log.size, {node: log.known[node] for node in tree.frontier(log.size)})
        note = sign_checkpoint(Checkpoint(runtime.log.origin, log.size, root), runtime.keys.signing_key(KeyPurpose.LOG))
        await LogCheckpoint.insert(
            LogCheckpoint(size=log.size, root_hash=root.hex(), note=note, at=_moment(plan.now))
        ).run()
    finally:
        await close_engine(engine)
    counts: dict[str, int] = {}
    samples: dict[str, list[str]] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
        if len(samples.setdefault(row.status, [])) < 5:
            samples[row.status].append(row.serial)
    return {
        "count": len(rows),
        "seconds": round(time.perf_counter() - started, 1),
        "signing_seconds": round(signed - started, 1),
        "phases": {name: round(seconds, 1) for name, seconds in sink.seconds.items()},
        "log_entries": log.size,
        "statuses": counts,
        "sample": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.seed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--attestations", type=int, required=True, help="how many (at most 2,999,997)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(seed(args.attestations))))


if __name__ == "__main__":
    main()
