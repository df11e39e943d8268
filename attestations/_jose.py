"""Internal JOSE plumbing: base64url, compact JWS signing (via pyjwt), strict parsing, and the one
compact JWS verification that attestation tokens and status lists both go through."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.exceptions import InvalidSignature as BadSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from attestations.errors import InvalidInput, InvalidSignature, KeyNotFound, KeyPurposeMismatch

if TYPE_CHECKING:  # keys imports this module; the keyring is only named here, never imported at run time
    from attestations.keys import KeyPurpose, Keyring

# The one algorithm this library signs and accepts; it is never read from a token.
ALGORITHM = "EdDSA"
ED25519_SIGNATURE_BYTES = 64

# Header members that carry or point to key material. Trusting them would let a forger supply the key.
UNTRUSTED_KEY_HEADERS = ("jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256")
# The checks of verify_compact, in the order they run.
JWS_CHECKS = ("token format", "algorithm", "key id", "signature", "type")

_B64URL_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, what: str = "value") -> bytes:
    """Strict base64url decoding: no padding, no characters outside the alphabet."""
    if not set(text) <= _B64URL_ALPHABET:
        raise InvalidInput(f"{what} is not base64url")
    if len(text) % 4 == 1:
        raise InvalidInput(f"{what} has an impossible base64url length (truncated?)")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - the checks above catch these
        raise InvalidInput(f"{what} is not base64url") from exc


@dataclass(frozen=True, slots=True)
class CompactJWS:
    """A compact JWS split into its parts; nothing in it has been verified."""

    header: dict[str, Any]
    payload: bytes
    signature: bytes
    signing_input: bytes


def parse_compact(token: str) -> CompactJWS:
    """Split and decode a compact JWS, raising :class:`InvalidInput` naming the first malformed part."""
    token = token.strip()
    if not token:
        raise InvalidInput("the token is empty")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidInput(f"a compact JWS has 3 dot-separated parts, this token has {len(parts)}")
    header_b64, payload_b64, signature_b64 = parts
    header_bytes = b64url_decode(header_b64, "the token header")
    try:
        header = json.loads(header_bytes)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidInput("the token header is not JSON") from exc
    if not isinstance(header, dict):
        raise InvalidInput("the token header is not a JSON object")
    payload = b64url_decode(payload_b64, "the token payload")
    signature = b64url_decode(signature_b64, "the token signature")
    if len(signature) != ED25519_SIGNATURE_BYTES:
        raise InvalidInput(
            f"the token signature is {len(signature)} bytes, an Ed25519 signature is "
            f"{ED25519_SIGNATURE_BYTES} (truncated token?)"
        )
    return CompactJWS(
        header=header,
        payload=payload,
        signature=signature,
        signing_input=f"{header_b64}.{payload_b64}".encode("ascii"),
    )


def sign_compact(payload: bytes, private_key: Ed25519PrivateKey, *, typ: str, kid: str) -> str:
    """Sign ``payload`` as a compact JWS with header ``{alg: EdDSA, kid, typ}``."""
    return jwt.api_jws.encode(
        payload, private_key, algorithm=ALGORITHM, headers={"typ": typ, "kid": kid}, sort_headers=True
    )


# Called once per check of verify_compact: (check name, passed, detail). A failed check is reported, then raised.
CheckRecorder = Callable[[str, bool, str], None]


def _ignore(name: str, ok: bool, detail: str) -> None:
    """The recorder used when the caller keeps no checklist."""


def verify_compact(
    token: str, keyring: Keyring, *, purpose: KeyPurpose, typ: str, record: CheckRecorder = _ignore
) -> CompactJWS:
    """Verify a compact JWS signed with a ``purpose`` key from ``keyring``; return it, parsed.

    The checks (:data:`JWS_CHECKS`), each reported to ``record`` before the next runs:

    1. token format  three base64url parts, a JSON object header, a 64-byte signature
    2. algorithm     ``alg`` is EdDSA: pinned here, never taken from the token
    3. key id        ``kid`` is in ``keyring`` and published for ``purpose``; key material in the header
                     (``jku``, ``jwk``, ``x5u``, ``x5c``, ...) is ignored
    4. signature     Ed25519 over ``header.payload`` with that key
    5. type          ``typ`` is ``typ`` (case-insensitive, ``application/`` optional, RFC 7515 4.1.9)
                     and no ``crit`` extension is demanded

    The first failure raises: :class:`InvalidInput` (format), :class:`KeyNotFound` (no kid, unknown kid),
    :class:`KeyPurposeMismatch` (a key of another purpose or none), :class:`InvalidSignature` (algorithm,
    signature, type).
    """

    def fail(name: str, error: type[Exception], detail: str) -> Exception:
        record(name, False, detail)
        return error(detail)

    # 1. token format
    try:
        jws = parse_compact(token)
    except InvalidInput as exc:
        raise fail("token format", InvalidInput, str(exc)) from None
    record("token format", True, "compact JWS: header, payload and 64-byte signature decode")
    header = jws.header

    # 2. algorithm
    alg = header.get("alg")
    if alg != ALGORITHM:
        raise fail("algorithm", InvalidSignature, f"header alg is {alg!r}; only {ALGORITHM} is accepted")
    record("algorithm", True, f"{ALGORITHM} (pinned by the verifier)")

    # 3. key id, with the purpose the caller requires
    kid = header.get("kid")
    ignored = [name for name in UNTRUSTED_KEY_HEADERS if name in header]
    note = f"; header {', '.join(ignored)} ignored" if ignored else ""
    if not isinstance(kid, str) or not kid:
        raise fail("key id", KeyNotFound, f"the header has no kid{note}")
    try:
        public_key = keyring.key_for(kid, purpose)
    except KeyPurposeMismatch:
        actual = keyring.purpose_of(kid)
        has = f"is a {actual!r} key" if actual is not None else "has no purpose"
        detail = f"kid {kid} {has} in the JWKS; {typ} is accepted only from a key published for {purpose.value!r}{note}"
        raise fail("key id", KeyPurposeMismatch, detail) from None
    except KeyNotFound:
        raise fail("key id", KeyNotFound, f"kid {kid} is not in the JWKS{note}") from None
    record("key id", True, f"kid {kid} found in the JWKS, published for {purpose.value!r}{note}")

    # 4. signature
    try:
        public_key.verify(jws.signature, jws.signing_input)
    except BadSignature:
        raise fail("signature", InvalidSignature, f"the Ed25519 signature does not verify with key {kid}") from None
    record("signature", True, f"Ed25519 signature verified with key {kid}")

    # 5. type
    found = header.get("typ")
    if not isinstance(found, str) or found.lower() not in (typ, f"application/{typ}"):
        raise fail("type", InvalidSignature, f"typ is {found!r}, expected {typ!r}")
    if "crit" in header:
        detail = f"the header demands extensions this verifier lacks: {header['crit']!r}"
        raise fail("type", InvalidSignature, detail)
    record("type", True, typ)
    return jws
