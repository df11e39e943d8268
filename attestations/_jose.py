"""Internal JOSE plumbing: base64url, compact JWS signing (via pyjwt) and strict parsing."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from attestations.errors import InvalidInput

# The one algorithm this library signs and accepts; it is never read from a token.
ALGORITHM = "EdDSA"
ED25519_SIGNATURE_BYTES = 64

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
