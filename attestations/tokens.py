"""The attestation token: typed claims (DESIGN section 4) and the signer.

A token is a compact JWS, ``alg: EdDSA``, header ``{typ: attestation+jwt, kid}``. Claims carry integers
and strings only (no floats), so the token's payload and any hash of it are stable across languages.
"""

from __future__ import annotations

import msgspec

from attestations._jose import parse_compact, sign_compact
from attestations.errors import InvalidInput
from attestations.keys import KeyPurpose, SigningKey

TOKEN_TYPE = "attestation+jwt"  # noqa: S105 - a media type, not a secret


class Provider(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The attested provider as registered with the regulator."""

    name: str
    category: str
    country: str
    registration: str


class Product(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A product in scope."""

    name: str
    model: str = ""
    version: str = ""


class Scope(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What the attestation covers."""

    summary: str
    services: list[str] = msgspec.field(default_factory=list)
    products: list[Product] = msgspec.field(default_factory=list)
    sites: list[str] = msgspec.field(default_factory=list)


class Catalog(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The control catalogue assessed against, pinned by the hash of its canonical JSON."""

    id: str
    version: str
    sha256: str


class Revision(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The assessment revision that was approved, pinned by its canonical hash."""

    number: int
    sha256: str


class Condition(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A condition attached to the attestation; ``due`` is an ISO date (``YYYY-MM-DD``) or ``None``."""

    text: str
    due: str | None = None


# Per control family, counts by outcome, e.g. {"AC": {"controls": 12, "implemented": 11, "partial": 1}}.
FamilyResult = dict[str, int]


class Attestation(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The ``att`` claim."""

    provider: Provider
    scope: Scope
    catalog: Catalog
    revision: Revision
    level: str
    result: dict[str, FamilyResult]
    conditions: list[Condition] = msgspec.field(default_factory=list)


class StatusListReference(msgspec.Struct, frozen=True):
    """Where this token's status lives: index ``idx`` of the status list at ``uri``."""

    idx: int
    uri: str


class Status(msgspec.Struct, frozen=True):
    """The ``status`` claim (IETF Token Status List)."""

    status_list: StatusListReference


class AttestationClaims(msgspec.Struct, frozen=True):
    """All claims of an attestation token. Unknown claims are ignored, as JWT requires."""

    iss: str
    sub: str
    jti: str
    iat: int
    nbf: int
    exp: int
    status: Status
    att: Attestation


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(AttestationClaims)


def encode_claims(claims: AttestationClaims) -> bytes:
    """The JSON payload of ``claims`` (field order fixed by the struct, no whitespace)."""
    return _encoder.encode(claims)


def decode_claims(payload: bytes) -> AttestationClaims:
    """Decode and type-check a payload; :class:`InvalidInput` names the missing or mistyped claim."""
    try:
        return _decoder.decode(payload)
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"claims: {exc}") from exc
    except (msgspec.DecodeError, RecursionError) as exc:
        raise InvalidInput(f"the payload is not JSON: {exc}") from exc


def claims_to_dict(claims: AttestationClaims) -> dict[str, object]:
    """Plain builtins (for JSON output and display)."""
    result: dict[str, object] = msgspec.to_builtins(claims)
    return result


def sign_attestation(claims: AttestationClaims, key: SigningKey) -> str:
    """Sign ``claims`` with an attestation key; returns the compact JWS."""
    if key.purpose is not KeyPurpose.ATTESTATION:
        raise InvalidInput(f"a {key.purpose.value} key cannot sign attestations")
    if not claims.nbf <= claims.exp or not claims.iat <= claims.exp:
        raise InvalidInput("exp must not be before iat or nbf")
    return sign_compact(encode_claims(claims), key.private, typ=TOKEN_TYPE, kid=key.kid)


def unverified_claims(token: str) -> AttestationClaims:
    """Read the claims WITHOUT checking anything: for display or to pick a key, never to trust."""
    return decode_claims(parse_compact(token).payload)
