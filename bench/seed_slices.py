"""The seeder's worker processes: each builds every row of a slice of the attestations that depends on nothing
but the attestation itself — its signed token, its assessment, attestation, status-list entry and registry
entry, and the bodies and leaf hashes of its log entries — encoded for the sink where it was built.

A module of its own, so a process started by spawn finds these functions however the seeder itself was run
(``python -m bench.seed``, from ``bench``, or under a profiler).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any, NamedTuple

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from attestations.keys import KeyPurpose, SigningKey
from attestations.log_proof import attestation_log_entry
from attestations.merkle import hash_leaf
from attestations.tokens import sign_attestation
from bench.seed_plan import SUSPENSION, Fate, Plan, moment
from bench.sink import Encoded, Row, encode
from portal.domain.registry.rows import RegistryRow, registry_row, search_text

ASSESSMENT = ("id", "organisation", "catalog", "title", "scope", "state", "revision", "version", "created_by",
              "created_at", "updated_at", "submitted_at")  # fmt: skip
ATTESTATION = ("id", "serial", "assessment", "revision_key", "organisation", "scope_sha256", "document", "level",
               "status", "status_list", "status_index", "token", "token_sha256", "certificate_sha256", "valid_from",
               "expires_at", "suspended_until", "superseded_by", "issued_by", "created_at", "updated_at")  # fmt: skip
STATUS_ENTRY = ("id", "key", "status_list", "idx", "serial", "created_at")
REGISTRY_ENTRY = tuple(RegistryRow.__struct_fields__)
TABLES = {"assessment": ASSESSMENT, "attestation": ATTESTATION, "status_entry": STATUS_ENTRY,
          "registry_entry": REGISTRY_ENTRY}  # fmt: skip

LOG_ENTRY = ("index", "body", "leaf_hash", "event", "jti", "at")
EVENT = ("id", "attestation", "serial", "event", "status", "reason", "detail", "until", "actor", "log_index", "at")
STATUS_AFTER = {"issue": "active", "suspend": "suspended", "revoke": "revoked", "expire": "expired",
                "supersede": "superseded"}  # fmt: skip


class Logged(NamedTuple):
    """A log entry and its event, but for the log index that only the main process, taking every entry in time
    order, can give: their rows with the index left out, encoded for the sink (COPY text or tuples)."""

    at: int
    leaf: bytes
    entry: Any  # the log_entry row after its index
    event: Any  # the attestation_event row before its log_index
    event_at: Any  # and after it


@dataclass(slots=True)
class Slice:
    """What a worker built for attestations ``start`` to ``start + len(issues) - 1``."""

    start: int
    tables: dict[str, Encoded]  # table -> its encoded rows, in TABLES' columns
    issues: list[Logged]  # the ``issue`` log entry of each attestation, in order
    changes: dict[int, Logged]  # attestation number -> the log entry of its later change
    statuses: list[tuple[str, str, int, int]]  # each attestation's status, serial, status list and index
    texts: dict[str, tuple[str, str, str]]  # registry profile id -> its search text, category, country


@dataclass(slots=True)
class _Worker:
    plan: Plan
    key: SigningKey
    postgres: bool
    certificate: str
    officer: str
    scopes: dict[tuple[int, str], tuple[str, str]]  # (organisation, scope summary) -> scope JSON, its digest
    registry: dict[tuple[int, str], tuple[dict[str, Any], str]]  # -> registry row's values, its document JSON


_STATE: _Worker | None = None  # in each worker process


def start(
    plan: tuple[Any, ...], private: bytes, created: float, postgres: bool, certificate: str, officer: str
) -> None:
    global _STATE
    key = SigningKey(Ed25519PrivateKey.from_private_bytes(private), KeyPurpose.ATTESTATION,
                     dt.datetime.fromtimestamp(created, dt.UTC))  # fmt: skip
    _STATE = _Worker(Plan(*plan), key, postgres, certificate, officer, {}, {})


_DAYS: dict[int, str] = {}  # day number -> its ISO date


def time(epoch: int | None) -> str | None:
    """A time as both engines take it: ``str`` of the UTC datetime, piccolo's SQLite form (made here from the
    day's date and the seconds into it, three times faster than through a datetime)."""
    if epoch is None:
        return None
    day, second = divmod(epoch, 86_400)
    date = _DAYS.get(day)
    if date is None:
        date = _DAYS[day] = moment(day * 86_400).date().isoformat()
    hours, rest = divmod(second, 3_600)
    return f"{date} {hours:02d}:{rest // 60:02d}:{rest % 60:02d}+00:00"


def child_id(parent: uuid.UUID, what: str) -> str:
    """A stable id for a row that belongs to ``parent``."""
    return str(uuid.UUID(bytes=hashlib.blake2b(parent.bytes + what.encode(), digest_size=16).digest(), version=4))


def canonical(value: Any) -> bytes:
    """RFC 8785 JSON of the seeder's own documents, by msgspec with sorted keys: for objects whose keys and
    strings are printable ASCII and whose numbers are integers, as all of these are, the two give the same
    bytes, and msgspec is 30 times faster (``tests/unit/bench/test_seed_slices.py`` compares them on a seed)."""
    return msgspec.json.encode(value, order="sorted")


