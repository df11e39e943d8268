"""Token Status List: the draft's published examples, allocation, signing, and status in verification."""

from __future__ import annotations

import json
import random
import zlib
from collections.abc import Callable

import pytest
from attestation_testdata import ISSUER, NOW, STATUS_URI

from attestations._jose import b64url_encode, parse_compact
from attestations.errors import (
    InvalidInput,
    InvalidSignature,
    KeyNotFound,
    KeyPurposeMismatch,
    StatusListExpired,
    StatusListFull,
    VerificationError,
)
from attestations.keys import Keyring, SigningKey
from attestations.policy import ExpectedIssuer
from attestations.status_list import (
    MIN_SIZE,
    StatusList,
    TokenStatus,
    decode_status_list_token,
    parse_status_list_token,
    sign_status_list,
)
from attestations.verify import verify_token

# draft-ietf-oauth-status-list, "Status List" section: the 1-bit and 2-bit examples.
DRAFT_1BIT = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
DRAFT_1BIT_BYTES = bytes([0xB9, 0xA3])
DRAFT_1BIT_LST = "eNrbuRgAAhcBXQ"
DRAFT_2BIT = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
DRAFT_2BIT_BYTES = bytes([0xC9, 0x44, 0xF9])
DRAFT_2BIT_LST = "eNo76fITAAPfAgc"


@pytest.mark.parametrize(
    ("bits", "statuses", "raw", "lst"),
    [(1, DRAFT_1BIT, DRAFT_1BIT_BYTES, DRAFT_1BIT_LST), (2, DRAFT_2BIT, DRAFT_2BIT_BYTES, DRAFT_2BIT_LST)],
)
def test_draft_examples_encode_and_decode(bits: int, statuses: list[int], raw: bytes, lst: str) -> None:
    status_list = StatusList(size=len(statuses), bits=bits)
    for index, value in enumerate(statuses):
        status_list.set(index, value)
    assert status_list.to_bytes() == raw
    assert status_list.encode() == lst
    decoded = StatusList.decode(lst, bits)
    assert decoded.to_bytes() == raw
    assert [decoded.get(i) for i in range(len(statuses))] == statuses


def test_default_list_is_two_bit_and_large_enough() -> None:
    status_list = StatusList()
    assert (status_list.bits, status_list.size) == (2, MIN_SIZE)
    assert MIN_SIZE == 131_072
    assert len(status_list.to_bytes()) == 32_768
    assert StatusList.decode(status_list.encode(), 2).size == MIN_SIZE


def test_set_get_does_not_disturb_neighbours() -> None:
    status_list = StatusList(size=64)
    status_list.set(10, TokenStatus.SUSPENDED)
    status_list.set(11, TokenStatus.INVALID)
    status_list.set(10, TokenStatus.VALID)
    assert [status_list.get(i) for i in (9, 10, 11, 12)] == [0, 0, 1, 0]


@pytest.mark.parametrize("index", [-1, 64])
def test_index_out_of_range_is_refused(index: int) -> None:
    with pytest.raises(InvalidInput, match="outside the status list"):
        StatusList(size=64).get(index)


def test_value_must_fit_in_bits() -> None:
    with pytest.raises(InvalidInput, match="does not fit in 1 bits"):
        StatusList(size=8, bits=1).set(0, 2)


def test_random_allocation_never_collides_until_full() -> None:
    status_list = StatusList(size=1024)
    rng = random.Random(7)
    indexes = [status_list.allocate_index(rng) for _ in range(1024)]
    assert sorted(indexes) == list(range(1024))
    assert indexes[:8] != list(range(8))  # random, not sequential
    with pytest.raises(StatusListFull):
        status_list.allocate_index(rng)


def test_allocation_respects_indexes_already_taken() -> None:
    status_list = StatusList(size=16, allocated=range(15))
    assert status_list.allocate_index(random.Random(1)) == 15


