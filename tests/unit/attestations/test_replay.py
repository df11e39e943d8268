"""Replaying log entries (attestations.replay): statuses through the lifecycle, and what the entries
themselves contradict."""

from __future__ import annotations

from attestations.replay import Replay, Tracked, accepted_statuses

TOKEN = "ab" * 32


def entry(event: str, serial: str = "PA-2026-000001", **extra: object) -> dict[str, object]:
    return {"event": event, "jti": serial, "token_sha256": TOKEN, "at": 1767225600, **extra}


def test_statuses_follow_the_lifecycle() -> None:
    replay = Replay()
    events = ["issue", "suspend", "condition", "reinstate", "revoke"]
    statuses = []
    for index, event in enumerate(events):
        assert replay.apply(index, entry(event)) == []
        statuses.append(replay.attestations["PA-2026-000001"].status)
    assert statuses == ["active", "suspended", "suspended", "active", "revoked"]
    assert replay.attestations["PA-2026-000001"].events == [(e, i) for i, e in enumerate(events)]
    assert replay.counts() == {"revoked": 1}


def test_supersession_names_the_successor() -> None:
    replay = Replay()
    replay.apply(0, entry("issue"))
    replay.apply(1, entry("issue", "PA-2026-000002"))
    assert replay.apply(2, entry("supersede", superseded_by="PA-2026-000002")) == []
    tracked = replay.attestations["PA-2026-000001"]
    assert (tracked.status, tracked.superseded_by) == ("superseded", "PA-2026-000002")


def test_what_the_entries_contradict_is_a_divergence() -> None:
    replay = Replay()
    replay.apply(0, entry("issue"))
    replay.apply(1, entry("revoke"))
    assert [str(d) for d in replay.apply(2, entry("reinstate"))] == [
        "PA-2026-000001: the log says reinstate of a revoked attestation at entry 2; the lifecycle does not allow it"
    ]
    assert [str(d) for d in replay.apply(3, entry("issue"))] == [
        "PA-2026-000001: the log says issued again at entry 3; first issued at entry 0"
    ]
    assert [str(d) for d in replay.apply(4, entry("suspend", "PA-2026-000009"))] == [
        "PA-2026-000009: the log says a suspend at entry 4; no issue entry precedes it"
    ]
    other = {**entry("condition"), "token_sha256": "cd" * 32}
    (mismatch,) = replay.apply(5, other)
    assert mismatch.subject == "PA-2026-000001" and "names token cdcdcdcd" in mismatch.published
    (unknown,) = replay.apply(6, {"event": "nonsense", "at": 1})
    assert unknown.subject == "entry 6" and "'nonsense'" in unknown.log


def test_keys_and_anchors() -> None:
    replay = Replay()
    key = {"event": "key", "kid": "k1", "purpose": "log", "jwk": {"x": "AAAA"}, "at": 1}
    assert replay.apply(0, key) == []
    assert replay.apply(1, key) == []  # the same key twice says nothing new
    (changed,) = replay.apply(2, {**key, "purpose": "status"})
    assert changed.subject == "key k1"
    assert replay.apply(3, {"event": "audit-anchor", "seq": 10, "head": "h" * 64, "at": 2}) == []
    (backwards,) = replay.apply(4, {"event": "audit-anchor", "seq": 7, "head": "g" * 64, "at": 3})
    assert "went backwards" in backwards.published
    assert replay.anchor is not None and (replay.anchor.seq, replay.anchors) == (7, 2)


def test_an_expired_token_may_be_published_as_expired() -> None:
    tracked = Tracked(status="active", token_sha256=TOKEN, events=[("issue", 0)], exp=100)
    assert accepted_statuses(tracked, 99) == {"active"}
    assert accepted_statuses(tracked, 100) == {"active", "expired"}
    tracked.status = "revoked"
    assert accepted_statuses(tracked, 100) == {"revoked"}
