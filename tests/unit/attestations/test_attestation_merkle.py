"""Merkle log: RFC 6962 reference vectors, randomized trees, checkpoints (C2SP signed-note), proof files."""

from __future__ import annotations

import base64
import random

import msgspec
import pytest
from attestation_testdata import ISSUER, NOW
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from attestations.checkpoint import (
    Checkpoint,
    note_key_id,
    open_checkpoint,
    open_note,
    parse_checkpoint_body,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verifier_key,
)
from attestations.errors import InvalidInput, InvalidProof, InvalidSignature, KeyPurposeMismatch, VerificationError
from attestations.keys import Keyring, SigningKey
from attestations.log_proof import (
    attestation_log_entry,
    build_log_proof,
    decode_log_proof,
    encode_log_proof,
    entry_leaf_hash,
    verify_log_proof,
)
from attestations.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    frontier_append,
    frontier_root,
    hash_children,
    hash_leaf,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from attestations.policy import ExpectedIssuer
from attestations.verify import verify_token

# transparency-dev/merkle testonly/constants.go: the RFC 6962 reference tree of 8 leaves.
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657")] + [
    bytes.fromhex("606162636465666768696a6b6c6d6e6f")
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# transparency-dev/merkle proof/verify_test.go: (leaf index, tree size, proof).
INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CONSISTENCY = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip

# golang.org/x/mod/sumdb/note documentation example (C2SP signed-note).
NOTE_SEED = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
NOTE_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
NOTE_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
NOTE = (
    NOTE_TEXT + "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def reference_tree() -> MerkleTree:
    tree = MerkleTree()
    for leaf in LEAVES:
        tree.append_data(leaf)
    return tree


def test_rfc6962_reference_roots_at_every_size() -> None:
    tree = reference_tree()
    assert [tree.root(n).hex() for n in range(9)] == ROOTS
    assert tree.root(0) == EMPTY_ROOT


def test_leaf_and_node_hashing_are_domain_separated() -> None:
    assert hash_leaf(b"").hex() == ROOTS[1]
    assert hash_children(hash_leaf(b""), hash_leaf(b"\x00")).hex() == ROOTS[2]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_reference_inclusion_proofs(index: int, size: int, proof: list[str]) -> None:
    tree = reference_tree()
    assert [h.hex() for h in tree.inclusion_proof(index, size)] == proof
    verify_inclusion(index, size, hash_leaf(LEAVES[index]), [bytes.fromhex(h) for h in proof], tree.root(size))


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_reference_consistency_proofs(old: int, new: int, proof: list[str]) -> None:
    tree = reference_tree()
    assert [h.hex() for h in tree.consistency_proof(old, new)] == proof
    verify_consistency(old, new, tree.root(old), tree.root(new), [bytes.fromhex(h) for h in proof])


def test_rebuilt_tree_matches_and_frontier_tracks_the_root() -> None:
    tree = reference_tree()
    rebuilt = MerkleTree(tree.leaf_hash(i) for i in range(tree.size))
    assert rebuilt.root() == tree.root()
    frontier: list[bytes] = []
    for size in range(tree.size):
        assert frontier == tree.frontier(size)
        frontier = frontier_append(frontier, size, tree.leaf_hash(size))
        assert frontier_root(frontier) == tree.root(size + 1)
    # testonly CompactTrees: size 7 is nodes (level 2, 0), (level 1, 2), (level 0, 6).
    assert [h.hex()[:8] for h in tree.frontier(7)] == ["d37ee418", "0ebc5d34", "b08693ec"]


def flip(proof: list[bytes], index: int) -> list[bytes]:
    changed = list(proof)
    changed[index] = bytes([changed[index][0] ^ 0x08]) + changed[index][1:]
    return changed


def test_randomized_trees_proofs_verify_and_any_change_fails() -> None:
    rng = random.Random(6962)
    for _ in range(40):
        size = rng.randint(1, 300)
        tree = MerkleTree(hash_leaf(rng.randbytes(rng.randint(0, 40))) for _ in range(size))
        root = tree.root()
        index = rng.randrange(size)
        leaf = tree.leaf_hash(index)
        proof = tree.inclusion_proof(index)
        verify_inclusion(index, size, leaf, proof, root)
        for position in range(len(proof)):
            with pytest.raises(InvalidProof):
                verify_inclusion(index, size, leaf, flip(proof, position), root)
        with pytest.raises(InvalidProof):
            verify_inclusion(index, size, hash_leaf(b"other"), proof, root)
        if size > 1:
            with pytest.raises(InvalidProof):
                verify_inclusion((index + 1) % size, size, leaf, proof, root)
            with pytest.raises(InvalidProof):
                verify_inclusion(index, size, leaf, proof[:-1], root)
        with pytest.raises(InvalidProof):
            verify_inclusion(index, size, leaf, [*proof, root], root)

        old = rng.randint(1, size)
        consistency = tree.consistency_proof(old)
        verify_consistency(old, size, tree.root(old), root, consistency)
        for position in range(len(consistency)):
            with pytest.raises(InvalidProof):
                verify_consistency(old, size, tree.root(old), root, flip(consistency, position))
        if old < size:
            with pytest.raises(InvalidProof):
                verify_consistency(old, size, hash_leaf(b"forged"), root, consistency)
            with pytest.raises(InvalidProof):
                verify_consistency(old, size, tree.root(old), hash_leaf(b"forged"), consistency)
            with pytest.raises(InvalidProof):
                verify_consistency(old, size, tree.root(old), root, [])


def test_proof_edge_cases() -> None:
    tree = reference_tree()
    with pytest.raises(InvalidProof, match="not in a tree"):
        root_from_inclusion_proof(8, 8, tree.leaf_hash(0), [])
    with pytest.raises(InvalidProof, match="larger than"):
        verify_consistency(5, 4, tree.root(5), tree.root(4), [])
    verify_consistency(0, 8, EMPTY_ROOT, tree.root(), [])
    verify_consistency(8, 8, tree.root(), tree.root(), [])
    with pytest.raises(InvalidProof, match="different roots"):
        verify_consistency(8, 8, tree.root(7), tree.root(), [])
    with pytest.raises(InvalidInput, match="between 0 and 8"):
        tree.root(9)
    with pytest.raises(InvalidInput, match="32"):
        tree.append(b"short")


def test_note_signature_matches_the_reference_byte_for_byte() -> None:
    private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(NOTE_SEED)[1:])
    assert sign_note(NOTE_TEXT, "PeterNeumann", private) == NOTE
    assert verifier_key("PeterNeumann", private.public_key()) == NOTE_VKEY
    assert note_key_id("PeterNeumann", private.public_key()).hex() == "c74f20a3"
    assert open_note(NOTE, [parse_verifier_key(NOTE_VKEY)]) == NOTE_TEXT
    with pytest.raises(InvalidSignature):
        open_note(NOTE.replace("cryptography", "cryptographY"), [parse_verifier_key(NOTE_VKEY)])