def logged(state: _Worker, token: str, fate: Fate, event: str, at: int) -> Logged:
    """The log entry exactly as IssuanceService writes it, with its leaf hash, and the event that names it."""
    entry = attestation_log_entry(token, jti=fate.serial, event=event, at=at)
    if event == "revoke":
        entry["reason"] = fate.reason
    if event == "suspend":
        entry["until"] = at + SUSPENSION
    if event == "supersede":
        entry["superseded_by"] = fate.superseded_by
    body = canonical(entry)
    leaf = hash_leaf(body)
    row = (body.decode(), leaf.hex(), event, fate.serial, time(at))
    head = (child_id(fate.id, event), str(fate.id), fate.serial, event, STATUS_AFTER[event],
            fate.reason if event == "revoke" else "", "seeded" if event != "issue" else "",
            time(at + SUSPENSION) if event == "suspend" else None,
            None if event == "expire" else state.officer)  # fmt: skip
    if not state.postgres:
        return Logged(at, leaf, row, head, (time(at),))
    (line,) = encode([(*row, *head)], postgres=True).decode().rstrip("\n").split("\n")  # type: ignore[union-attr]
    fields = line.split("\t")
    return Logged(at, leaf, "\t".join(fields[:5]), "\t".join(fields[5:]), time(at))


def build(first: int, stop: int) -> Slice:
    """Every row of attestations ``first`` to ``stop - 1`` that the main process does not build."""
    state = _STATE
    assert state is not None, "start() runs first, as the pool's initializer"
    plan = state.plan
    rows: dict[str, list[Row]] = {table: [] for table in TABLES}
    issues: list[Logged] = []
    changes: dict[int, Logged] = {}
    statuses: list[tuple[str, str, int, int]] = []
    texts: dict[str, tuple[str, str, str]] = {}
    for i in range(first, stop):
        fate = plan.fate(i)
        document = plan.document(fate)
        token = sign_attestation(plan.claims(fate, document), state.key)
        organisation = str(plan.organisations[fate.organisation])
        summary = document["scope"]["summary"]
        scoped = state.scopes.get((fate.organisation, summary))
        if scoped is None:  # a provider's renewals share their scope: its JSON and digest are made once
            digest = hashlib.sha256(canonical({"organisation": organisation, "scope": document["scope"]})).hexdigest()
            scoped = state.scopes[fate.organisation, summary] = (
                msgspec.json.encode(document["scope"]).decode(),
                digest,
            )
        assessment = str(fate.assessment)
        issued, changed = time(fate.issued), time(fate.changed or fate.issued)
        rows["assessment"].append((
            assessment, organisation, plan.catalog["id"], f"Annual filing {moment(fate.issued).year}", scoped[0],
            "attested", 1, 1, state.officer, time(fate.issued - 30 * 86_400), issued, time(fate.issued - 20 * 86_400),
        ))  # fmt: skip
        until = fate.changed + SUSPENSION if fate.status == "suspended" and fate.changed else None
        rows["attestation"].append((
            str(fate.id), fate.serial, assessment, f"{assessment}:1", organisation, scoped[1],
            msgspec.json.encode(document).decode(), "full", fate.status, fate.status_list, fate.status_index, token,
            hashlib.sha256(token.encode()).hexdigest(), state.certificate, issued, time(fate.expires), time(until),
            fate.superseded_by, state.officer, issued, changed,
        ))  # fmt: skip
        rows["status_entry"].append((child_id(fate.id, "status entry"), f"{fate.status_list}:{fate.status_index}",
                                     fate.status_list, fate.status_index, fate.serial, issued))  # fmt: skip
        rows["registry_entry"].append(_registry(state, fate, document, organisation, texts, issued, changed))
        statuses.append((fate.status, fate.serial, fate.status_list, fate.status_index))
        issues.append(logged(state, token, fate, "issue", fate.issued))
        if fate.change is not None and fate.changed is not None:
            changes[i] = logged(state, token, fate, fate.change, fate.changed)
    tables = {table: encode(rows[table], state.postgres) for table in TABLES}
    return Slice(first, tables, issues, changes, statuses, texts)


def _registry(state: _Worker, fate: Fate, document: dict[str, Any], organisation: str,
              texts: dict[str, tuple[str, str, str]], issued: str | None, changed: str | None) -> Row:  # fmt: skip
    """The registry row, made by the registry's own ``registry_row`` once per provider and scope: its public part
    (document, profile, sort name) depends on nothing else, so the renewals take that row's values."""
    memo = (fate.organisation, document["scope"]["summary"])
    known = state.registry.get(memo)
    if known is None:
        at = moment(fate.issued)
        entry = registry_row(serial=fate.serial, organisation=uuid.UUID(organisation), document=document, name_ar="",
                             status=fate.status, level="full", valid_from=at, expires_at=at,
                             superseded_by=fate.superseded_by, updated_at=at)  # fmt: skip
        values = msgspec.structs.asdict(entry)
        values.update(organisation=organisation, text=str(entry.text))
        known = state.registry[memo] = (values, msgspec.json.encode(entry.document).decode())
        texts[str(entry.text)] = (search_text(entry.document), entry.category, entry.country)
    values = dict(known[0], serial=fate.serial, status=fate.status, superseded_by=fate.superseded_by,
                  document=known[1], valid_from=issued, expires_at=time(fate.expires), updated_at=changed)  # fmt: skip
    return tuple(values[name] for name in REGISTRY_ENTRY)
