"""A third party's monitor of a portal's transparency log, over HTTP only (``portal monitor --url BASE``).

Each run is a numbered checklist; a failed step is a :class:`Divergence`, never a bare ``False``:

1. keys        ``/.well-known/jwks.json``: the keys any signature below must come from
2. checkpoint  ``/log/checkpoint``, signed by a key the JWKS publishes for ``log``
3. consistency with the checkpoint this monitor saw last (the state file): the log never shrinks, and
               ``/api/v1/log/consistency`` proves the old tree is a prefix of the new one
4. entries     the new entries from the C2SP entry bundles (``/log/tile/entries/...``), hashed onto the
               saved compact range: the result must be the checkpoint's root. An entry whose bytes do not
               hash to the tree's own leaf (the level-0 tiles) is named
5. replay      every entry in order (``attestations.replay``): each attestation's status and token
6. compare     each attestation's document (``/api/v1/attestations/{serial}``: token, status, history), the
               status endpoint (``.../status``), its entry in the signed status list, and the JWKS against
               the log's ``key`` entries

The state is saved only when steps 2-4 hold, so a shrunk or forked log is reported again on every run.
A status disagreement is checked a second time after ``settle`` seconds (a change made while the monitor
was reading is visible within 1 s) before it is reported.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from attestations._jose import verify_compact
from attestations.canonical import CanonicalisationError, canonical_json
from attestations.checkpoint import Checkpoint, open_checkpoint
from attestations.errors import AttestationError, InvalidInput, InvalidProof, InvalidSignature, KeyNotFound
from attestations.keys import KeyPurpose, Keyring
from attestations.merkle import EMPTY_ROOT, frontier_append, frontier_root, hash_leaf, verify_consistency
from attestations.replay import LIST_VALUE, Divergence, Replay, Tracked, accepted_statuses
from attestations.status_list import StatusList, decode_status_list_token
from attestations.tokens import TOKEN_TYPE, decode_claims

STATE_VERSION = 1
TILE_WIDTH = 256
NEVER_ISSUED = "/problems/never-issued"


class MonitorError(AttestationError):
    """The monitor could not do its work (the portal unreachable, an unreadable state file)."""


class BadAnswer(MonitorError):
    """The portal answered, but not what its own log and checkpoint imply (a missing or short tile)."""


class Answer(msgspec.Struct, frozen=True):
    status: int
    body: bytes
    content_type: str

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise MonitorError(f"the answer is not JSON: {self.body[:80]!r}") from exc


class Http:
    """GET requests against one portal, standard library only."""

    def __init__(self, base: str, *, timeout: float = 30.0) -> None:
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.requests = 0

    def get(self, path: str, params: dict[str, int] | None = None) -> Answer:
        url = self.base + path + (f"?{urllib.parse.urlencode(params)}" if params else "")
        request = urllib.request.Request(url, headers={"Accept": "*/*", "User-Agent": "portal-monitor/1"})  # noqa: S310
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return Answer(response.status, response.read(), response.headers.get("content-type", ""))
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, exc.read(), exc.headers.get("content-type", ""))
        except (urllib.error.URLError, OSError) as exc:
            raise MonitorError(f"GET {url}: {exc}") from exc

    def ok(self, path: str, params: dict[str, int] | None = None) -> Answer:
        answer = self.get(path, params)
        if answer.status != 200:
            raise BadAnswer(f"GET {path}: {answer.status} {answer.body[:200].decode('utf-8', 'replace')}")
        return answer


class MonitorState(msgspec.Struct, kw_only=True):
    """What one run hands the next: the last verified checkpoint, its compact range, and the replay."""

    version: int = STATE_VERSION
    base: str
    origin: str
    size: int = 0
    root: str = EMPTY_ROOT.hex()
    checkpoint: str = ""
    frontier: list[str] = msgspec.field(default_factory=list)  # hex, the compact range of [0, size)
    replay: Replay = msgspec.field(default_factory=Replay)
    checked_at: int = 0
    findings: list[str] = msgspec.field(default_factory=list)  # divergences inside the entries themselves


class MonitorReport(msgspec.Struct, kw_only=True):
    ok: bool
    base: str
    size: int
    previous_size: int | None
    new_entries: int
    attestations: dict[str, int]  # status -> count
    keys: int
    anchor: dict[str, int | str] | None
    compared: dict[str, int]
    skipped: list[str]
    divergences: list[str]
    state_saved: bool


def load_state(path: Path) -> MonitorState | None:
    """The saved state, or ``None`` when the file does not exist yet."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise MonitorError(f"cannot read the state file {path}: {exc}") from exc
    try:
        return msgspec.json.decode(data, type=MonitorState)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise MonitorError(f"{path} is not a monitor state file: {exc}") from exc