@pytest.mark.parametrize(
    ("lst", "bits", "message"),
    [
        ("eNrbuRgAAhcBXQ", 3, "bits must be one of"),
        ("not base64!", 2, "not base64url"),
        (b64url_encode(b"not zlib"), 2, "does not decompress"),
        (b64url_encode(zlib.compress(b"\x00" * 100)[:-6]), 2, "truncated"),
        (b64url_encode(zlib.compress(b"")), 2, "empty"),
    ],
)
def test_undecodable_lists_are_refused(lst: str, bits: int, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        StatusList.decode(lst, bits)


def test_decompression_bomb_is_refused() -> None:
    bomb = b64url_encode(zlib.compress(bytes(17 * 1024 * 1024), 9))
    with pytest.raises(InvalidInput, match="more than 16 MiB"):
        StatusList.decode(bomb, 2)


def sign_list(status_key: SigningKey, status_list: StatusList, **kwargs: int | str) -> str:
    arguments: dict[str, int | str] = {"uri": STATUS_URI, "iat": NOW, "exp": NOW + 3600, "ttl": 300}
    arguments.update(kwargs)
    return sign_status_list(status_list, status_key, **arguments)  # type: ignore[arg-type]


def test_status_list_token_header_and_claims(status_key: SigningKey, keyring: Keyring) -> None:
    status_list = StatusList()
    status_list.set(1234, TokenStatus.INVALID)
    token = sign_list(status_key, status_list)
    jws = parse_compact(token)
    assert jws.header == {"alg": "EdDSA", "kid": status_key.kid, "typ": "statuslist+jwt"}
    decoded = decode_status_list_token(token, keyring, uri=STATUS_URI, now=NOW)
    assert decoded.verified
    assert (decoded.claims.sub, decoded.claims.iat, decoded.claims.exp, decoded.claims.ttl) == (
        STATUS_URI,
        NOW,
        NOW + 3600,
        300,
    )
    assert decoded.claims.status_list.bits == 2
    assert decoded.status_list.get(1234) == 1
    assert decoded.status_list.get(1235) == 0


def test_status_list_token_checks(status_key: SigningKey, attestation_key: SigningKey, keyring: Keyring) -> None:
    token = sign_list(status_key, StatusList())
    with pytest.raises(StatusListExpired) as expired:
        decode_status_list_token(token, keyring, now=NOW + 3600 + 61)
    assert str(expired.value) == f"the status list expired at {NOW + 3600} (now {NOW + 3600 + 61})"
    # The leeway still applies: one second earlier the list is current.
    assert decode_status_list_token(token, keyring, now=NOW + 3600 + 59).verified
    with pytest.raises(InvalidSignature, match="the token points to"):
        decode_status_list_token(token, keyring, uri="https://portal.example/status/2", now=NOW)
    with pytest.raises(KeyNotFound):
        decode_status_list_token(token, Keyring.of(attestation_key), now=NOW)
    header, payload, signature = token.split(".")
    with pytest.raises(InvalidSignature, match="does not verify"):
        decode_status_list_token(f"{header}.{payload}.{signature[::-1]}", keyring, now=NOW)
    with pytest.raises(InvalidInput, match="cannot sign status lists"):
        sign_list(attestation_key, StatusList())


def test_unsigned_parse_reports_undecodable_claims() -> None:
    with pytest.raises(InvalidInput, match="3 dot-separated parts"):
        parse_status_list_token("garbage")


@pytest.mark.parametrize(
    ("value", "verdict"), [(TokenStatus.INVALID, "revoked"), (TokenStatus.SUSPENDED, "suspended"), (3, None)]
)
def test_verification_fails_unless_status_is_valid(
    value: int, verdict: str | None, token: str, status_key: SigningKey, keyring: Keyring
) -> None:
    status_list = StatusList()
    assert verify_token(
        token, keyring, issuer=ExpectedIssuer(ISSUER), now=NOW, status_list_token=sign_list(status_key, status_list)
    ).status == ("valid")
    status_list.set(1234, value)
    with pytest.raises(VerificationError) as info:
        verify_token(
            token, keyring, issuer=ExpectedIssuer(ISSUER), now=NOW, status_list_token=sign_list(status_key, status_list)
        )
    failed = info.value.result.failure
    assert failed is not None and failed.name == "status"
    expected = verdict or "unknown status 3"
    assert failed.detail.startswith(f"{expected}: index 1234 of {STATUS_URI}")
    assert info.value.result.status == expected


def test_status_change_is_visible_with_the_next_signed_list(
    sign: Callable[..., str], status_key: SigningKey, keyring: Keyring
) -> None:
    token = sign()
    status_list = StatusList()
    status_list.set(1234, TokenStatus.SUSPENDED)
    suspended = sign_list(status_key, status_list, iat=NOW)
    status_list.set(1234, TokenStatus.VALID)
    reinstated = sign_list(status_key, status_list, iat=NOW + 5)
    with pytest.raises(VerificationError):
        verify_token(token, keyring, issuer=ExpectedIssuer(ISSUER), now=NOW + 10, status_list_token=suspended)
    assert verify_token(token, keyring, issuer=ExpectedIssuer(ISSUER), now=NOW + 10, status_list_token=reinstated).ok


def test_a_status_list_for_another_uri_fails_the_status_check(
    token: str, status_key: SigningKey, keyring: Keyring
) -> None:
    other = sign_list(status_key, StatusList(), uri="https://portal.example/status/9")
    with pytest.raises(VerificationError) as info:
        verify_token(token, keyring, issuer=ExpectedIssuer(ISSUER), now=NOW, status_list_token=other)
    failed = info.value.result.failure
    assert failed is not None and failed.name == "status"
    assert "the token points to 'https://portal.example/status/1'" in failed.detail


def forge_list(key: SigningKey, header: dict[str, object] | None = None, **claims: object) -> str:
    """A status list token with any header, signed by any key (sign_status_list refuses wrong keys)."""
    payload = {"sub": STATUS_URI, "iat": NOW, "exp": NOW + 3600, "ttl": 300, **claims}
    payload["status_list"] = StatusList().to_claim()
    head = header or {"alg": "EdDSA", "kid": key.kid, "typ": "statuslist+jwt"}
    signing_input = f"{b64url_encode(json.dumps(head).encode())}.{b64url_encode(json.dumps(payload).encode())}"
    return f"{signing_input}.{b64url_encode(key.private.sign(signing_input.encode()))}"


def test_status_list_signed_by_an_attestation_key_in_the_jwks_is_refused(
    token: str, attestation_key: SigningKey, keyring: Keyring
) -> None:
    forged = forge_list(attestation_key)
    assert attestation_key.kid in keyring
    expected = (
        f"kid {attestation_key.kid} is a 'attestation' key in the JWKS; "
        "statuslist+jwt is accepted only from a key published for 'status'"
    )
    with pytest.raises(KeyPurposeMismatch) as info:
        decode_status_list_token(forged, keyring, uri=STATUS_URI, now=NOW)
    assert str(info.value) == expected
    with pytest.raises(VerificationError) as failed:
        verify_token(token, keyring, issuer=ExpectedIssuer(ISSUER), now=NOW, status_list_token=forged)
    check = failed.value.result.failure
    assert check is not None
    assert (check.name, check.detail) == ("status", f"the status list cannot be used: {expected}")
    assert failed.value.result.status is None


def test_the_status_list_goes_through_the_same_jws_checks_as_a_token(status_key: SigningKey, keyring: Keyring) -> None:
    kid = status_key.kid
    cases: list[tuple[dict[str, object], type[Exception], str]] = [
        (
            {"alg": "HS256", "kid": kid, "typ": "statuslist+jwt"},
            InvalidSignature,
            "header alg is 'HS256'; only EdDSA is accepted",
        ),
        ({"alg": "EdDSA", "typ": "statuslist+jwt"}, KeyNotFound, "the header has no kid"),
        (
            {"alg": "EdDSA", "kid": kid, "typ": "attestation+jwt"},
            InvalidSignature,
            "typ is 'attestation+jwt', expected 'statuslist+jwt'",
        ),
        (
            {"alg": "EdDSA", "kid": kid, "typ": "statuslist+jwt", "crit": ["x"]},
            InvalidSignature,
            "the header demands extensions this verifier lacks: ['x']",
        ),
        (
            {"alg": "EdDSA", "kid": "unknown", "typ": "statuslist+jwt", "jku": "https://evil.example"},
            KeyNotFound,
            "kid unknown is not in the JWKS; header jku ignored",
        ),
    ]
    for header, error, message in cases:
        with pytest.raises(error) as info:
            decode_status_list_token(forge_list(status_key, header), keyring, now=NOW)
        assert (type(info.value), str(info.value)) == (error, message)
    # The media type is compared as RFC 7515 says, for lists as for tokens.
    header = {"alg": "EdDSA", "kid": kid, "typ": "application/StatusList+JWT"}
    assert decode_status_list_token(forge_list(status_key, header), keyring, now=NOW).verified
