"""Fixtures for the attestation library tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from attestation_testdata import fixed_key, make_claims

from attestations.keys import KeyPurpose, Keyring, SigningKey, jwks, public_jwk
from attestations.tokens import sign_attestation


@pytest.fixture
def attestation_key() -> SigningKey:
    return fixed_key(KeyPurpose.ATTESTATION, 1)


@pytest.fixture
def status_key() -> SigningKey:
    return fixed_key(KeyPurpose.STATUS, 2)


@pytest.fixture
def log_key() -> SigningKey:
    return fixed_key(KeyPurpose.LOG, 3)


@pytest.fixture
def jwks_document(attestation_key: SigningKey, status_key: SigningKey, log_key: SigningKey) -> dict[str, Any]:
    return jwks([public_jwk(attestation_key), public_jwk(status_key), public_jwk(log_key)])


@pytest.fixture
def keyring(jwks_document: dict[str, Any]) -> Keyring:
    return Keyring.from_jwks(jwks_document)


@pytest.fixture
def sign(attestation_key: SigningKey) -> Callable[..., str]:
    def _sign(**changes: Any) -> str:
        return sign_attestation(make_claims(**changes), attestation_key)

    return _sign


@pytest.fixture
def token(sign: Callable[..., str]) -> str:
    return sign()