def test_verifier_key_with_a_wrong_id_is_refused() -> None:
    with pytest.raises(InvalidInput, match="does not match"):
        parse_verifier_key(NOTE_VKEY.replace("c74f20a3", "c74f20a4"))


def test_checkpoint_signed_note_format(log_key: SigningKey, keyring: Keyring) -> None:
    tree = reference_tree()
    checkpoint = Checkpoint(origin="portal.example/log", size=8, root_hash=tree.root())
    note = sign_checkpoint(checkpoint, log_key)
    lines = note.split("\n")
    assert lines[:4] == ["portal.example/log", "8", base64.b64encode(tree.root()).decode(), ""]
    signature_line = lines[4]
    assert signature_line.startswith("\u2014 portal.example/log ")
    blob = base64.b64decode(signature_line.split(" ")[2])
    assert blob[:4] == note_key_id("portal.example/log", log_key.public_key)
    assert len(blob) == 68
    assert lines[5:] == [""]
    assert open_checkpoint(note, keyring, origin="portal.example/log") == checkpoint
    with pytest.raises(InvalidSignature, match="expected 'other'"):
        open_checkpoint(note, keyring, origin="other")
    forged = note.replace("\n8\n", "\n9\n")
    with pytest.raises(InvalidSignature, match="no signature"):
        open_checkpoint(forged, keyring)


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("origin\n1\n", "no signature block"),
        ("origin\n1\nAAAA\n\n— name AAAA", "end with a newline"),
        ("origin\n1\nAAAA\n\nname AAAA\n", "not a signature line"),
    ],
)
def test_malformed_checkpoints_are_refused(note: str, message: str, keyring: Keyring) -> None:
    with pytest.raises(InvalidInput, match=message):
        open_checkpoint(note, keyring)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("origin\nx\nAAAA\n", "not a decimal number"),
        ("origin\n01\nAAAA\n", "not a decimal number"),
        ("origin\n1\nAAAA\n", "not 32 bytes"),
        ("origin\n1\n", "an origin, a size and a root hash"),
    ],
)
def test_malformed_checkpoint_bodies_are_refused(body: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_checkpoint_body(body)


def logged_token_proof(token: str, log_key: SigningKey, size: int = 37) -> bytes:
    tree = MerkleTree()
    for i in range(size):
        tree.append(entry_leaf_hash({"event": "key", "n": i}))
    entry = attestation_log_entry(token, jti="ATT-2026-000042", event="issue", at=NOW)
    index = tree.append(entry_leaf_hash(entry))
    tree.append(entry_leaf_hash({"event": "revoke", "n": 0}))
    checkpoint = Checkpoint(origin="portal.example/log", size=tree.size, root_hash=tree.root())
    proof = build_log_proof(tree, index, sign_checkpoint(checkpoint, log_key), checkpoint, entry)
    return encode_log_proof(proof)


def test_offline_log_proof_verifies_and_names_the_token(token: str, log_key: SigningKey, keyring: Keyring) -> None:
    proof = decode_log_proof(logged_token_proof(token, log_key))
    assert (proof.leaf_index, proof.tree_size, len(proof.audit_path)) == (37, 39, 4)
    checkpoint = verify_log_proof(proof, keyring, token=token)
    assert checkpoint.size == 39
    result = verify_token(token, keyring, issuer=ExpectedIssuer(ISSUER), now=NOW, log_proof=proof)
    assert result.checks[-1].name == "log inclusion"
    assert result.checks[-1].detail == "entry 37 of 39 in portal.example/log, checkpoint signed"


def test_log_proof_for_another_token_fails(token: str, log_key: SigningKey, keyring: Keyring) -> None:
    proof = decode_log_proof(logged_token_proof(token, log_key))
    with pytest.raises(InvalidProof, match="does not name this token"):
        verify_log_proof(proof, keyring, token=token + "x")


def test_tampered_log_proofs_fail(token: str, log_key: SigningKey, keyring: Keyring) -> None:
    proof = decode_log_proof(logged_token_proof(token, log_key))
    bad_path = [
        proof.audit_path[0][:-1] + ("0" if proof.audit_path[0][-1] != "0" else "1"),
        *proof.audit_path[1:],
    ]
    cases = {
        "audit path": msgspec.structs.replace(proof, audit_path=bad_path),
        "index": msgspec.structs.replace(proof, leaf_index=proof.leaf_index - 1),
        "entry": msgspec.structs.replace(proof, entry={**(proof.entry or {}), "event": "revoke"}),
        "size": msgspec.structs.replace(proof, tree_size=proof.tree_size + 1),
    }
    for what, tampered in cases.items():
        with pytest.raises(VerificationError) as info:
            verify_token(token, keyring, issuer=ExpectedIssuer(ISSUER), now=NOW, log_proof=tampered)
        failed = info.value.result.failure
        assert failed is not None and failed.name == "log inclusion", what


def test_log_proof_file_must_decode() -> None:
    with pytest.raises(InvalidInput, match="not a log proof file"):
        decode_log_proof(b'{"leaf_index": "one"}')
    with pytest.raises(InvalidInput, match="not a log proof file"):
        decode_log_proof(b"not json")


@pytest.mark.parametrize("purpose", ["attestation", "status"])
def test_checkpoint_signed_by_another_purpose_key_in_the_jwks_is_refused(
    purpose: str, token: str, keyring: Keyring, attestation_key: SigningKey, status_key: SigningKey
) -> None:
    key = attestation_key if purpose == "attestation" else status_key
    tree = MerkleTree()
    entry = attestation_log_entry(token, jti="ATT-2026-000042", event="issue", at=NOW)
    index = tree.append(entry_leaf_hash(entry))
    checkpoint = Checkpoint(origin="portal.example/log", size=tree.size, root_hash=tree.root())
    # sign_checkpoint refuses a non-log key, so sign the note directly, as a forger with that key would.
    note = sign_note(checkpoint.body(), "portal.example/log", key.private)
    expected = (
        f"the checkpoint is signed by kid {key.kid}, a {purpose!r} key in the JWKS; "
        "a checkpoint is accepted only from a key published for 'log'"
    )
    with pytest.raises(KeyPurposeMismatch) as info:
        open_checkpoint(note, keyring)
    assert str(info.value) == expected
    proof = build_log_proof(tree, index, note, checkpoint, entry)
    with pytest.raises(VerificationError) as failed:
        verify_token(token, keyring, issuer=ExpectedIssuer(ISSUER), now=NOW, log_proof=proof)
    check = failed.value.result.failure
    assert check is not None and (check.name, check.detail) == ("log inclusion", expected)
    # The same note verifies against a verifier key given explicitly for that key.
    assert open_checkpoint(note, [("portal.example/log", key.public_key)]) == checkpoint
