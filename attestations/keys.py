"""Ed25519 signing keys: purposes, RFC 7638 key ids, encrypted storage, JWKS export and parsing.

Each purpose (attestation tokens, status lists, log checkpoints) has its own key, so a compromise or a
rotation of one never touches the others. Private keys are only ever written encrypted (PKCS#8 with the
passphrase from settings); public keys are published in the JWKS for as long as anything they signed may
still be checked, which here means forever: retired keys stay in the JWKS.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from attestations._jose import ALGORITHM, b64url_decode, b64url_encode
from attestations.errors import InvalidInput, KeyNotFound

ED25519_PUBLIC_KEY_BYTES = 32


class KeyPurpose(StrEnum):
    """What a key signs. A key signs exactly one kind of document."""

    ATTESTATION = "attestation"
    STATUS = "status"
    LOG = "log"


def raw_public_bytes(public_key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of an Ed25519 public key."""
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def thumbprint(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint (base64url SHA-256 of the required members in lexical order)."""
    # RFC 7638 section 3.2: required members only, sorted, no whitespace. For OKP: crv, kty, x (RFC 8037).
    members = {"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(raw_public_bytes(public_key))}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode("ascii")
    return b64url_encode(hashlib.sha256(canonical).digest())


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private Ed25519 key bound to one purpose. ``kid`` is the RFC 7638 thumbprint of its public key."""

    private: Ed25519PrivateKey = field(repr=False)
    purpose: KeyPurpose
    created_at: datetime
    kid: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kid", thumbprint(self.private.public_key()))

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The matching public key."""
        return self.private.public_key()


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def generate_key(purpose: KeyPurpose, *, now: datetime | None = None) -> SigningKey:
    """Generate a fresh Ed25519 key for ``purpose``."""
    return SigningKey(Ed25519PrivateKey.generate(), KeyPurpose(purpose), now or _now())


def encrypt_private_key(key: SigningKey, passphrase: bytes) -> bytes:
    """PKCS#8 PEM of the private key, encrypted with ``passphrase`` (the best scheme cryptography offers)."""
    if not passphrase:
        raise InvalidInput("a passphrase is required to store a private key")
    return key.private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )


def load_private_key(
    pem: bytes, passphrase: bytes, purpose: KeyPurpose, *, created_at: datetime | None = None
) -> SigningKey:
    """Decrypt a key written by :func:`encrypt_private_key`; refuses anything but Ed25519."""
    try:
        private = serialization.load_pem_private_key(pem, password=passphrase)
    except (ValueError, TypeError) as exc:
        # cryptography says ValueError for a wrong passphrase and for a damaged file alike.
        raise InvalidInput("the private key cannot be opened: wrong passphrase or damaged file") from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise InvalidInput(f"the private key is {type(private).__name__}, not Ed25519")
    return SigningKey(private, KeyPurpose(purpose), created_at or _now())


def public_jwk(key: SigningKey | Ed25519PublicKey) -> dict[str, str]:
    """The public JWK (RFC 8037 OKP) with ``kid``, ``use: sig`` and ``alg: EdDSA``."""
    public = key.public_key if isinstance(key, SigningKey) else key
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url_encode(raw_public_bytes(public)),
        "kid": thumbprint(public),
        "use": "sig",
        "alg": ALGORITHM,
    }


def jwks(public_jwks: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """A JWK Set document ``{"keys": [...]}``; duplicates (same kid) are listed once."""
    seen: set[str] = set()
    keys: list[dict[str, Any]] = []
    for jwk in public_jwks:
        kid = str(jwk.get("kid", ""))
        if kid in seen:
            continue
        seen.add(kid)
        keys.append(dict(jwk))
    return {"keys": keys}


def _parse_jwk(jwk: Any, position: int) -> tuple[str, Ed25519PublicKey]:
    where = f"JWKS key #{position + 1}"
    if not isinstance(jwk, dict):
        raise InvalidInput(f"{where} is not a JSON object")
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise InvalidInput(
            f"{where} has kty={jwk.get('kty')!r} crv={jwk.get('crv')!r}: only OKP/Ed25519 keys are accepted"
        )
    if "d" in jwk:
        raise InvalidInput(f"{where} contains a private key ('d'); a JWKS publishes public keys only")
    if jwk.get("alg", ALGORITHM) != ALGORITHM:
        raise InvalidInput(f"{where} has alg={jwk['alg']!r}, expected {ALGORITHM}")
    if jwk.get("use", "sig") != "sig":
        raise InvalidInput(f"{where} has use={jwk['use']!r}, expected 'sig'")
    x = jwk.get("x")
    if not isinstance(x, str) or len(b64url_decode(x, f"{where} 'x'")) != ED25519_PUBLIC_KEY_BYTES:
        raise InvalidInput(f"{where} has no valid 32-byte Ed25519 'x'")
    try:
        parsed = jwt.PyJWK(jwk, algorithm=ALGORITHM)
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError) as exc:
        raise InvalidInput(f"{where} is not a usable Ed25519 key: {exc}") from exc
    public = parsed.key
    if not isinstance(public, Ed25519PublicKey):
        raise InvalidInput(f"{where} is not an Ed25519 public key")
    kid = thumbprint(public)
    if jwk.get("kid", kid) != kid:
        # The kid is the thumbprint; a mismatch means the set was edited by hand or tampered with.
        raise InvalidInput(f"{where} has kid {jwk['kid']!r} but its RFC 7638 thumbprint is {kid!r}")
    return kid, public


class Keyring:
    """Public keys parsed from a JWKS, looked up by ``kid``. Only OKP/Ed25519 keys are accepted."""

    def __init__(self, keys: Mapping[str, Ed25519PublicKey]) -> None:
        self._keys = dict(keys)

    @classmethod
    def from_jwks(cls, document: Any) -> Keyring:
        """Parse a JWKS document (already JSON-decoded); any unusable key is an :class:`InvalidInput`."""
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise InvalidInput('a JWKS is a JSON object with a "keys" array')
        if not document["keys"]:
            raise InvalidInput("the JWKS has no keys")
        return cls(dict(_parse_jwk(jwk, i) for i, jwk in enumerate(document["keys"])))

    @classmethod
    def from_json(cls, data: bytes | str) -> Keyring:
        """Parse JWKS JSON text."""
        try:
            document = json.loads(data)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise InvalidInput("the JWKS is not JSON") from exc
        return cls.from_jwks(document)

    @classmethod
    def of(cls, *keys: SigningKey | Ed25519PublicKey) -> Keyring:
        """A keyring of the public halves of ``keys``."""
        publics = [k.public_key if isinstance(k, SigningKey) else k for k in keys]
        return cls({thumbprint(p): p for p in publics})

    @property
    def kids(self) -> list[str]:
        """Key ids, in the order they were given."""
        return list(self._keys)

    def items(self) -> list[tuple[str, Ed25519PublicKey]]:
        """``(kid, public key)`` pairs."""
        return list(self._keys.items())

    def get(self, kid: str) -> Ed25519PublicKey:
        """The public key with ``kid``; :class:`KeyNotFound` if there is none."""
        try:
            return self._keys[kid]
        except (KeyError, TypeError):
            raise KeyNotFound(f"no key with kid {kid!r} in the JWKS") from None

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def __len__(self) -> int:
        return len(self._keys)
