"""Test data for the attestation library tests: fixed keys, a fixed clock, sample claims."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from attestations.keys import KeyPurpose, SigningKey
from attestations.tokens import (
    Attestation,
    AttestationClaims,
    Catalog,
    Condition,
    Product,
    Provider,
    Revision,
    Scope,
    Status,
    StatusListReference,
)

NOW = 1_767_225_600  # 2026-01-01T00:00:00Z
ISSUER = "https://portal.example"
STATUS_URI = "https://portal.example/status/1"
YEAR = 365 * 86_400


def fixed_key(purpose: KeyPurpose, seed: int) -> SigningKey:
    """A deterministic key, so failures are reproducible."""
    return SigningKey(
        Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32), purpose, datetime(2026, 1, 1, tzinfo=UTC)
    )


def make_claims(**changes: Any) -> AttestationClaims:
    claims = AttestationClaims(
        iss=ISSUER,
        sub="urn:portal:org:7",
        jti="ATT-2026-000042",
        iat=NOW,
        nbf=NOW,
        exp=NOW + YEAR,
        status=Status(StatusListReference(idx=1234, uri=STATUS_URI)),
        att=Attestation(
            provider=Provider("Gulf Cloud Services W.L.L.", "Cloud service provider", "BH", "CR-123456"),
            scope=Scope(
                summary="Infrastructure as a service from two data centres in Manama",
                services=["IaaS", "Object storage"],
                products=[Product("GCS Compute", "C2", "2.4")],
                sites=["Manama DC1", "Manama DC2"],
            ),
            catalog=Catalog("CSP-BASELINE", "2025.1", "ab" * 32),
            revision=Revision(3, "cd" * 32),
            level="Level 2",
            result={"AC": {"controls": 12, "implemented": 11, "partial": 1}},
            conditions=[Condition("Remediate the penetration test findings", "2026-06-30")],
        ),
    )
    return msgspec.structs.replace(claims, **changes)
