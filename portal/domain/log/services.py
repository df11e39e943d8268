"""The transparency log: append inside the caller's transaction, checkpoints, proofs and tiles from stored nodes.

Every append takes the ``transparency-log`` lock, writes the entry at the next index, the subtree nodes it
completes and a checkpoint signed with the active log key, all in the transaction of the event it records:
an event is in the log exactly when it happened. Roots, proofs and tiles read only the O(log n) stored
nodes they need (``portal.domain.log.tree``), never the whole tree.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from attestations.canonical import CanonicalisationError, canonical_json
from attestations.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from attestations.errors import AttestationError
from attestations.keys import KeyPurpose, Keyring
from attestations.log_proof import LogProof
from attestations.merkle import EMPTY_ROOT, HASH_SIZE, frontier_append, frontier_root, hash_children, hash_leaf
from portal.clock import now
from portal.db import atomic, lock
from portal.domain.log import repo, tree
from portal.domain.log.schemas import AppendResult, ConsistencyOut, EntriesOut, EntryOut, VerifyReport
from portal.errors import BadRequest, InvalidInput, NeverIssued, NotFound

if TYPE_CHECKING:
    from portal.domain.keys.services import KeyService

LOCK_NAME = "transparency-log"
EVENTS = frozenset(
    {"issue", "suspend", "reinstate", "revoke", "expire", "supersede", "condition", "key", "audit-anchor"}
)
MAX_ENTRIES = 1000  # per GET /api/v1/log/entries
MAX_BODY_BYTES = 0xFFFF  # an entry bundle prefixes each entry with a big-endian uint16 length
_VERIFY_BATCH = 5000


def log_origin(issuer: str) -> str:
    """The checkpoint origin line (and note key name): the issuer's host, port included, and ``/log``."""
    host = urlsplit(issuer).netloc or issuer
    return f"{host}/log"


class _Levels:
    """Every complete node of a tree, level by level, as one bytearray per level (for ``verify``)."""

    def __init__(self, leaves: bytearray) -> None:
        self.rows = [leaves]
        while len(self.rows[-1]) >= 2 * HASH_SIZE:
            row, above = self.rows[-1], bytearray()
            for i in range(0, len(row) - HASH_SIZE, 2 * HASH_SIZE):
                above += hash_children(bytes(row[i : i + HASH_SIZE]), bytes(row[i + HASH_SIZE : i + 2 * HASH_SIZE]))
            self.rows.append(above)

    def count(self, level: int) -> int:
        return len(self.rows[level]) // HASH_SIZE if level < len(self.rows) else 0

    def __getitem__(self, node: tree.Node) -> bytes:
        level, index = node
        return bytes(self.rows[level][index * HASH_SIZE : (index + 1) * HASH_SIZE])


