"""Replaying a portal's transparency log: what every attestation's status must be, from the entries alone.

The log's entries (DESIGN section 5) are ``issue``, ``suspend``, ``reinstate``, ``revoke``, ``expire``,
``supersede``, ``condition``, ``key`` and ``audit-anchor``. Applied in order they give, for each serial, its
status, the SHA-256 of its one token and its history; the keys the portal has used; the audit trail's last
anchored head. A move the lifecycle does not allow (a reinstated revocation, an entry for a serial never
issued, a second token for the same serial) is itself a divergence. Pure: no network, no database.
"""

from __future__ import annotations

from typing import Any

import msgspec

# The public lifecycle (DESIGN section 3): which statuses each event may follow, and where it leads.
MOVES: dict[str, tuple[frozenset[str], str]] = {
    "suspend": (frozenset({"active"}), "suspended"),
    "reinstate": (frozenset({"suspended"}), "active"),
    "revoke": (frozenset({"active", "suspended"}), "revoked"),
    "expire": (frozenset({"active", "suspended"}), "expired"),
    "supersede": (frozenset({"active", "suspended"}), "superseded"),
}
# What the status list says for each status: 0 valid, 1 revoked (also expired, superseded), 2 suspended.
LIST_VALUE = {"active": 0, "suspended": 2, "revoked": 1, "expired": 1, "superseded": 1}
KNOWN_EVENTS = frozenset({"issue", "condition", "key", "audit-anchor", *MOVES})


class Divergence(msgspec.Struct, frozen=True, kw_only=True):
    """Something the portal published (or its log) that does not agree with what the log says."""

    subject: str  # a serial, "log", "entry N", "key <kid>", "status list N"
    log: str  # what the log says
    published: str  # what was published instead (and where)

    def __str__(self) -> str:
        return f"{self.subject}: the log says {self.log}; {self.published}"


class Tracked(msgspec.Struct, kw_only=True):
    """One attestation as the log tells it."""

    status: str
    token_sha256: str
    events: list[tuple[str, int]]  # (event, log index), in log order
    superseded_by: str | None = None
    # Read once from the token the portal serves (bound to the log by token_sha256) and kept.
    exp: int | None = None
    list_uri: str | None = None
    list_index: int | None = None


class LoggedKey(msgspec.Struct, kw_only=True):
    purpose: str | None
    x: str | None
    index: int


class Anchor(msgspec.Struct, kw_only=True):
    """An ``audit-anchor`` entry: the audit trail's event ``seq`` had hash ``head``."""

    index: int
    seq: int
    head: str
    at: int


class Replay(msgspec.Struct, kw_only=True):
    """The state the entries so far lead to; :meth:`apply` the next one."""

    attestations: dict[str, Tracked] = msgspec.field(default_factory=dict)
    keys: dict[str, LoggedKey] = msgspec.field(default_factory=dict)
    anchor: Anchor | None = None
    anchors: int = 0

    def apply(self, index: int, entry: Any) -> list[Divergence]:
        """Apply entry ``index``; return what in it contradicts the entries before it."""
        where = f"entry {index}"
        if not isinstance(entry, dict) or entry.get("event") not in KNOWN_EVENTS:
            event = entry.get("event") if isinstance(entry, dict) else None
            return [
                Divergence(subject=where, log=f"an unknown event {event!r}", published="the monitor cannot replay it")
            ]
        event = entry["event"]
        if event == "key":
            return self._key(index, entry)
        if event == "audit-anchor":
            return self._anchor(index, entry)
        serial = entry.get("jti")
        token_sha256 = entry.get("token_sha256")
        if not isinstance(serial, str) or not isinstance(token_sha256, str):
            return [Divergence(subject=where, log=f"a {event} entry without jti or token_sha256", published="")]
        known = self.attestations.get(serial)
        if event == "issue":
            if known is not None:
                first = known.events[0][1]
                return [
                    Divergence(
                        subject=serial, log=f"issued again at {where}", published=f"first issued at entry {first}"
                    )
                ]
            self.attestations[serial] = Tracked(status="active", token_sha256=token_sha256, events=[("issue", index)])
            return []
        if known is None:
            return [Divergence(subject=serial, log=f"a {event} at {where}", published="no issue entry precedes it")]
        problems = []
        if token_sha256 != known.token_sha256:
            problems.append(
                Divergence(
                    subject=serial,
                    log=f"token {known.token_sha256[:16]}… (issue entry {known.events[0][1]})",
                    published=f"{where} ({event}) names token {token_sha256[:16]}…",
                )
            )
        known.events.append((event, index))
        if event in MOVES:
            allowed, target = MOVES[event]
            if known.status not in allowed:
                problems.append(
                    Divergence(
                        subject=serial,
                        log=f"{event} of a {known.status} attestation at {where}",
                        published="the lifecycle does not allow it",
                    )
                )
            known.status = target
            if event == "supersede":
                successor = entry.get("superseded_by")
                known.superseded_by = successor if isinstance(successor, str) else None
        return problems

    def _key(self, index: int, entry: dict[str, Any]) -> list[Divergence]:
        kid = entry.get("kid")
        if not isinstance(kid, str):
            return [Divergence(subject=f"entry {index}", log="a key entry without kid", published="")]
        jwk = entry["jwk"] if isinstance(entry.get("jwk"), dict) else {}
        purpose = entry.get("purpose")
        x = jwk.get("x")
        known = self.keys.get(kid)
        if known is not None and (known.purpose, known.x) != (purpose, x):
            return [
                Divergence(
                    subject=f"key {kid}",
                    log=f"entry {known.index}: {known.purpose} key",
                    published=f"entry {index} says otherwise",
                )
            ]
        if known is None:
            self.keys[kid] = LoggedKey(
                purpose=purpose if isinstance(purpose, str) else None, x=x if isinstance(x, str) else None, index=index
            )
        return []

    def _anchor(self, index: int, entry: dict[str, Any]) -> list[Divergence]:
        seq, head, at = entry.get("seq"), entry.get("head"), entry.get("at")
        if not (isinstance(seq, int) and isinstance(head, str) and isinstance(at, int)):
            return [Divergence(subject=f"entry {index}", log="an audit-anchor without seq, head or at", published="")]
        previous = self.anchor
        self.anchor = Anchor(index=index, seq=seq, head=head, at=at)
        self.anchors += 1
        if previous is not None and seq < previous.seq:
            return [
                Divergence(
                    subject=f"entry {index}",
                    log=f"the audit trail reached event {previous.seq} (anchor at entry {previous.index})",
                    published=f"this anchor is of an earlier event, {seq}: the trail went backwards",
                )
            ]
        return []

    def counts(self) -> dict[str, int]:
        """How many attestations are in each status."""
        out: dict[str, int] = {}
        for tracked in self.attestations.values():
            out[tracked.status] = out.get(tracked.status, 0) + 1
        return dict(sorted(out.items()))


def accepted_statuses(tracked: Tracked, now: int) -> set[str]:
    """What the portal may publish for ``tracked`` at ``now``: its logged status, or ``expired`` once the
    token's ``exp`` has passed (the portal records an expiry at the first request after it)."""
    accepted = {tracked.status}
    if tracked.status in ("active", "suspended") and tracked.exp is not None and now >= tracked.exp:
        accepted.add("expired")
    return accepted
