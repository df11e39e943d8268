"""Signing keys: encrypted per purpose, rotated by a regulator admin with a fresh code or by the CLI,
every key ever used in the JWKS, tokens from before a rotation still verifying."""

from __future__ import annotations

import json
import stat
import time

import pyotp
import pytest

from attestations.keys import KeyPurpose, Keyring
from attestations.policy import ExpectedIssuer
from attestations.tokens import sign_attestation
from attestations.verify import verify_token
from portal.db.tables import AuditEvent
from tests.served import run_portal
from tests.unit.attestations.attestation_testdata import make_claims


def _next_code(actors, email: str) -> str:
    # The login used this 30-second step's code; a code is accepted once, so confirm with the next step's.
    return pyotp.TOTP(actors.totp_secrets[email]).at(time.time() + 30)


async def _admin(actors):
    user = await actors.create_user("regulator_admin")
    return await actors.login(user["email"]), user["email"]


async def test_jwks_is_public_and_lists_one_key_per_purpose_each_naming_it(anon, runtime) -> None:
    runtime.keys.ensure_all()
    response = await anon.get("/.well-known/jwks.json")
    assert response.status_code == 200 and response.headers["content-type"] == "application/jwk-set+json"
    assert response.headers["cache-control"] == "public, max-age=300"
    keys = response.json()["keys"]
    # Retired keys stay published (other tests rotate); the active one of each purpose comes first.
    assert {k["purpose"] for k in keys} == {"attestation", "log", "status"}
    active = {runtime.keys.signing_key(p).kid: p.value for p in KeyPurpose}
    assert {k["kid"]: k["purpose"] for k in keys[:3]} == active
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and "d" not in k for k in keys)
    again = await anon.get("/.well-known/jwks.json", headers={"if-none-match": response.headers["etag"]})
    assert again.status_code == 304


async def test_private_keys_are_encrypted_files_readable_by_the_owner_only(runtime) -> None:
    key = runtime.keys.signing_key(KeyPurpose.ATTESTATION)
    pem = runtime.keys.directory / f"{key.kid}.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert pem.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")


async def test_rotation_end_to_end_old_and_new_tokens_verify_and_the_retired_key_never_signs(
    actors, anon, runtime
) -> None:
    admin, email = await _admin(actors)
    before = runtime.keys.signing_key(KeyPurpose.ATTESTATION)
    old_token = sign_attestation(make_claims(), before)
    rotated = await admin.post(
        "/api/v1/keys/rotate", json={"purpose": "attestation", "totp": _next_code(actors, email)}
    )
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    assert body["purpose"] == "attestation" and body["retired_kid"] == before.kid and body["new_kid"] != before.kid
    after = runtime.keys.signing_key(KeyPurpose.ATTESTATION)
    assert after.kid == body["new_kid"]  # the retired key never signs again
    new_token = sign_attestation(make_claims(), after)
    keyring = Keyring.from_jwks((await anon.get("/.well-known/jwks.json")).json())
    issuer = ExpectedIssuer(make_claims().iss)
    for token in (old_token, new_token):
        assert verify_token(token, keyring, issuer=issuer).ok
    history = (await admin.get("/api/v1/keys")).json()
    attestation_keys = [k for k in history if k["purpose"] == "attestation"]
    assert sorted((k["kid"], k["retired_at"] is None) for k in attestation_keys) == sorted(
        [(before.kid, False), (after.kid, True)]
    )
    event = (
        await AuditEvent.select(AuditEvent.object_id, AuditEvent.before, AuditEvent.after)
        .where(AuditEvent.action == "key.rotated")
        .output(load_json=True)
        .first()
    )
    assert event == {
        "object_id": after.kid,
        "before": {"kid": before.kid},
        "after": {"purpose": "attestation", "kid": after.kid},
    }


@pytest.mark.parametrize("code", [None, "000000"])
async def test_rotation_needs_a_fresh_valid_code(actors, runtime, code) -> None:
    admin, _ = await _admin(actors)
    before = runtime.keys.signing_key(KeyPurpose.STATUS)
    body = {"purpose": "status"} | ({"totp": code} if code else {})
    refused = await admin.post("/api/v1/keys/rotate", json=body)
    assert refused.status_code == 401
    assert refused.json()["type"] == ("/problems/totp-required" if code is None else "/problems/not-authenticated")
    assert runtime.keys.signing_key(KeyPurpose.STATUS).kid == before.kid


@pytest.mark.parametrize("role", ["reviewer", "signing_officer"])
async def test_only_a_regulator_admin_rotates(actors, runtime, role) -> None:
    user = await actors.create_user(role)
    client = await actors.login(user["email"])
    before = runtime.keys.signing_key(KeyPurpose.LOG)
    refused = await client.post(
        "/api/v1/keys/rotate", json={"purpose": "log", "totp": _next_code(actors, user["email"])}
    )
    assert refused.status_code == 403 and refused.json()["type"] == "/problems/forbidden"
    assert runtime.keys.signing_key(KeyPurpose.LOG).kid == before.kid


async def test_providers_and_the_public_cannot_rotate(actors, anon, runtime) -> None:
    provider, _ = await actors.provider()
    before = runtime.keys.signing_key(KeyPurpose.LOG)
    assert (await provider.post("/api/v1/keys/rotate", json={"purpose": "log"})).status_code == 403
    assert (await anon.post("/api/v1/keys/rotate", json={"purpose": "log"})).status_code == 401
    assert (await provider.post("/api/v1/keys/rotate", json={"purpose": "nonsense"})).status_code == 400
    assert runtime.keys.signing_key(KeyPurpose.LOG).kid == before.kid


async def test_cli_rotates_and_the_server_signs_with_the_new_key(settings, runtime) -> None:
    before = runtime.keys.signing_key(KeyPurpose.ATTESTATION)
    done = await run_portal(settings, "keys", "rotate", "--purpose", "attestation", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["retired_kid"] == before.kid
    # Another process rotated: this one reads the manifest and signs with the new key at once.
    assert runtime.keys.signing_key(KeyPurpose.ATTESTATION).kid == result["new_kid"]
