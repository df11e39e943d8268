"""Signing and the verification checklist, including every tampering the verifier must refuse."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable

import pytest
from attestation_testdata import ISSUER, NOW, YEAR, fixed_key, make_claims
from cryptography.hazmat.primitives import serialization

from attestations._jose import JWS_CHECKS, b64url_encode, parse_compact, verify_compact
from attestations.errors import InvalidInput, InvalidSignature, VerificationError
from attestations.keys import KeyPurpose, Keyring, SigningKey, public_jwk
from attestations.policy import ExpectedIssuer, UnsafeAnyIssuer
from attestations.tokens import AttestationClaims, decode_claims, encode_claims, sign_attestation
from attestations.verify import verify_token

CHECK_NAMES = [
    "token format",
    "algorithm",
    "key id",
    "signature",
    "type",
    "claims",
    "issuer",
    "not before",
    "expiry",
    "status",
    "log inclusion",
]


def forge(header: dict[str, object], payload: bytes, key: SigningKey) -> str:
    """A token with an arbitrary header, signed by ``key``."""
    signing_input = f"{b64url_encode(json.dumps(header).encode())}.{b64url_encode(payload)}"
    return f"{signing_input}.{b64url_encode(key.private.sign(signing_input.encode()))}"


def failure(token: str, keyring: Keyring, **kwargs: object) -> tuple[str, str, list[str]]:
    with pytest.raises(VerificationError) as info:
        verify_token(token, keyring, **{"issuer": ExpectedIssuer(ISSUER), "now": NOW + 10, **kwargs})  # type: ignore[arg-type]
    result = info.value.result
    assert not result.ok
    failed = result.failure
    assert failed is not None and result.checks[-1] is failed
    return failed.name, failed.detail, [c.name for c in result.checks]


def test_a_signed_token_passes_every_check(token: str, keyring: Keyring, attestation_key: SigningKey) -> None:
    result = verify_token(token, keyring, issuer=ExpectedIssuer(ISSUER), now=NOW + 10)
    assert result.ok
    assert [c.name for c in result.checks] == CHECK_NAMES
    assert [c.status for c in result.checks] == ["passed"] * 9 + ["skipped"] * 2
    assert all(c.ok for c in result.checks)
    assert [(c.name, c.detail) for c in result.skipped] == [
        ("status", "no status list given: revocation and suspension not checked"),
        ("log inclusion", "no log proof given: inclusion in the transparency log not checked"),
    ]
    assert result.claims == make_claims()
    assert result.header == {"alg": "EdDSA", "kid": attestation_key.kid, "typ": "attestation+jwt"}


def test_token_header_and_payload_are_exactly_as_designed(token: str, attestation_key: SigningKey) -> None:
    jws = parse_compact(token)
    assert jws.header == {"alg": "EdDSA", "kid": attestation_key.kid, "typ": "attestation+jwt"}
    payload = json.loads(jws.payload)
    assert list(payload) == ["iss", "sub", "jti", "iat", "nbf", "exp", "status", "att"]
    assert payload["status"] == {"status_list": {"idx": 1234, "uri": "https://portal.example/status/1"}}
    assert list(payload["att"]) == [
        "provider",
        "scope",
        "catalog",
        "revision",
        "level",
        "result",
        "conditions",
    ]
    assert payload["att"]["result"] == {"AC": {"controls": 12, "implemented": 11, "partial": 1}}


def test_signing_is_deterministic(sign: Callable[..., str]) -> None:
    assert sign() == sign()


def test_every_payload_byte_flipped_fails(token: str, keyring: Keyring) -> None:
    header_b64, payload_b64, signature_b64 = token.split(".")
    payload = bytearray(base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)))
    for position in range(len(payload)):
        tampered = bytearray(payload)
        tampered[position] ^= 0x01
        forged = f"{header_b64}.{b64url_encode(bytes(tampered))}.{signature_b64}"
        name, _, _ = failure(forged, keyring)
        assert name == "signature", position


def test_every_signature_byte_flipped_fails(token: str, keyring: Keyring) -> None:
    header_b64, payload_b64, _ = token.split(".")
    signature = parse_compact(token).signature
    for position in range(len(signature)):
        tampered = bytearray(signature)
        tampered[position] ^= 0x80
        name, _, _ = failure(f"{header_b64}.{payload_b64}.{b64url_encode(bytes(tampered))}", keyring)
        assert name == "signature"


def test_alg_none_is_refused(keyring: Keyring, attestation_key: SigningKey) -> None:
    header = {"alg": "none", "typ": "attestation+jwt", "kid": attestation_key.kid}
    unsigned = f"{b64url_encode(json.dumps(header).encode())}.{b64url_encode(encode_claims(make_claims()))}."
    with pytest.raises(VerificationError) as info:
        verify_token(unsigned, keyring, issuer=ExpectedIssuer(ISSUER), now=NOW)
    # An empty signature is not even a well-formed EdDSA token.
    assert info.value.result.failure is not None
    assert info.value.result.failure.name == "token format"
    # With a dummy 64-byte signature it reaches the algorithm check and is refused there.
    padded = unsigned + b64url_encode(bytes(64))
    name, detail, names = failure(padded, keyring)
    assert (name, detail) == ("algorithm", "header alg is 'none'; only EdDSA is accepted")
    assert names == ["token format", "algorithm"]


def test_hs256_signed_with_the_public_key_is_refused(keyring: Keyring, attestation_key: SigningKey) -> None:
    # The classic confusion attack: HMAC keyed with the verifier's public key bytes.
    public_pem = attestation_key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_raw = attestation_key.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    for secret in (public_pem, public_raw, public_jwk(attestation_key)["x"].encode()):
        header = {"alg": "HS256", "typ": "attestation+jwt", "kid": attestation_key.kid}
        signing_input = f"{b64url_encode(json.dumps(header).encode())}.{b64url_encode(encode_claims(make_claims()))}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        forged = f"{signing_input}.{b64url_encode(mac)}"
        # HS256 signatures are 32 bytes: refused before any key is touched.
        with pytest.raises(VerificationError) as info:
            verify_token(forged, keyring, issuer=ExpectedIssuer(ISSUER), now=NOW)
        assert info.value.result.failure is not None
        assert info.value.result.failure.name == "token format"
        # Even padded to 64 bytes, the pinned algorithm refuses it.
        header_b64, payload_b64, _ = forged.split(".")
        name, detail, _ = failure(f"{header_b64}.{payload_b64}.{b64url_encode(bytes(64))}", keyring)
        assert (name, detail) == ("algorithm", "header alg is 'HS256'; only EdDSA is accepted")


def test_expired_token_fails(sign: Callable[..., str], keyring: Keyring) -> None:
    token = sign(iat=NOW - YEAR - 100, nbf=NOW - YEAR - 100, exp=NOW - 100)
    name, detail, _ = failure(token, keyring, now=NOW)
    assert name == "expiry"
    assert detail == "expired at 2025-12-31T23:58:20Z (now 2026-01-01T00:00:00Z)"


def test_expiry_leeway_is_applied(sign: Callable[..., str], keyring: Keyring) -> None:
    token = sign(iat=NOW - 100, nbf=NOW - 100, exp=NOW - 30)
    assert verify_token(token, keyring, issuer=ExpectedIssuer(ISSUER), now=NOW, leeway=60).ok
    assert failure(token, keyring, now=NOW, leeway=0)[0] == "expiry"


def test_not_yet_valid_token_fails(sign: Callable[..., str], keyring: Keyring) -> None:
    token = sign(nbf=NOW + 3600)
    name, detail, _ = failure(token, keyring, now=NOW)
    assert name == "not before"
    assert detail == "not valid before 2026-01-01T01:00:00Z (now 2026-01-01T00:00:00Z)"
    assert verify_token(token, keyring, issuer=ExpectedIssuer(ISSUER), now=NOW + 3600).ok


def test_token_issued_in_the_future_fails(sign: Callable[..., str], keyring: Keyring) -> None:
    assert failure(sign(iat=NOW + 3600, nbf=NOW), keyring, now=NOW)[0] == "not before"


def test_wrong_issuer_fails(token: str, keyring: Keyring) -> None:
    name, detail, _ = failure(token, keyring, issuer=ExpectedIssuer("https://evil.example"))
    assert (name, detail) == ("issuer", "iss is 'https://portal.example', expected 'https://evil.example'")


def test_unsafe_any_issuer_is_reported_as_skipped_with_a_warning(
    sign: Callable[..., str], keyring: Keyring, caplog: pytest.LogCaptureFixture
) -> None:
    token = sign(iss="https://anyone.example")
    with caplog.at_level(logging.WARNING, logger="attestations.policy"):
        result = verify_token(token, keyring, issuer=UnsafeAnyIssuer(), now=NOW)
    assert result.ok
    issuer = result.checks[6]
    assert (issuer.name, issuer.status, issuer.ok) == ("issuer", "skipped", True)
    assert issuer.detail == "https://anyone.example (not compared: UnsafeAnyIssuer accepts any issuer)"
    assert [c.name for c in result.skipped] == ["issuer", "status", "log inclusion"]
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "attestations.policy",
            "WARNING",
            "UnsafeAnyIssuer: the issuer 'https://anyone.example' was accepted without comparison",
        )
    ]


def test_expected_issuer_passes_only_its_issuer(token: str, keyring: Keyring) -> None:
    result = verify_token(token, keyring, issuer=ExpectedIssuer(ISSUER), now=NOW)
    assert (result.checks[6].status, result.checks[6].detail) == ("passed", ISSUER)
    # An exact comparison: a trailing slash is another issuer.
    name, detail, _ = failure(token, keyring, issuer=ExpectedIssuer(ISSUER + "/"))
    assert (name, detail) == ("issuer", "iss is 'https://portal.example', expected 'https://portal.example/'")
    with pytest.raises(InvalidInput) as info:
        ExpectedIssuer("")
    assert str(info.value) == "the expected issuer is a non-empty string, not ''"


@pytest.mark.parametrize("issuer", [None, ISSUER])
def test_there_is_no_implicit_issuer_policy(issuer: object, token: str, keyring: Keyring) -> None:
    with pytest.raises(TypeError) as info:
        verify_token(token, keyring, issuer=issuer, now=NOW)  # type: ignore[arg-type]
    assert str(info.value) == (
        f"issuer must be ExpectedIssuer(url) or UnsafeAnyIssuer(), not {type(issuer).__name__}: "
        "there is no implicit 'any issuer'"
    )


def test_a_failed_check_is_failed_and_nothing_after_it_is_listed(sign: Callable[..., str], keyring: Keyring) -> None:
    token = sign(iat=NOW - 2 * YEAR, nbf=NOW - 2 * YEAR, exp=NOW - YEAR)
    with pytest.raises(VerificationError) as info:
        verify_token(token, keyring, issuer=ExpectedIssuer(ISSUER), now=NOW)
    result = info.value.result
    assert [(c.name, c.status) for c in result.checks][-2:] == [("not before", "passed"), ("expiry", "failed")]
    assert result.skipped == []
    assert not result.ok


@pytest.mark.parametrize("typ", ["JWT", "statuslist+jwt", None, "attestation+jwt+x"])
def test_wrong_typ_fails(typ: str | None, keyring: Keyring, attestation_key: SigningKey) -> None:
    header: dict[str, object] = {"alg": "EdDSA", "kid": attestation_key.kid}
    if typ is not None:
        header["typ"] = typ
    name, detail, _ = failure(forge(header, encode_claims(make_claims()), attestation_key), keyring)
    assert (name, detail) == ("type", f"typ is {typ!r}, expected 'attestation+jwt'")


def test_crit_header_is_refused(keyring: Keyring, attestation_key: SigningKey) -> None:
    header = {"alg": "EdDSA", "kid": attestation_key.kid, "typ": "attestation+jwt", "crit": ["exp"]}
    name, _, _ = failure(forge(header, encode_claims(make_claims()), attestation_key), keyring)
    assert name == "type"


def test_unknown_kid_fails(keyring: Keyring) -> None:
    stranger = fixed_key(KeyPurpose.ATTESTATION, 99)
    token = sign_attestation(make_claims(), stranger)
    name, detail, names = failure(token, keyring)
    assert (name, detail) == ("key id", f"kid {stranger.kid} is not in the JWKS")
    assert names == ["token format", "algorithm", "key id"]


def test_missing_kid_fails(keyring: Keyring, attestation_key: SigningKey) -> None:
    token = forge({"alg": "EdDSA", "typ": "attestation+jwt"}, encode_claims(make_claims()), attestation_key)
    assert failure(token, keyring)[:2] == ("key id", "the header has no kid")


def test_key_in_the_header_is_ignored(keyring: Keyring, attestation_key: SigningKey) -> None:
    attacker = fixed_key(KeyPurpose.ATTESTATION, 66)
    payload = encode_claims(make_claims())
    # The attacker's own key, named by its own kid and embedded: the JWKS does not know it.
    own = {"alg": "EdDSA", "typ": "attestation+jwt", "kid": attacker.kid, "jwk": public_jwk(attacker)}
    assert failure(forge(own, payload, attacker), keyring)[:2] == (
        "key id",
        f"kid {attacker.kid} is not in the JWKS; header jwk ignored",
    )
    # The portal's kid with the attacker's key embedded (and a jku to fetch it): the JWKS key is used.
    borrowed = {
        "alg": "EdDSA",
        "typ": "attestation+jwt",
        "kid": attestation_key.kid,
        "jwk": public_jwk(attacker),
        "jku": "https://evil.example/jwks.json",
    }
    name, detail, _ = failure(forge(borrowed, payload, attacker), keyring)
    assert (name, detail) == (
        "signature",
        f"the Ed25519 signature does not verify with key {attestation_key.kid}",
    )


@pytest.mark.parametrize("typ", ["attestation+jwt", "statuslist+jwt"])
@pytest.mark.parametrize("purpose", [KeyPurpose.STATUS, KeyPurpose.LOG])
def test_token_signed_by_another_purpose_key_in_the_jwks_is_refused(
    typ: str, purpose: KeyPurpose, keyring: Keyring, status_key: SigningKey, log_key: SigningKey
) -> None:
    # The key is in the JWKS and the signature is good, but a status list or log key never vouches for
    # an attestation: refused at the key id, before the signature is even checked.
    key = status_key if purpose is KeyPurpose.STATUS else log_key
    token = forge({"alg": "EdDSA", "kid": key.kid, "typ": typ}, encode_claims(make_claims()), key)
    assert key.kid in keyring
    name, detail, names = failure(token, keyring)
    assert (name, detail) == (
        "key id",
        f"kid {key.kid} is a {purpose.value!r} key in the JWKS; "
        "attestation+jwt is accepted only from a key published for 'attestation'",
    )
    assert names == ["token format", "algorithm", "key id"]


def test_token_signed_by_a_jwks_key_without_purpose_is_refused(attestation_key: SigningKey) -> None:
    # The right key, but published without a purpose (as JWKS documents were before purposes).
    legacy = {k: v for k, v in public_jwk(attestation_key).items() if k != "purpose"}
    ring = Keyring.from_jwks({"keys": [legacy]})
    token = sign_attestation(make_claims(), attestation_key)
    assert failure(token, ring)[:2] == (
        "key id",
        f"kid {attestation_key.kid} has no purpose in the JWKS; "
        "attestation+jwt is accepted only from a key published for 'attestation'",
    )
    # The same key published for its purpose verifies.
    assert verify_token(
        token, Keyring.from_jwks({"keys": [public_jwk(attestation_key)]}), issuer=ExpectedIssuer(ISSUER), now=NOW
    ).ok


def test_missing_required_claim_fails(keyring: Keyring, attestation_key: SigningKey) -> None:
    payload = json.loads(encode_claims(make_claims()))
    del payload["exp"]
    header = {"alg": "EdDSA", "kid": attestation_key.kid, "typ": "attestation+jwt"}
    name, detail, _ = failure(forge(header, json.dumps(payload).encode(), attestation_key), keyring)
    assert (name, detail) == ("claims", "claims: Object missing required field `exp`")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("iat",), 1.5, "Expected `int`, got `float` - at `$.iat`"),
        (
            ("att", "result", "AC", "controls"),
            12.0,
            "Expected `int`, got `float` - at `$.att.result[...][...]`",
        ),
        (("exp",), True, "Expected `int`, got `bool` - at `$.exp`"),
        (("att", "provider", "extra"), "x", "Object contains unknown field `extra` - at `$.att.provider`"),
    ],
)
def test_mistyped_claims_fail(
    path: tuple[str, ...], value: object, message: str, keyring: Keyring, attestation_key: SigningKey
) -> None:
    payload = json.loads(encode_claims(make_claims()))
    target = payload
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    header = {"alg": "EdDSA", "kid": attestation_key.kid, "typ": "attestation+jwt"}
    name, detail, _ = failure(forge(header, json.dumps(payload).encode(), attestation_key), keyring)
    assert (name, detail) == ("claims", f"claims: {message}")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "the token is empty"),
        ("abc", "3 dot-separated parts, this token has 1"),
        ("a.b.c.d", "this token has 4"),
        ("!!!.e30.AAAA", "the token header is not base64url"),
        ("bm90IGpzb24.e30.AAAA", "the token header is not JSON"),
        ("WzFd.e30.AAAA", "not a JSON object"),
    ],
)
def test_malformed_tokens_fail_on_format(token: str, message: str, keyring: Keyring) -> None:
    name, detail, names = failure(token, keyring)
    assert name == "token format" and message in detail
    assert names == ["token format"]


def test_truncated_token_fails_on_format(token: str, keyring: Keyring) -> None:
    for cut in (1, 2, 3, 10, 40):
        name, detail, _ = failure(token[:-cut], keyring)
        assert name == "token format", cut
        assert "signature" in detail


def test_claims_round_trip() -> None:
    claims = make_claims()
    assert decode_claims(encode_claims(claims)) == claims
    with pytest.raises(InvalidInput, match="not JSON"):
        decode_claims(b"{")


def test_exp_before_nbf_is_refused_at_signing(attestation_key: SigningKey) -> None:
    with pytest.raises(InvalidInput, match="exp must not be before"):
        sign_attestation(make_claims(exp=NOW - 1), attestation_key)


def test_claims_type_is_exported() -> None:
    assert AttestationClaims.__struct_fields__ == ("iss", "sub", "jti", "iat", "nbf", "exp", "status", "att")


def test_tokens_and_status_lists_share_one_compact_jws_verification() -> None:
    from attestations import _jose, status_list, verify

    assert verify.verify_compact is _jose.verify_compact
    assert status_list.verify_compact is _jose.verify_compact


def test_verify_compact_reports_each_check_then_raises_at_the_first_failure(
    token: str, keyring: Keyring, attestation_key: SigningKey
) -> None:
    recorded: list[tuple[str, bool, str]] = []
    jws = verify_compact(
        token,
        keyring,
        purpose=KeyPurpose.ATTESTATION,
        typ="attestation+jwt",
        record=lambda *check: recorded.append(check),
    )
    assert jws == parse_compact(token)
    assert [name for name, _, _ in recorded] == list(JWS_CHECKS)
    assert all(ok for _, ok, _ in recorded)
    recorded.clear()
    with pytest.raises(InvalidSignature) as info:
        verify_compact(
            token[:-3] + "AAA",
            keyring,
            purpose=KeyPurpose.ATTESTATION,
            typ="attestation+jwt",
            record=lambda *c: recorded.append(c),
        )
    assert str(info.value) == f"the Ed25519 signature does not verify with key {attestation_key.kid}"
    assert [(name, ok) for name, ok, _ in recorded] == [
        ("token format", True),
        ("algorithm", True),
        ("key id", True),
        ("signature", False),
    ]
    assert recorded[-1][2] == str(info.value)
