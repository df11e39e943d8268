"""Keys: RFC 8037 / RFC 7638 vectors, encrypted storage, JWKS parsing, the key store and rotation."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import jwt
import pytest
from attestation_testdata import ISSUER, NOW, fixed_key, make_claims
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from attestations._jose import b64url_decode, parse_compact
from attestations.errors import InvalidInput, KeyNotFound, KeyPurposeMismatch, KeyStoreError
from attestations.keys import (
    KeyPurpose,
    Keyring,
    SigningKey,
    encrypt_private_key,
    generate_key,
    jwks,
    load_private_key,
    public_jwk,
    thumbprint,
)
from attestations.keystore import KeyStore
from attestations.policy import ExpectedIssuer
from attestations.tokens import sign_attestation
from attestations.verify import verify_token

# RFC 8037 Appendix A.1/A.2 key and A.3 thumbprint.
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_KID = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
# RFC 8037 Appendix A.4: JWS of "Example of Ed25519 signing" with header {"alg":"EdDSA"}.
RFC8037_JWS = (
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)


def rfc8037_key() -> SigningKey:
    private = Ed25519PrivateKey.from_private_bytes(b64url_decode(RFC8037_D))
    return SigningKey(private, KeyPurpose.ATTESTATION, datetime(2026, 1, 1, tzinfo=UTC))


def test_rfc8037_public_key_and_rfc7638_thumbprint() -> None:
    key = rfc8037_key()
    jwk = public_jwk(key)
    assert jwk == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": RFC8037_X,
        "kid": RFC8037_KID,
        "use": "sig",
        "alg": "EdDSA",
        "purpose": "attestation",
    }
    assert key.kid == RFC8037_KID
    assert thumbprint(key.public_key) == RFC8037_KID


def test_rfc8037_a4_signature_is_reproduced_and_verifies() -> None:
    key = rfc8037_key()
    jws = parse_compact(RFC8037_JWS)
    assert jws.payload == b"Example of Ed25519 signing"
    assert key.private.sign(jws.signing_input) == jws.signature
    Keyring.from_jwks({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}]}).get(RFC8037_KID).verify(
        jws.signature, jws.signing_input
    )


def test_encrypted_private_key_round_trip() -> None:
    key = generate_key(KeyPurpose.STATUS)
    pem = encrypt_private_key(key, b"correct horse")
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    loaded = load_private_key(pem, b"correct horse", KeyPurpose.STATUS)
    assert loaded.kid == key.kid
    assert loaded.purpose is KeyPurpose.STATUS


def test_wrong_passphrase_is_refused() -> None:
    pem = encrypt_private_key(generate_key(KeyPurpose.LOG), b"right")
    with pytest.raises(InvalidInput, match="wrong passphrase"):
        load_private_key(pem, b"wrong", KeyPurpose.LOG)


def test_empty_passphrase_is_refused() -> None:
    with pytest.raises(InvalidInput, match="passphrase"):
        encrypt_private_key(generate_key(KeyPurpose.LOG), b"")


def test_private_key_is_not_in_repr() -> None:
    key = rfc8037_key()
    assert "private" not in repr(key)
    assert RFC8037_D not in repr(key)


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ({"kty": "RSA", "n": "AQAB", "e": "AQAB"}, "only OKP/Ed25519"),
        ({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}, "only OKP/Ed25519"),
        ({"kty": "oct", "k": "c2VjcmV0"}, "only OKP/Ed25519"),
        ({"kty": "OKP", "crv": "X25519", "x": RFC8037_X}, "only OKP/Ed25519"),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "d": RFC8037_D}, "private key"),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "alg": "HS256"}, "expected EdDSA"),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "use": "enc"}, "expected 'sig'"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}, "32-byte"),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "kid": "other"}, "thumbprint is"),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "purpose": ["log"]}, "a purpose is a string"),
        ("not an object", "not a JSON object"),
    ],
)
def test_keyring_refuses_unusable_keys(jwk: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Keyring.from_jwks({"keys": [jwk]})


@pytest.mark.parametrize(("document", "message"), [({}, '"keys" array'), ({"keys": []}, "no keys"), ([], "keys")])
def test_keyring_refuses_malformed_sets(document: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Keyring.from_jwks(document)


def test_keyring_refuses_non_json() -> None:
    with pytest.raises(InvalidInput, match="not JSON"):
        Keyring.from_json(b"{keys")


def test_keyring_lookup_by_kid() -> None:
    ring = Keyring.from_json(json.dumps(jwks([public_jwk(rfc8037_key())])))
    assert ring.kids == [RFC8037_KID]
    assert RFC8037_KID in ring
    with pytest.raises(KeyNotFound, match="no key with kid 'nope'"):
        ring.get("nope")


def test_jwks_lists_each_kid_once() -> None:
    jwk = public_jwk(rfc8037_key())
    assert jwks([jwk, jwk]) == {"keys": [jwk]}


def test_key_store_creates_encrypted_keys_per_purpose(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys", b"store passphrase")
    attestation = store.ensure(KeyPurpose.ATTESTATION)
    status = store.ensure(KeyPurpose.STATUS)
    assert attestation.kid != status.kid
    assert store.ensure(KeyPurpose.ATTESTATION).kid == attestation.kid  # idempotent
    pem_path = tmp_path / "keys" / f"{attestation.kid}.pem"
    assert pem_path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert stat.S_IMODE(pem_path.stat().st_mode) == 0o600
    assert [r.purpose for r in store.records()] == [KeyPurpose.ATTESTATION, KeyPurpose.STATUS]
    with pytest.raises(KeyNotFound, match="no active log key"):
        store.active(KeyPurpose.LOG)


def test_key_store_with_the_wrong_passphrase_fails_clearly(tmp_path: Path) -> None:
    KeyStore(tmp_path, b"right").ensure(KeyPurpose.LOG)
    with pytest.raises(KeyStoreError, match="wrong passphrase"):
        KeyStore(tmp_path, b"wrong").active(KeyPurpose.LOG)


def test_rotation_retires_the_old_key_but_keeps_it_in_the_jwks(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, b"pass")
    old = store.ensure(KeyPurpose.ATTESTATION, now=datetime(2026, 1, 1, tzinfo=UTC))
    old_token = sign_attestation(make_claims(), old)

    rotation = store.rotate(KeyPurpose.ATTESTATION, now=datetime(2026, 2, 1, tzinfo=UTC))
    assert rotation.retired_kid == old.kid
    new = store.active(KeyPurpose.ATTESTATION)
    assert new.kid == rotation.new_kid != old.kid

    records = {r.kid: r for r in store.records()}
    assert records[old.kid].retired_at == datetime(2026, 2, 1, tzinfo=UTC)
    assert records[new.kid].retired_at is None
    assert [k["kid"] for k in store.public_jwks()["keys"]] == [new.kid, old.kid]
    assert store.key(old.kid).kid == old.kid

    # A token signed by the retired key still verifies against the published JWKS.
    ring = Keyring.from_jwks(store.public_jwks())
    result = verify_token(old_token, ring, issuer=ExpectedIssuer(ISSUER), now=NOW + 60 * 86_400)
    assert result.ok
    assert result.checks[2].detail == f"kid {old.kid} found in the JWKS, published for 'attestation'"


def test_a_key_signs_only_its_own_purpose() -> None:
    with pytest.raises(InvalidInput, match="a status key cannot sign attestations"):
        sign_attestation(make_claims(), generate_key(KeyPurpose.STATUS))


def test_key_store_detects_a_swapped_key_file(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, b"pass")
    attestation = store.ensure(KeyPurpose.ATTESTATION)
    status = store.ensure(KeyPurpose.STATUS)
    (tmp_path / f"{attestation.kid}.pem").write_bytes((tmp_path / f"{status.kid}.pem").read_bytes())
    with pytest.raises(KeyStoreError, match=f"holds key {status.kid}, the manifest says {attestation.kid}"):
        store.active(KeyPurpose.ATTESTATION)


def test_key_store_reports_a_damaged_manifest(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(KeyStoreError, match="is not JSON"):
        KeyStore(tmp_path, b"pass").records()


@pytest.mark.parametrize("purpose", list(KeyPurpose))
def test_public_jwk_publishes_the_purpose_of_the_key(purpose: KeyPurpose) -> None:
    key = fixed_key(purpose, 5)
    jwk = public_jwk(key)
    assert jwk["purpose"] == purpose.value
    assert (jwk["use"], jwk["alg"]) == ("sig", "EdDSA")
    # The purpose is not a thumbprint member: the kid is the same whatever the purpose.
    assert jwk["kid"] == thumbprint(key.public_key) == key.kid


def test_public_jwk_of_a_bare_public_key_has_a_purpose_only_when_given() -> None:
    public = rfc8037_key().public_key
    assert "purpose" not in public_jwk(public)
    assert public_jwk(public, KeyPurpose.LOG)["purpose"] == "log"
    with pytest.raises(InvalidInput) as info:
        public_jwk(rfc8037_key(), KeyPurpose.STATUS)
    assert str(info.value) == "the key is for 'attestation', it cannot be published for 'status'"


def test_published_jwks_parses_with_pyjwt(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, b"pass")
    kids = [store.ensure(purpose).kid for purpose in KeyPurpose]
    document = store.public_jwks()
    assert [(k["kid"], k["purpose"]) for k in document["keys"]] == list(
        zip(kids, ["attestation", "status", "log"], strict=True)
    )
    key_set = jwt.PyJWKSet.from_dict(document)
    assert [k.key_id for k in key_set.keys] == kids
    assert [k.algorithm_name for k in key_set.keys] == ["EdDSA"] * 3
    assert {k.public_key_use for k in key_set.keys} == {"sig"}


def test_key_for_accepts_only_the_published_purpose(keyring: Keyring) -> None:
    attestation, status, log = keyring.kids
    assert keyring.key_for(attestation, KeyPurpose.ATTESTATION) is keyring.get(attestation)
    assert keyring.key_for(status, KeyPurpose.STATUS) is keyring.get(status)
    assert keyring.key_for(log, KeyPurpose.LOG) is keyring.get(log)
    assert [keyring.purpose_of(kid) for kid in keyring.kids] == ["attestation", "status", "log"]
    with pytest.raises(KeyPurposeMismatch) as info:
        keyring.key_for(status, KeyPurpose.ATTESTATION)
    assert (
        str(info.value)
        == f"kid {status} is a 'status' key in the JWKS; only a key published for 'attestation' is accepted here"
    )
    assert keyring.items(KeyPurpose.LOG) == [(log, keyring.get(log))]
    with pytest.raises(KeyNotFound) as missing:
        keyring.key_for("nope", KeyPurpose.ATTESTATION)
    assert type(missing.value) is KeyNotFound


def test_a_key_with_no_or_an_unknown_purpose_verifies_nothing() -> None:
    bare = {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}
    ring = Keyring.from_jwks({"keys": [bare]})
    assert ring.purpose_of(RFC8037_KID) is None
    assert ring.items(KeyPurpose.ATTESTATION) == []
    with pytest.raises(KeyPurposeMismatch) as info:
        ring.key_for(RFC8037_KID, KeyPurpose.ATTESTATION)
    assert (
        str(info.value)
        == f"kid {RFC8037_KID} has no purpose in the JWKS; only a key published for 'attestation' is accepted here"
    )
    future = Keyring.from_jwks({"keys": [{**bare, "purpose": "session"}]})
    assert future.purpose_of(RFC8037_KID) == "session"
    for purpose in KeyPurpose:
        with pytest.raises(KeyPurposeMismatch, match="is a 'session' key"):
            future.key_for(RFC8037_KID, purpose)
    # A bare public key in Keyring.of has no purpose either; a SigningKey brings its own.
    assert Keyring.of(rfc8037_key().public_key).purpose_of(RFC8037_KID) is None
    assert Keyring.of(rfc8037_key()).purpose_of(RFC8037_KID) == "attestation"


def test_key_store_publishes_the_purpose_of_keys_recorded_without_one(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, b"pass")
    key = store.ensure(KeyPurpose.LOG)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    del manifest["keys"][0]["public_jwk"]["purpose"]  # as written before JWKs carried a purpose
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert store.public_jwks()["keys"] == [public_jwk(key)]
    assert public_jwk(key)["purpose"] == "log"
