"""Attestation library benchmark: token sign/verify beside raw Ed25519 and pyjwt, PDF rendering, Merkle log.

Run: ``.venv/bin/python -m bench.attestations_bench`` (about 30 s on a 2-core machine).
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable

import jwt

from attestations.certificate import CertificateData, render_certificate
from attestations.keys import KeyPurpose, Keyring, generate_key
from attestations.merkle import HASH_SIZE, MerkleTree, verify_consistency, verify_inclusion
from attestations.policy import ExpectedIssuer
from attestations.tokens import (
    Attestation,
    AttestationClaims,
    Catalog,
    Condition,
    Provider,
    Revision,
    Scope,
    Status,
    StatusListReference,
    sign_attestation,
)
from attestations.verify import verify_token

NOW = 1_767_225_600
LOG_SIZE = 1_000_000


def rate(function: Callable[[], object], seconds: float = 1.0) -> float:
    """Calls per second, measured over about ``seconds``."""
    function()
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(50):
            function()
        calls += 50
    return calls / elapsed


def sample_claims() -> AttestationClaims:
    return AttestationClaims(
        iss="https://portal.example",
        sub="urn:portal:org:7",
        jti="ATT-2026-000042",
        iat=NOW,
        nbf=NOW,
        exp=NOW + 365 * 86_400,
        status=Status(StatusListReference(idx=4242, uri="https://portal.example/status/1")),
        att=Attestation(
            provider=Provider("Gulf Cloud Services W.L.L.", "Cloud service provider", "BH", "CR-123456"),
            scope=Scope("Infrastructure as a service from two data centres", ["IaaS"], [], ["Manama DC1"]),
            catalog=Catalog("CSP-BASELINE", "2025.1", "ab" * 32),
            revision=Revision(3, "cd" * 32),
            level="Level 2",
            result={f"F{i}": {"controls": 10, "implemented": 9, "partial": 1} for i in range(12)},
            conditions=[Condition("Remediate the penetration test findings", "2026-06-30")],
        ),
    )


def bench_tokens() -> None:
    key = generate_key(KeyPurpose.ATTESTATION)
    claims = sample_claims()
    token = sign_attestation(claims, key)
    keyring = Keyring.of(key)
    signing_input = token.rsplit(".", 1)[0].encode()
    signature = key.private.sign(signing_input)
    public = key.public_key

    ours_sign = rate(lambda: sign_attestation(claims, key))
    raw_sign = rate(lambda: key.private.sign(signing_input))
    issuer = ExpectedIssuer("https://portal.example")
    ours_verify = rate(lambda: verify_token(token, keyring, issuer=issuer, now=NOW))
    raw_verify = rate(lambda: public.verify(signature, signing_input))
    pyjwt_decode = rate(
        lambda: jwt.decode(token, public, algorithms=["EdDSA"], options={"verify_exp": False, "verify_iat": False})
    )
    print(f"token: {len(token)} bytes")
    print(
        f"  sign_attestation   {ours_sign:10,.0f}/s   raw Ed25519 sign   {raw_sign:10,.0f}/s   ratio "
        f"{ours_sign / raw_sign:.2f}"
    )
    print(
        f"  verify_token       {ours_verify:10,.0f}/s   raw Ed25519 verify {raw_verify:10,.0f}/s   ratio "
        f"{ours_verify / raw_verify:.2f}"
    )
    print(f"  pyjwt.decode EdDSA {pyjwt_decode:10,.0f}/s   verify_token / pyjwt ratio {ours_verify / pyjwt_decode:.2f}")

    data = CertificateData.from_token(token, provider_name_ar="خدمات الخليج السحابية")
    render_certificate(data)  # fonts load once
    runs = 10
    start = time.perf_counter()
    for _ in range(runs):
        pdf = render_certificate(data)
    print(f"certificate PDF: {(time.perf_counter() - start) / runs * 1000:.1f} ms each, {len(pdf):,} bytes")


def bench_merkle() -> None:
    start = time.perf_counter()
    leaves = [hashlib.sha256(b"\x00" + i.to_bytes(8, "big")).digest() for i in range(LOG_SIZE)]
    hashing = time.perf_counter() - start
    tree = MerkleTree()
    start = time.perf_counter()
    for leaf in leaves:
        tree.append(leaf)
    appending = time.perf_counter() - start
    start = time.perf_counter()
    root = tree.root()
    root_ms = (time.perf_counter() - start) * 1000
    print(f"merkle log, {LOG_SIZE:,} entries:")
    print(f"  leaf hashing {hashing:.2f} s; append {appending:.2f} s ({appending / LOG_SIZE * 1e6:.2f} µs/append)")
    print(f"  root at full size {root_ms:.3f} ms")

    rng = random.Random(9162)
    samples = 2000
    indexes = [rng.randrange(LOG_SIZE) for _ in range(samples)]
    start = time.perf_counter()
    proofs = [tree.inclusion_proof(i) for i in indexes]
    generate = (time.perf_counter() - start) / samples
    start = time.perf_counter()
    for index, proof in zip(indexes, proofs, strict=True):
        verify_inclusion(index, LOG_SIZE, leaves[index], proof, root)
    check = (time.perf_counter() - start) / samples
    lengths = sorted(len(p) for p in proofs)
    print(
        f"  inclusion proof: {lengths[0]}-{lengths[-1]} hashes ({lengths[-1] * HASH_SIZE} bytes max); "
        f"generate {generate * 1e6:.1f} µs, verify {check * 1e6:.1f} µs"
    )

    olds = [rng.randrange(1, LOG_SIZE) for _ in range(samples)]
    start = time.perf_counter()
    consistency = [tree.consistency_proof(old) for old in olds]
    generate = (time.perf_counter() - start) / samples
    old_roots = [tree.root(old) for old in olds]
    start = time.perf_counter()
    for old, old_root, proof in zip(olds, old_roots, consistency, strict=True):
        verify_consistency(old, LOG_SIZE, old_root, root, proof)
    check = (time.perf_counter() - start) / samples
    lengths = sorted(len(p) for p in consistency)
    print(
        f"  consistency proof: {lengths[0]}-{lengths[-1]} hashes ({lengths[-1] * HASH_SIZE} bytes max); "
        f"generate {generate * 1e6:.1f} µs, verify {check * 1e6:.1f} µs"
    )
    start = time.perf_counter()
    MerkleTree(leaves)
    print(f"  rebuild from {LOG_SIZE:,} stored leaf hashes {time.perf_counter() - start:.2f} s")


def run() -> None:
    """Print every measurement."""
    started = time.perf_counter()
    print("== attestations ==")
    bench_tokens()
    bench_merkle()
    print(f"(attestations bench took {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    run()
