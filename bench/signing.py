"""The seeder's signing processes: each holds the attestation key and signs the claims it is sent, in order.

A module of its own, so a process started by spawn finds these functions however the seeder itself was run
(``python -m bench.seed``, from ``bench``, or under a profiler)."""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from attestations.keys import KeyPurpose, SigningKey
from attestations.tokens import AttestationClaims, sign_attestation

_KEY: SigningKey | None = None  # in each signing process


def start(private: bytes, created: float) -> None:
    global _KEY
    key = Ed25519PrivateKey.from_private_bytes(private)
    _KEY = SigningKey(key, KeyPurpose.ATTESTATION, dt.datetime.fromtimestamp(created, dt.UTC))


def sign_all(claims: list[AttestationClaims]) -> list[str]:
    assert _KEY is not None, "start() runs first, as the pool's initializer"
    return [sign_attestation(c, _KEY) for c in claims]