class LogService:
    def __init__(self, keys: KeyService, issuer: str) -> None:
        self.keys = keys
        self.origin = log_origin(issuer)

    # -- appending ----------------------------------------------------------------------------------

    async def append(self, entry: dict[str, Any]) -> AppendResult:
        """Append ``entry`` (``{"event", "jti"?, "at", ...}``) inside the caller's write transaction.

        Joins the caller's ``atomic()`` (or opens one): the entry, its nodes and the new checkpoint commit
        or roll back with the event the entry records.
        """
        event = entry.get("event")
        if event not in EVENTS:
            raise InvalidInput(f"a log entry's event is one of {sorted(EVENTS)}", field="event")
        at = entry.get("at")
        if not isinstance(at, int) or isinstance(at, bool) or at < 0:
            raise InvalidInput("a log entry's at is seconds since the epoch", field="at")
        jti = entry.get("jti")
        if jti is not None and not (isinstance(jti, str) and 0 < len(jti) <= 100):
            raise InvalidInput("a log entry's jti is a serial of 1 to 100 characters", field="jti")
        try:
            body = canonical_json(entry)
        except CanonicalisationError as exc:
            raise InvalidInput(f"a log entry must be canonical JSON: {exc}") from exc
        if len(body) > MAX_BODY_BYTES:
            raise InvalidInput(f"a log entry is at most {MAX_BODY_BYTES} bytes of JSON")
        leaf = hash_leaf(body)
        async with atomic():
            await lock(LOCK_NAME)
            index = await repo.size()
            known = await repo.nodes(tree.frontier(index))
            created: dict[tree.Node, bytes] = {(0, index): leaf}
            node, level, position = leaf, 0, index
            while position & 1:  # each trailing 1 bit: a left sibling in the frontier completes a subtree
                sibling = known.get((level, position - 1))
                if sibling is None:
                    raise RuntimeError(f"the log is missing node {level}/{position - 1}: run 'portal log verify'")
                node = hash_children(sibling, node)
                position, level = position >> 1, level + 1
                created[(level, position)] = node
            size = index + 1
            root = tree.root(size, {**known, **created})
            at = now()
            note = sign_checkpoint(Checkpoint(self.origin, size, root), self.keys.signing_key(KeyPurpose.LOG))
            await repo.insert(
                repo.EntryRow(
                    index=index, body=body.decode("utf-8"), leaf_hash=leaf.hex(), event=event, jti=jti, at=at
                ),
                created.items(),
                repo.CheckpointRow(size=size, root_hash=root.hex(), note=note, at=at),
            )
        return AppendResult(index=index, leaf_hash=leaf.hex(), size=size, root=root.hex())

    async def lock(self) -> None:
        """Inside a write transaction: hold the log's lock (what ``append`` takes) until commit."""
        await lock(LOCK_NAME)

    async def logged_kids(self) -> set[str]:
        """The key ids named by the log's `key` entries."""
        return {str(body.get("kid")) for body in await repo.bodies_of("key")}

    # -- reading ------------------------------------------------------------------------------------

    async def checkpoint(self) -> tuple[int, str]:
        """The latest signed checkpoint (size, note). An empty log gets a freshly signed one of size 0."""
        latest = await repo.latest_checkpoint()
        if latest is not None:
            return latest.size, latest.note
        key = self.keys.signing_key(KeyPurpose.LOG)
        return 0, sign_checkpoint(Checkpoint(self.origin, 0, EMPTY_ROOT), key)

    async def size(self) -> int:
        latest = await repo.latest_checkpoint()
        return 0 if latest is None else latest.size

    async def _hashes(self, ranges: list[tree.Range]) -> list[bytes]:
        stored = await repo.nodes(tree.needed(ranges))
        try:
            return [tree.range_hash(start, end, stored) for start, end in ranges]
        except KeyError as exc:
            raise RuntimeError(f"the log is missing node {exc}: run 'portal log verify'") from exc

    async def root(self, size: int) -> bytes:
        if size == 0:
            return EMPTY_ROOT
        (value,) = await self._hashes([(0, size)])
        return value

    async def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 PATH(index, D[0:size]) from stored nodes (one query)."""
        current = await self.size()
        if not 0 < size <= current:
            raise BadRequest(f"tree size {size} is not between 1 and {current}", field="size")
        if not 0 <= index < size:
            raise BadRequest(f"leaf {index} is not in a tree of {size} leaves", field="index")
        return await self._hashes(tree.inclusion_ranges(index, size))

    async def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyOut:
        """RFC 9162 PROOF(old_size, D[0:new_size]) from stored nodes (one query); ``new_size`` defaults to now."""
        current = await self.size()
        to = current if new_size is None else new_size
        if not 0 <= to <= current:
            raise BadRequest(f"'to' is {to}: the log has {current} entries", field="to")
        if not 0 <= old_size <= to:
            raise BadRequest(f"'from' ({old_size}) must be between 0 and 'to' ({to})", field="from")
        hashes = await self._hashes(tree.consistency_ranges(old_size, to))
        return ConsistencyOut(from_=old_size, to=to, hashes=[base64.b64encode(h).decode("ascii") for h in hashes])

    async def entries(self, start: int, end: int | None = None) -> EntriesOut:
        """Entries ``start .. end - 1`` (``end`` exclusive, default the tree size), at most 1,000."""
        current = await self.size()
        stop = current if end is None else end
        if not 0 <= stop <= current:
            raise BadRequest(f"'end' is {stop}: the log has {current} entries", field="end")
        if not 0 <= start <= stop:
            raise BadRequest(f"'start' ({start}) must be between 0 and 'end' ({stop})", field="start")
        stop = min(stop, start + MAX_ENTRIES)
        rows = await repo.entries(start, stop)
        return EntriesOut(
            start=start,
            end=stop,
            tree_size=current,
            entries=[
                EntryOut(
                    index=r.index, at=r.at, event=r.event, jti=r.jti, body=json.loads(r.body), leaf_hash=r.leaf_hash
                )
                for r in rows
            ],
        )

    async def history(self, serial: str) -> list[tuple[int, str, dt.datetime]]:
        """Serial's entries as (log index, event, the entry's own ``at``), in log order."""
        out = []
        for row in await repo.entries_of(serial):
            at = json.loads(row.body).get("at")
            moment = dt.datetime.fromtimestamp(at, dt.UTC) if isinstance(at, int) else row.at
            out.append((row.index, row.event, moment))
        return out

    async def proof(self, serial: str, *, event: str = "issue") -> LogProof:
        """The ``log-proof.json`` of serial's ``issue`` entry (or its ``latest``) against the latest checkpoint."""
        if event not in ("issue", "latest"):
            raise BadRequest("event is 'issue' or 'latest'", field="event")
        row = await repo.entry_of(serial, event=None if event == "latest" else event)
        if row is None:
            raise NeverIssued(f"the registry never issued {serial!r}: the log has no entry for it")
        latest = await repo.latest_checkpoint()
        if latest is None or latest.size <= row.index:
            raise RuntimeError("the log has an entry past its latest checkpoint: run 'portal log verify'")
        path = await self._hashes(tree.inclusion_ranges(row.index, latest.size))
        return LogProof(
            leaf_index=row.index,
            tree_size=latest.size,
            leaf_hash=row.leaf_hash,
            audit_path=[h.hex() for h in path],
            checkpoint=latest.note,
            entry=json.loads(row.body),
        )

    async def tile(self, level: int | None, index: int, width: int) -> bytes:
        """A C2SP tlog-tiles hash tile (``level``) or entry bundle (``level`` None) of the current tree."""
        size = await self.size()
        first = index * tree.TILE_WIDTH
        if level is None:
            if not tree.tile_available(0, index, width, size):
                raise NotFound(f"entry bundle {index} (width {width}) is beyond the tree of {size} entries")
            bodies = await repo.entry_bodies(first, first + width)
            data = [body.encode("utf-8") for body in bodies]
            return b"".join(len(item).to_bytes(2, "big") + item for item in data)
        if not tree.tile_available(level, index, width, size):
            raise NotFound(f"tile {level}/{index} (width {width}) is beyond the tree of {size} entries")
        return b"".join(await repo.level_hashes(tree.TILE_HEIGHT * level, first, first + width))

    # -- auditing -----------------------------------------------------------------------------------

    async def verify(self) -> VerifyReport:
        """Recompute every leaf hash from its stored body, every stored node from the leaves, the latest
        checkpoint's root and signature; name each inconsistency."""
        problems: list[str] = []
        leaves = bytearray()
        expected_index = 0
        while True:
            rows = await repo.entries(expected_index, expected_index + _VERIFY_BATCH)
            if not rows:
                break
            for row in rows:
                if row.index != expected_index:
                    problems.append(f"entry {expected_index} is missing (the next stored entry is {row.index})")
                    expected_index = row.index
                problems += _entry_problems(row)
                leaves += hash_leaf(row.body.encode("utf-8"))
                expected_index += 1
        size = expected_index
        levels = _Levels(leaves)
        count = await self._verify_nodes(levels, problems)
        latest = await repo.latest_checkpoint()
        if latest is None:
            if size:
                problems.append(f"the log has {size} entries and no checkpoint")
        else:
            problems += self._checkpoint_problems(latest, size, levels)
        checkpoints = await self._verify_checkpoints(levels, size, latest, problems)
        return VerifyReport(
            ok=not problems,
            size=size,
            root=tree.root(size, levels).hex(),
            checkpoint_size=None if latest is None else latest.size,
            checkpoints=checkpoints,
            nodes=count,
            problems=problems,
        )

    async def _verify_nodes(self, levels: _Levels, problems: list[str]) -> int:
        seen = [0] * (len(levels.rows) + 1)
        after, count = -1, 0
        while True:
            rows = await repo.node_rows(after, _VERIFY_BATCH)
            if not rows:
                break
            for row in rows:
                after, count = row.key, count + 1
                level, index = tree.key_node(row.key)
                where = f"node {level}/{index}"
                if (row.level, row.index) != (level, index):
                    problems.append(f"{where}: its key says {level}/{index}, its columns {row.level}/{row.index}")
                if index >= levels.count(level):
                    problems.append(f"{where}: no such complete subtree in a log of {levels.count(0)} entries")
                    continue
                seen[level] += 1
                if row.hash != levels[level, index].hex():
                    what = "the leaf hash of its entry's body" if level == 0 else "the hash of its children"
                    problems.append(f"{where}: stored hash {row.hash[:16]}… is not {what}")
        for level in range(len(levels.rows)):
            missing = levels.count(level) - seen[level]
            if missing > 0:
                problems.append(f"{missing} complete subtree node(s) of level {level} are not stored")
        return count

    async def _verify_checkpoints(
        self, levels: _Levels, size: int, latest: repo.CheckpointRow | None, problems: list[str]
    ) -> int:
        """Every stored checkpoint, smallest first: its signature (a log key of the JWKS), its stored size and
        root against its note, and its root against the tree recomputed from the entries at its size."""
        keyring = Keyring.from_jwks(self.keys.jwks())
        frontier: list[bytes] = []
        leaves, reached, count, after = levels.rows[0], 0, 0, -1
        while True:
            rows = await repo.checkpoints_after(after, _VERIFY_BATCH)
            if not rows:
                break
            for row in rows:
                after, count = row.size, count + 1
                if latest is not None and row.size == latest.size:
                    continue  # checked above, with its origin
                where = f"checkpoint {row.size}"
                try:
                    signed = open_checkpoint(row.note, keyring)
                except AttestationError as exc:
                    problems.append(f"{where}: the signed note does not verify: {exc}")
                    continue
                if signed.size != row.size or signed.root_hash.hex() != row.root_hash:
                    problems.append(f"{where}: the stored size and root are not those of its signed note")
                if signed.size > size:
                    problems.append(f"{where}: signs {signed.size} entries, the log has {size}")
                    continue
                while reached < signed.size:
                    leaf = bytes(leaves[reached * HASH_SIZE : (reached + 1) * HASH_SIZE])
                    frontier, reached = frontier_append(frontier, reached, leaf), reached + 1
                if frontier_root(frontier) != signed.root_hash:
                    problems.append(f"{where}: the signed root is not the root recomputed from the entries")
        return count

    def _checkpoint_problems(self, latest: repo.CheckpointRow, size: int, levels: _Levels) -> list[str]:
        problems: list[str] = []
        where = f"checkpoint {latest.size}"
        try:
            keyring = Keyring.from_jwks(self.keys.jwks())
            checkpoint = open_checkpoint(latest.note, keyring, origin=self.origin)
        except AttestationError as exc:
            return [f"{where}: the signed note does not verify: {exc}"]
        if checkpoint.size != latest.size or checkpoint.root_hash.hex() != latest.root_hash:
            problems.append(f"{where}: the stored size and root are not those of its signed note")
        if checkpoint.size > size:
            problems.append(f"{where}: signs {checkpoint.size} entries, the log has {size}")
        else:
            if checkpoint.root_hash != tree.root(checkpoint.size, levels):
                problems.append(f"{where}: the signed root is not the root recomputed from the entries")
            if checkpoint.size < size:
                problems.append(f"{where}: {size - checkpoint.size} entries follow the latest checkpoint")
        return problems


def _entry_problems(row: repo.EntryRow) -> list[str]:
    where = f"entry {row.index}"
    problems = []
    body = row.body.encode("utf-8")
    if hash_leaf(body).hex() != row.leaf_hash:
        problems.append(f"{where}: stored leaf hash is not the hash of its body")
    try:
        document = json.loads(body)
        if canonical_json(document) != body:
            problems.append(f"{where}: the body is not RFC 8785 canonical JSON")
        elif document.get("event") != row.event or document.get("jti") != row.jti:
            problems.append(f"{where}: the event or jti columns are not those of its body")
    except (ValueError, CanonicalisationError, AttributeError):
        problems.append(f"{where}: the body is not JSON")
    return problems
