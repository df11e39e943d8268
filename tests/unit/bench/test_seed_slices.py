"""``bench.seed`` builds its attestations in a process per core, from a plan that decides each one on its own:
the slices come back in order, holding exactly the tokens one process signs here."""

from __future__ import annotations

import dataclasses
import json

import pytest

from attestations.canonical import canonical_digest, canonical_json
from attestations.keys import KeyPurpose, generate_key
from attestations.merkle import hash_leaf
from attestations.tokens import sign_attestation
from bench import seed
from bench.seed_plan import Plan

CATALOG = {"id": "00000000-0000-4000-8000-000000000001", "catalog_id": "ppa-baseline", "version": "1.1.0",
           "digest": "ab" * 32}  # fmt: skip
NOW = 1_780_000_000
ISSUER = "https://portal.example"


def test_slices_built_in_other_processes_hold_the_tokens_signed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seed, "SLICE", 7)  # several tasks, answered in any order
    key = generate_key(KeyPurpose.ATTESTATION)
    plan = Plan(400, NOW, ISSUER, CATALOG)
    built = [future.result() for future in seed.slices(plan, key, True, "c" * 64, "officer")]
    assert [part.start for part in built] == list(range(0, 400, 7))
    rows = [line.split(b"\t") for part in built for line in part.tables["attestation"].splitlines()]  # type: ignore[union-attr]
    again = Plan(400, NOW, ISSUER, CATALOG)
    fates = [again.fate(i) for i in range(400)]
    expected = [(f.serial, sign_attestation(again.claims(f, again.document(f)), key)) for f in fates]
    assert [(row[1].decode(), row[11].decode()) for row in rows] == expected
    assert len({token for _, token in expected}) == 400
    assert sum(len(part.issues) for part in built) == 400
    assert sorted(n for part in built for n in part.changes) == [f.number for f in fates if f.changed is not None]
    # The seeder's fast canonical JSON gives the bytes RFC 8785 does, for every log entry and scope digest.
    logged = [entry for part in built for entry in (*part.issues, *part.changes.values())]
    assert {json.loads(e.entry.split("\t")[0])["event"] for e in logged} == {"issue", "suspend", "revoke", "expire",
                                                                              "supersede"}  # fmt: skip
    for e in logged:
        body, leaf_hex, event, serial, at = e.entry.split("\t")
        assert (body.encode(), e.leaf) == (canonical_json(json.loads(body)), hash_leaf(body.encode()))
        assert (leaf_hex, event, serial, at) == (e.leaf.hex(), json.loads(body)["event"], json.loads(body)["jti"],
                                                 e.event_at)  # fmt: skip
        assert e.event.split("\t")[2:4] == [serial, event]
    scopes = [line.split(b"\t") for part in built for line in part.tables["assessment"].splitlines()]  # type: ignore[union-attr]
    for row, scope in zip(rows, scopes, strict=True):
        expected_digest = canonical_digest({"organisation": row[4].decode(), "scope": json.loads(scope[4])})
        assert row[5].decode() == expected_digest


def test_an_attestation_is_decided_by_its_number_alone() -> None:
    plan, other = Plan(3_000, NOW, ISSUER, CATALOG), Plan(3_000, NOW, ISSUER, CATALOG)
    backwards = [other.fate(i) for i in reversed(range(3_000))][::-1]
    fates = [plan.fate(i) for i in range(3_000)]
    assert fates == backwards
    serials = [f.serial for f in fates]
    assert len(set(serials)) == 3_000
    by_year: dict[str, list[int]] = {}
    for serial in serials:
        by_year.setdefault(serial[3:7], []).append(int(serial[8:]))
    assert all(numbers == list(range(1, len(numbers) + 1)) for numbers in by_year.values())
    assert {f.status for f in fates} == {"active", "suspended", "revoked", "expired", "superseded"}
    for f in fates:
        assert f.issued < f.expires and (f.changed is None) == (f.status == "active")
        if f.status == "superseded":
            successor = fates[f.number + len(plan.organisations)]
            assert (f.superseded_by, f.changed) == (successor.serial, successor.issued)
        if f.status in ("suspended", "revoked"):
            assert f.issued + 3_600 <= f.changed <= min(f.expires, NOW)  # type: ignore[operator]
    assert len({(f.status_list, f.status_index) for f in fates}) == 3_000
    assert dataclasses.replace(fates[5]) == plan.fate(5)


def test_a_seeded_time_is_the_string_piccolo_stores_for_its_datetime() -> None:
    from bench.seed_plan import moment
    from bench.seed_slices import time

    for epoch in (0, 59, 3_599, 86_399, 86_400, 951_782_400, 1_709_164_799, NOW, NOW + 12_345):
        assert time(epoch) == str(moment(epoch))
    assert time(None) is None
