"""``bench.seed`` signs in a process per core: the tokens are exactly those one process would sign, in order."""

from __future__ import annotations

import pytest

from attestations.keys import KeyPurpose, generate_key
from attestations.tokens import sign_attestation
from bench import seed

CATALOG = {"id": "00000000-0000-4000-8000-000000000001", "catalog_id": "ppa-baseline", "version": "1.1.0",
           "digest": "ab" * 32}  # fmt: skip


def test_tokens_signed_in_other_processes_are_those_signed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seed, "SIGN_BATCH", 7)  # several tasks, answered in any order
    key = generate_key(KeyPurpose.ATTESTATION)
    rows = seed.seed_rows(seed.Plan(40, 1_780_000_000, key, "https://portal.example", CATALOG))
    again = seed.Plan(40, 1_780_000_000, key, "https://portal.example", CATALOG)
    expected = [(row.serial, sign_attestation(claims, key)) for row, claims in again.attestations()]
    assert [(row.serial, row.token) for row in rows] == expected
    assert len({token for _, token in expected}) == 40
