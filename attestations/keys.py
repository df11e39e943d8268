"""Ed25519 signing keys: purposes, RFC 7638 key ids, encrypted storage, JWKS export and parsing.

Each purpose (attestation tokens, status lists, log checkpoints) has its own key, so a compromise or a
rotation of one never touches the others. Private keys are only ever written encrypted (PKCS#8 with the
passphrase from settings); public keys are published in the JWKS for as long as anything they signed may
still be checked, which here means forever: retired keys stay in the JWKS.

Each published JWK says what it may verify in a ``purpose`` member (``"attestation"``, ``"status"`` or
``"log"``), next to the registered ``"use": "sig"``. ``use`` only says "signatures"; RFC 7517 leaves room
for extra members, and ``key_ops`` is not used because RFC 7517 section 4.3 advises against combining it
with ``use``. A verifier accepts a document only from a key of the matching purpose
(:meth:`Keyring.key_for`), so a status list key in the JWKS can never vouch for an attestation.
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
from attestations.errors import InvalidInput, KeyNotFound, KeyPurposeMismatch

ED25519_PUBLIC_KEY_BYTES = 32
# The JWK member naming a key's purpose (not registered with IANA; RFC 7517 section 4 allows it).
PURPOSE_MEMBER = "purpose"


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


def public_jwk(key: SigningKey | Ed25519PublicKey, purpose: KeyPurpose | None = None) -> dict[str, str]:
    """The public JWK (RFC 8037 OKP) with ``kid``, ``use: sig``, ``alg: EdDSA`` and ``purpose``.

    A :class:`SigningKey` carries its purpose; for a bare public key pass ``purpose``. A JWK without a
    purpose is still valid JSON Web Key, but no verifier here will accept a signature by it.
    """
    public = key.public_key if isinstance(key, SigningKey) else key
    if isinstance(key, SigningKey):
        if purpose is not None and purpose is not key.purpose:
            raise InvalidInput(
                f"the key is for {key.purpose.value!r}, it cannot be published for {KeyPurpose(purpose).value!r}"
            )
        purpose = key.purpose
    jwk = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url_encode(raw_public_bytes(public)),
        "kid": thumbprint(public),
        "use": "sig",
        "alg": ALGORITHM,
    }
    if purpose is not None:
        jwk[PURPOSE_MEMBER] = KeyPurpose(purpose).value
    return jwk


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


def _parse_jwk(jwk: Any, position: int) -> tuple[str, Ed25519PublicKey, str | None]:
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
    purpose = jwk.get(PURPOSE_MEMBER)
    if purpose is not None and not isinstance(purpose, str):
        raise InvalidInput(f"{where} has {PURPOSE_MEMBER}={purpose!r}: a purpose is a string")
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
    # An unknown purpose string is kept as published: it matches no purpose, so the key verifies nothing.
    return kid, public, purpose


class Keyring:
    """Public keys parsed from a JWKS, looked up by ``kid`` and purpose. Only OKP/Ed25519 keys are accepted.

    ``purposes`` maps a kid to the purpose its JWK publishes; a kid missing from it has no purpose.
    """

    def __init__(self, keys: Mapping[str, Ed25519PublicKey], purposes: Mapping[str, str | None] | None = None) -> None:
        self._keys = dict(keys)
        self._purposes = {kid: purpose for kid, purpose in (purposes or {}).items() if kid in self._keys}

    @classmethod
    def from_jwks(cls, document: Any) -> Keyring:
        """Parse a JWKS document (already JSON-decoded); any unusable key is an :class:`InvalidInput`."""
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise InvalidInput('a JWKS is a JSON object with a "keys" array')
        if not document["keys"]:
            raise InvalidInput("the JWKS has no keys")
        parsed = [_parse_jwk(jwk, i) for i, jwk in enumerate(document["keys"])]
        return cls({kid: public for kid, public, _ in parsed}, {kid: purpose for kid, _, purpose in parsed})

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
        """A keyring of the public halves of ``keys``; a :class:`SigningKey` brings its purpose, a bare
        public key has none (so it verifies nothing through :meth:`key_for`)."""
        publics = {thumbprint(k.public_key if isinstance(k, SigningKey) else k): k for k in keys}
        return cls(
            {kid: k.public_key if isinstance(k, SigningKey) else k for kid, k in publics.items()},
            {kid: k.purpose.value for kid, k in publics.items() if isinstance(k, SigningKey)},
        )

    @property
    def kids(self) -> list[str]:
        """Key ids, in the order they were given."""
        return list(self._keys)

    def items(self, purpose: KeyPurpose | None = None) -> list[tuple[str, Ed25519PublicKey]]:
        """``(kid, public key)`` pairs; with ``purpose``, only the keys published for it."""
        if purpose is None:
            return list(self._keys.items())
        wanted = KeyPurpose(purpose).value
        return [(kid, key) for kid, key in self._keys.items() if self._purposes.get(kid) == wanted]

    def purpose_of(self, kid: str) -> str | None:
        """The purpose the JWKS publishes for ``kid`` (``None`` if it has none); :class:`KeyNotFound`."""
        self.get(kid)
        return self._purposes.get(kid)

    def get(self, kid: str) -> Ed25519PublicKey:
        """The public key with ``kid`` whatever its purpose; :class:`KeyNotFound` if there is none.

        To verify a signature use :meth:`key_for`, which also checks the purpose.
        """
        try:
            return self._keys[kid]
        except (KeyError, TypeError):
            raise KeyNotFound(f"no key with kid {kid!r} in the JWKS") from None

    def key_for(self, kid: str, purpose: KeyPurpose) -> Ed25519PublicKey:
        """The public key with ``kid`` if the JWKS publishes it for ``purpose``.

        :class:`KeyNotFound` if there is no such kid, :class:`KeyPurposeMismatch` if the key has another
        purpose or none.
        """
        public = self.get(kid)
        wanted = KeyPurpose(purpose).value
        actual = self._purposes.get(kid)
        if actual != wanted:
            has = f"is a {actual!r} key" if actual is not None else "has no purpose"
            raise KeyPurposeMismatch(
                f"kid {kid} {has} in the JWKS; only a key published for {wanted!r} is accepted here"
            )
        return public

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def __len__(self) -> int:
        return len(self._keys)