def save_state(path: Path, state: MonitorState) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(msgspec.json.format(msgspec.json.encode(state), indent=1))
    tmp.replace(path)


def encode_tile_index(n: int) -> str:
    """C2SP tlog-tiles index: ``1234067`` → ``x001/x234/067``."""
    digits = str(n)
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def _bundle_entries(data: bytes) -> list[bytes]:
    entries, offset = [], 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise BadAnswer("an entry bundle ends inside a length prefix")
        length = int.from_bytes(data[offset : offset + 2], "big")
        entries.append(data[offset + 2 : offset + 2 + length])
        offset += 2 + length
    if offset != len(data):
        raise BadAnswer("an entry bundle ends inside an entry")
    return entries


class Monitor:
    """One run against ``base``; ``run`` returns the report (and the state to save, if the log held)."""

    def __init__(self, base: str, *, http: Http | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.http = http or Http(base)
        self.base = self.http.base
        self.sleep = sleep
        self.skipped: list[str] = []
        self.compared: dict[str, int] = {}
        self.status_endpoint = True
        self.new_entries = 0
        self.entry_findings: list[str] = []

    # -- the log ---------------------------------------------------------------------------------------

    def _tiles(self, prefix: str, start: int, end: int) -> list[bytes]:
        """Items ``start .. end - 1`` of the tiles under ``prefix`` (``entries/`` or ``0/``)."""
        items: list[bytes] = []
        if start >= end:
            return items
        for n in range(start // TILE_WIDTH, -(-end // TILE_WIDTH)):
            width = min(TILE_WIDTH, end - n * TILE_WIDTH)
            path = f"/log/tile/{prefix}{encode_tile_index(n)}" + ("" if width == TILE_WIDTH else f".p/{width}")
            data = self.http.ok(path).body
            chunk = (
                _bundle_entries(data) if prefix == "entries/" else [data[i : i + 32] for i in range(0, len(data), 32)]
            )
            if len(chunk) != width:
                raise BadAnswer(f"GET {path}: {len(chunk)} items, not {width}")
            first = max(start, n * TILE_WIDTH) - n * TILE_WIDTH
            items += chunk[first:]
        return items

    def _checkpoint(self, keyring: Keyring, origin: str | None) -> tuple[Checkpoint, str]:
        note = self.http.ok("/log/checkpoint").body.decode("utf-8")
        return open_checkpoint(note, keyring, origin=origin), note

    def _consistency(self, old: MonitorState, new: Checkpoint) -> list[Divergence]:
        seen = f"{old.size} entries with root {old.root[:16]}… (the checkpoint this monitor saw)"
        if new.size < old.size:
            return [
                Divergence(
                    subject="log", log=seen, published=f"the checkpoint now has {new.size} entries: the log shrank"
                )
            ]
        answer = self.http.get("/api/v1/log/consistency", {"from": old.size, "to": new.size})
        try:
            if answer.status != 200:
                raise InvalidProof(f"GET /api/v1/log/consistency answered {answer.status}")
            hashes = [base64.b64decode(h) for h in answer.json()["hashes"]]
            verify_consistency(old.size, new.size, bytes.fromhex(old.root), new.root_hash, hashes)
        except (InvalidProof, MonitorError, KeyError, TypeError, ValueError) as exc:
            return [
                Divergence(
                    subject="log",
                    log=seen,
                    published=f"the checkpoint of {new.size} entries does not extend it (forked or rewritten): {exc}",
                )
            ]
        return []

    def _read(
        self, start: int, end: int, frontier: list[bytes], replay: Replay
    ) -> tuple[list[bytes], list[Divergence]]:
        """Hash entries ``start .. end - 1`` onto ``frontier`` and replay them; name entries that are not canonical."""
        problems: list[Divergence] = []
        bodies = self._tiles("entries/", start, end)
        size = start
        for offset, body in enumerate(bodies):
            index = start + offset
            frontier = frontier_append(frontier, size, hash_leaf(body))
            size += 1
            try:
                entry = json.loads(body)
                if canonical_json(entry) != body:
                    raise CanonicalisationError("not RFC 8785")
            except (ValueError, CanonicalisationError) as exc:
                problems.append(
                    Divergence(subject=f"entry {index}", log="RFC 8785 JSON", published=f"its bytes are not: {exc}")
                )
                continue
            problems += replay.apply(index, entry)
        self.entry_findings += [str(p) for p in problems]
        return frontier, problems

    def _name_bad_entries(self, start: int, end: int) -> list[Divergence]:
        """Which of entries ``start .. end - 1`` do not hash to the leaf the tree holds for them."""
        bodies = self._tiles("entries/", start, end)
        leaves = self._tiles("0/", start, end)
        return [
            Divergence(
                subject=f"entry {start + i}",
                log=f"leaf hash {leaf.hex()[:16]}… (the level-0 tile)",
                published=f"its bytes in the entry bundle hash to {hash_leaf(body).hex()[:16]}…: the entry was edited",
            )
            for i, (body, leaf) in enumerate(zip(bodies, leaves, strict=True))
            if hash_leaf(body) != leaf
        ]

    def sync(
        self, saved: MonitorState | None, *, full: bool
    ) -> tuple[MonitorState | None, list[Divergence], Keyring, dict[str, Any]]:
        """Steps 1-5: the new checkpoint, verified and consistent, and the replay up to it.

        Returns the new state (``None`` if the log itself failed), the divergences and the keys.
        """
        jwks = self.http.ok("/.well-known/jwks.json").json()
        keyring = Keyring.from_jwks(jwks)
        try:
            state, problems = self._sync(saved, full, keyring)
        except BadAnswer as exc:
            wanted = "every tile and proof its signed checkpoint implies"
            state, problems = None, [Divergence(subject="log", log=wanted, published=f"the portal answers {exc}")]
        return state, problems, keyring, jwks

    def _sync(
        self, saved: MonitorState | None, full: bool, keyring: Keyring
    ) -> tuple[MonitorState | None, list[Divergence]]:
        try:
            checkpoint, note = self._checkpoint(keyring, saved.origin if saved else None)
        except (InvalidInput, InvalidSignature, KeyNotFound) as exc:
            wanted = f"a checkpoint of {saved.origin if saved else 'the log'} signed by a log key of the JWKS"
            return (
                None,
                [Divergence(subject="checkpoint", log=wanted, published=f"GET /log/checkpoint: {exc}")],
            )
        problems: list[Divergence] = []
        if saved is not None:
            problems += self._consistency(saved, checkpoint)
            if problems:
                return None, problems
        if saved is None or full:
            start, frontier, replay = 0, [], Replay()
        else:
            start, frontier = saved.size, [bytes.fromhex(h) for h in saved.frontier]
            replay = msgspec.convert(msgspec.to_builtins(saved.replay), Replay)
        if full and saved is not None and saved.size:
            frontier, problems = self._read(0, saved.size, frontier, replay)
            if frontier_root(frontier) != bytes.fromhex(saved.root):
                bad = self._name_bad_entries(0, saved.size)
                return (
                    None,
                    [
                        *bad,
                        Divergence(
                            subject="log",
                            log=f"root {saved.root[:16]}… at {saved.size} entries",
                            published="the entries served today hash to another root",
                        ),
                    ],
                )
            start = saved.size
        frontier, more = self._read(start, checkpoint.size, frontier, replay)
        problems += more
        if frontier_root(frontier) != checkpoint.root_hash:
            bad = self._name_bad_entries(start, checkpoint.size)
            root = base64.b64encode(checkpoint.root_hash).decode()
            return (
                None,
                [
                    *bad,
                    Divergence(
                        subject="log",
                        log=f"the signed checkpoint of {checkpoint.size} entries has root {root}",
                        published=f"entries {start}..{checkpoint.size - 1} do not hash to it",
                    ),
                ],
            )
        state = MonitorState(
            base=self.base,
            origin=checkpoint.origin,
            size=checkpoint.size,
            root=checkpoint.root_hash.hex(),
            checkpoint=note,
            frontier=[h.hex() for h in frontier],
            replay=replay,
            checked_at=int(time.time()),
        )
        self.new_entries += checkpoint.size - start
        return state, problems

    # -- what was published ----------------------------------------------------------------------------

    def _token(self, serial: str, tracked: Tracked, token: str, keyring: Keyring) -> list[Divergence]:
        """Bind the served token to the log and read its expiry and status list entry (once)."""
        if hashlib.sha256(token.encode("utf-8")).hexdigest() != tracked.token_sha256:
            return [
                Divergence(
                    subject=serial,
                    log=f"token {tracked.token_sha256[:16]}…",
                    published=f"GET /api/v1/attestations/{serial} serves another token",
                )
            ]
        if tracked.list_uri is not None:
            return []
        try:
            claims = decode_claims(
                verify_compact(token, keyring, purpose=KeyPurpose.ATTESTATION, typ=TOKEN_TYPE).payload
            )
        except AttestationError as exc:
            return [
                Divergence(
                    subject=serial,
                    log="a token signed by an attestation key of the JWKS",
                    published=f"the served token does not verify: {exc}",
                )
            ]
        tracked.exp = claims.exp
        tracked.list_uri = claims.status.status_list.uri
        tracked.list_index = claims.status.status_list.idx
        return []

    def _document(self, serial: str, tracked: Tracked, keyring: Keyring, now: int) -> list[Divergence]:
        where = f"GET /api/v1/attestations/{serial}"
        answer = self.http.get(f"/api/v1/attestations/{serial}")
        self.compared["documents"] = self.compared.get("documents", 0) + 1
        if answer.status != 200:
            return [Divergence(subject=serial, log=tracked.status, published=f"{where} answers {answer.status}")]
        document = answer.json()
        problems = self._token(serial, tracked, str(document.get("token", "")), keyring)
        status = document.get("status")
        if status not in accepted_statuses(tracked, now):
            problems.append(Divergence(subject=serial, log=tracked.status, published=f"{where} says {status}"))
        if tracked.status == "superseded" and document.get("superseded_by") != tracked.superseded_by:
            problems.append(
                Divergence(
                    subject=serial,
                    log=f"superseded by {tracked.superseded_by}",
                    published=f"{where} says superseded by {document.get('superseded_by')}",
                )
            )
        history = [(e.get("event"), e.get("log_index")) for e in document.get("events", []) if isinstance(e, dict)]
        logged = [tuple(e) for e in tracked.events]
        if [h for h in history if h[0] != "expire" or h in logged] != logged:
            problems.append(
                Divergence(subject=serial, log=f"history {logged}", published=f"{where} lists events {history}")
            )
        return problems

    def _status_endpoint(self, serial: str, tracked: Tracked, now: int) -> list[Divergence]:
        if not self.status_endpoint:
            return []
        where = f"GET /api/v1/attestations/{serial}/status"
        answer = self.http.get(f"/api/v1/attestations/{serial}/status")
        if answer.status in (404, 405):
            problem_type = (
                answer.json().get("type") if answer.content_type.startswith("application/problem+json") else None
            )
            if problem_type == NEVER_ISSUED:
                return [Divergence(subject=serial, log=tracked.status, published=f"{where} says it was never issued")]
            self.status_endpoint = False
            self.skipped.append(
                f"the status endpoint: {where} answers {answer.status} ({problem_type}); not served here"
            )
            return []
        self.compared["status answers"] = self.compared.get("status answers", 0) + 1
        if answer.status != 200:
            return [Divergence(subject=serial, log=tracked.status, published=f"{where} answers {answer.status}")]
        body = answer.json()
        problems = []
        if body.get("serial") != serial or body.get("status") not in accepted_statuses(tracked, now):
            problems.append(
                Divergence(subject=serial, log=tracked.status, published=f"{where} says {body.get('status')}")
            )
        if tracked.status == "superseded" and body.get("superseded_by", tracked.superseded_by) != tracked.superseded_by:
            problems.append(
                Divergence(
                    subject=serial,
                    log=f"superseded by {tracked.superseded_by}",
                    published=f"{where} says superseded by {body.get('superseded_by')}",
                )
            )
        return problems

    def _status_lists(self, replay: Replay, keyring: Keyring, now: int) -> list[Divergence]:
        by_list: dict[str, list[tuple[str, Tracked]]] = {}
        for serial, tracked in replay.attestations.items():
            if tracked.list_uri is not None:
                by_list.setdefault(tracked.list_uri, []).append((serial, tracked))
        problems: list[Divergence] = []
        for uri, members in sorted(by_list.items()):
            path = urllib.parse.urlsplit(uri).path
            if not path.startswith("/api/v1/status-lists/"):
                problems.append(
                    Divergence(
                        subject=f"status list {uri}",
                        log="a list under /api/v1/status-lists/",
                        published="the token points elsewhere",
                    )
                )
                continue
            answer = self.http.get(path)
            self.compared["status lists"] = self.compared.get("status lists", 0) + 1
            try:
                if answer.status != 200:
                    raise InvalidInput(f"GET {path} answers {answer.status}")
                entries = decode_status_list_token(
                    answer.body.decode("utf-8").strip(), keyring, uri=uri, now=now
                ).status_list
            except AttestationError as exc:
                problems.append(
                    Divergence(
                        subject=f"status list {path}",
                        log=f"the entries of {len(members)} attestations",
                        published=f"the list cannot be used: {exc}",
                    )
                )
                continue
            problems += _compare_list(path, entries, members, now)
        return problems

    def _keys(self, replay: Replay, jwks: dict[str, Any]) -> list[Divergence]:
        problems = []
        published = {str(k.get("kid")): k for k in jwks.get("keys", [])}
        self.compared["keys"] = len(published)
        for kid, jwk in published.items():
            logged = replay.keys.get(kid)
            if logged is None:
                problems.append(
                    Divergence(
                        subject=f"key {kid}",
                        log="no key entry",
                        published=f"the JWKS publishes it for {jwk.get('purpose')!r}",
                    )
                )
            elif (logged.purpose, logged.x) != (jwk.get("purpose"), jwk.get("x")):
                problems.append(
                    Divergence(
                        subject=f"key {kid}",
                        log=f"a {logged.purpose} key (entry {logged.index})",
                        published=f"the JWKS publishes another key for {jwk.get('purpose')!r}",
                    )
                )
        for kid, logged in replay.keys.items():
            if kid not in published and logged.x is not None:
                problems.append(
                    Divergence(
                        subject=f"key {kid}",
                        log=f"a {logged.purpose} key (entry {logged.index})",
                        published="the JWKS no longer publishes it (keys are never removed)",
                    )
                )
        return problems

    def compare(self, state: MonitorState, keyring: Keyring, jwks: dict[str, Any]) -> list[Divergence]:
        """Step 6: everything published against the replay."""
        self.compared, self.skipped, self.status_endpoint = {}, [], True
        now = int(time.time())
        problems: list[Divergence] = []
        for serial, tracked in sorted(state.replay.attestations.items()):
            problems += self._document(serial, tracked, keyring, now)
            problems += self._status_endpoint(serial, tracked, now)
        problems += self._status_lists(state.replay, keyring, now)
        problems += self._keys(state.replay, jwks)
        return problems

    # -- one run ---------------------------------------------------------------------------------------

    def run(
        self, saved: MonitorState | None, *, full: bool = False, settle: float = 2.0
    ) -> tuple[MonitorReport, MonitorState | None]:
        """Steps 1-6; the state to save is ``None`` when the log itself did not check out."""
        self.new_entries = 0
        self.entry_findings = []
        if saved is not None and saved.base.rstrip("/") != self.base:
            raise MonitorError(f"the state file follows {saved.base}, not {self.base}")
        state, problems, keyring, jwks = self.sync(saved, full=full)
        if state is not None:
            published = self.compare(state, keyring, jwks)
            if published and settle > 0:
                # A change committed while this run was reading shows in the log within a second: look again.
                self.sleep(settle)
                newer, more, keyring, jwks = self.sync(state, full=False)
                problems += more
                state = newer
                published = [] if newer is None else self.compare(newer, keyring, jwks)
            problems += published
        earlier = saved.findings if saved is not None and not full else []
        if state is not None:
            # What is wrong inside the log's own entries stays wrong: it is reported on every later run too.
            state.findings = [*earlier, *(f for f in self.entry_findings if f not in earlier)]
        divergences = [str(p) for p in problems]
        divergences += [f for f in earlier if f not in divergences]
        current = state or saved
        replay = current.replay if current else Replay()
        anchor = replay.anchor
        report = MonitorReport(
            ok=not divergences,
            base=self.base,
            size=current.size if current else 0,
            previous_size=saved.size if saved else None,
            new_entries=self.new_entries,
            attestations=replay.counts(),
            keys=len(replay.keys),
            anchor=None
            if anchor is None
            else {"index": anchor.index, "seq": anchor.seq, "head": anchor.head, "at": anchor.at},
            compared=dict(sorted(self.compared.items())),
            skipped=list(self.skipped),
            divergences=divergences,
            state_saved=state is not None,
        )
        return report, state


def _compare_list(path: str, entries: StatusList, members: list[tuple[str, Tracked]], now: int) -> list[Divergence]:
    problems = []
    held = {}
    for serial, tracked in members:
        index = tracked.list_index
        assert index is not None
        held[index] = serial
        try:
            value = entries.get(index)
        except InvalidInput as exc:
            problems.append(Divergence(subject=serial, log=tracked.status, published=f"{path}: {exc}"))
            continue
        expected = {LIST_VALUE[s] for s in accepted_statuses(tracked, now)}
        if value not in expected:
            problems.append(
                Divergence(subject=serial, log=tracked.status, published=f"{path} index {index} is {_label(value)}")
            )
    raw = entries.to_bytes()
    per_byte = 8 // entries.bits
    for byte_index, byte in enumerate(raw):
        if not byte:
            continue
        for index in range(byte_index * per_byte, min((byte_index + 1) * per_byte, entries.size)):
            value = entries.get(index)
            if value and index not in held:
                problems.append(
                    Divergence(
                        subject=f"{path} index {index}",
                        log="no attestation holds this index",
                        published=f"the list says {_label(value)}",
                    )
                )
    return problems


def _label(value: int) -> str:
    return {0: "valid", 1: "revoked", 2: "suspended"}.get(value, f"status {value}")


def summary(report: MonitorReport) -> str:
    """The text ``portal monitor`` prints."""
    previous = "first run" if report.previous_size is None else f"after {report.previous_size} seen before"
    counts = ", ".join(f"{n} {s}" for s, n in report.attestations.items()) or "none"
    anchor = report.anchor
    lines = [
        f"portal monitor {report.base}",
        f"log: {report.size} entries, {report.new_entries} read this run ({previous})",
        f"attestations replayed: {counts}; keys in the log: {report.keys}",
        "audit anchor: "
        + (
            "none yet"
            if anchor is None
            else f"event {anchor['seq']} head {str(anchor['head'])[:16]}… (entry {anchor['index']})"
        ),
        "compared: " + (", ".join(f"{n} {what}" for what, n in report.compared.items()) or "nothing"),
        *(f"skipped: {s}" for s in report.skipped),
    ]
    if report.ok:
        lines.append("OK: everything published agrees with the log")
    else:
        lines.append(f"{len(report.divergences)} DIVERGENCE(S):")
        lines += [f"  {d}" for d in report.divergences]
    if not report.state_saved:
        lines.append("state not saved: the log itself did not check out")
    return "\n".join(lines)
