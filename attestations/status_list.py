"""IETF Token Status List (draft-ietf-oauth-status-list): 2-bit statuses, signed ``statuslist+jwt``.

Entry ``i`` occupies bits ``(i * bits) % 8`` upwards of byte ``(i * bits) // 8`` (least significant bits
first), the byte array is compressed with zlib (DEFLATE) and carried base64url-encoded without padding.
Indexes are drawn at random so a token's index reveals nothing about when it was issued or by whom.
"""

from __future__ import annotations

import random
import secrets
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

import msgspec

from attestations._jose import (
    CompactJWS,
    b64url_decode,
    b64url_encode,
    parse_compact,
    sign_compact,
    verify_compact,
)
from attestations.errors import InvalidInput, InvalidSignature, StatusListExpired, StatusListFull
from attestations.keys import KeyPurpose, Keyring, SigningKey

STATUS_LIST_TYPE = "statuslist+jwt"
MIN_SIZE = 131_072  # entries: large enough that an index identifies nobody (draft, privacy section)
ALLOWED_BITS = (1, 2, 4, 8)
# zlib output is bounded so a hostile list cannot expand into gigabytes.
MAX_DECOMPRESSED_BYTES = 16 * 1024 * 1024


class TokenStatus(IntEnum):
    """Status types registered by the draft (3 is application-specific and unused here)."""

    VALID = 0
    INVALID = 1  # the draft's name; this project calls it revoked
    SUSPENDED = 2

    @property
    def label(self) -> str:
        """The word shown to people."""
        return {0: "valid", 1: "revoked", 2: "suspended"}[self.value]


REVOKED = TokenStatus.INVALID


class StatusList:
    """A fixed-size list of ``bits``-bit statuses, with collision-free random index allocation."""

    def __init__(
        self,
        size: int = MIN_SIZE,
        bits: int = 2,
        *,
        data: bytes | bytearray | None = None,
        allocated: Iterable[int] = (),
    ) -> None:
        if bits not in ALLOWED_BITS:
            raise InvalidInput(f"bits must be one of {ALLOWED_BITS}, not {bits}")
        if size <= 0:
            raise InvalidInput("a status list has at least one entry")
        self.bits = bits
        self.size = size
        length = (size * bits + 7) // 8
        if data is None:
            self._data = bytearray(length)
        else:
            if len(data) < length:
                raise InvalidInput(f"the status list has {len(data)} bytes, {length} are needed")
            self._data = bytearray(data)
        self._allocated: set[int] = set()
        for index in allocated:
            self._check_index(index)
            self._allocated.add(index)

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.size:
            raise InvalidInput(f"index {index} is outside the status list (0..{self.size - 1})")

    def get(self, index: int) -> int:
        """The status value at ``index``."""
        self._check_index(index)
        bit = index * self.bits
        return (self._data[bit // 8] >> (bit % 8)) & ((1 << self.bits) - 1)

    def set(self, index: int, value: int) -> None:
        """Set the status at ``index`` (0 valid, 1 revoked, 2 suspended)."""
        self._check_index(index)
        mask = (1 << self.bits) - 1
        if not 0 <= value <= mask:
            raise InvalidInput(f"status {value} does not fit in {self.bits} bits")
        bit = index * self.bits
        byte, shift = bit // 8, bit % 8
        self._data[byte] = (self._data[byte] & ~(mask << shift) & 0xFF) | (value << shift)

    @property
    def allocated(self) -> frozenset[int]:
        """Indexes handed out so far."""
        return frozenset(self._allocated)

    def allocate_index(self, rng: random.Random | None = None) -> int:
        """A random index never handed out before; :class:`StatusListFull` when none is left."""
        free = self.size - len(self._allocated)
        if free <= 0:
            raise StatusListFull(f"all {self.size} indexes of the status list are allocated")
        draw = rng or secrets.SystemRandom()
        if free * 4 >= self.size:
            # Mostly empty: rejection sampling needs fewer than 4 draws on average.
            while True:
                index = draw.randrange(self.size)
                if index not in self._allocated:
                    break
        else:
            index = draw.choice([i for i in range(self.size) if i not in self._allocated])
        self._allocated.add(index)
        return index

    def to_bytes(self) -> bytes:
        """The raw (uncompressed) byte array."""
        return bytes(self._data)

    def encode(self) -> str:
        """The ``lst`` value: zlib (DEFLATE, best compression) then base64url without padding."""
        return b64url_encode(zlib.compress(bytes(self._data), 9))

    def to_claim(self) -> dict[str, int | str]:
        """The ``status_list`` claim ``{bits, lst}``."""
        return {"bits": self.bits, "lst": self.encode()}

    @classmethod
    def decode(cls, lst: str, bits: int) -> StatusList:
        """Parse an ``lst`` value; the size is every entry the byte array can hold."""
        if bits not in ALLOWED_BITS:
            raise InvalidInput(f"status list bits must be one of {ALLOWED_BITS}, not {bits}")
        compressed = b64url_decode(lst, "the status list 'lst'")
        inflater = zlib.decompressobj()
        try:
            raw = inflater.decompress(compressed, MAX_DECOMPRESSED_BYTES)
        except zlib.error as exc:
            raise InvalidInput(f"the status list does not decompress: {exc}") from exc
        if inflater.unconsumed_tail:
            raise InvalidInput("the status list decompresses to more than 16 MiB")
        if not inflater.eof:
            raise InvalidInput("the status list is truncated (incomplete zlib stream)")
        if not raw:
            raise InvalidInput("the status list is empty")
        return cls(size=len(raw) * 8 // bits, bits=bits, data=raw)


class StatusListClaim(msgspec.Struct, frozen=True):
    """``status_list`` inside a status list token."""

    bits: int
    lst: str
    aggregation_uri: str | None = msgspec.field(default=None)


class StatusListClaims(msgspec.Struct, frozen=True, omit_defaults=True):
    """Claims of a ``statuslist+jwt``."""

    sub: str
    iat: int
    status_list: StatusListClaim
    exp: int | None = None
    ttl: int | None = None
    iss: str | None = None


@dataclass(frozen=True, slots=True)
class StatusListToken:
    """A parsed status list token: its header, claims and decoded list. Verified only if ``verified``."""

    header: dict[str, object]
    claims: StatusListClaims
    status_list: StatusList
    verified: bool


def sign_status_list(
    status_list: StatusList,
    key: SigningKey,
    *,
    uri: str,
    iat: int,
    exp: int,
    ttl: int,
    iss: str | None = None,
) -> str:
    """Sign ``status_list`` as a ``statuslist+jwt`` whose ``sub`` is the list's own ``uri``."""
    if key.purpose is not KeyPurpose.STATUS:
        raise InvalidInput(f"a {key.purpose.value} key cannot sign status lists")
    if exp <= iat or ttl <= 0:
        raise InvalidInput("a status list token needs exp after iat and a positive ttl")
    claims = StatusListClaims(
        sub=uri,
        iat=iat,
        exp=exp,
        ttl=ttl,
        iss=iss,
        status_list=StatusListClaim(bits=status_list.bits, lst=status_list.encode()),
    )
    return sign_compact(msgspec.json.encode(claims), key.private, typ=STATUS_LIST_TYPE, kid=key.kid)


def _decode(jws: CompactJWS, *, verified: bool) -> StatusListToken:
    try:
        claims = msgspec.json.decode(jws.payload, type=StatusListClaims)
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError) as exc:
        raise InvalidInput(f"the status list token claims do not decode: {exc}") from exc
    decoded = StatusList.decode(claims.status_list.lst, claims.status_list.bits)
    return StatusListToken(header=jws.header, claims=claims, status_list=decoded, verified=verified)


def parse_status_list_token(token: str) -> StatusListToken:
    """Parse a status list token WITHOUT verifying it: :class:`InvalidInput` if it does not decode."""
    return _decode(parse_compact(token), verified=False)


def decode_status_list_token(
    token: str,
    jwks: Keyring,
    *,
    uri: str | None = None,
    now: int | None = None,
    leeway: int = 60,
) -> StatusListToken:
    """Verify and decode a status list token, then check its ``sub``, ``exp`` and ``iat``.

    The signature is checked by :func:`attestations._jose.verify_compact` (pinned alg, a *status* key
    from ``jwks``, ``typ: statuslist+jwt``), exactly as an attestation token is. Raises
    :class:`InvalidInput` if it does not parse, :class:`KeyNotFound` for a missing or unknown ``kid``,
    :class:`KeyPurposeMismatch` for a key that is not a status key, :class:`StatusListExpired` past
    ``exp``, and :class:`InvalidSignature` for any other failed check.
    """
    verified = _decode(verify_compact(token, jwks, purpose=KeyPurpose.STATUS, typ=STATUS_LIST_TYPE), verified=True)
    claims = verified.claims
    if uri is not None and claims.sub != uri:
        raise InvalidSignature(f"the status list is {claims.sub!r}, the token points to {uri!r}")
    current = int(time.time()) if now is None else now
    if claims.exp is not None and current >= claims.exp + leeway:
        raise StatusListExpired(f"the status list expired at {claims.exp} (now {current})")
    if claims.iat > current + leeway:
        raise InvalidSignature(f"the status list is issued in the future (iat {claims.iat})")
    return verified
