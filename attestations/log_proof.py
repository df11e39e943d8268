"""The offline log proof file (``log-proof.json``): one entry, its inclusion proof, a signed checkpoint.

It lets anyone check, with no network, that an attestation was written to the transparency log::

    {
      "version": 1,
      "entry": {"event": "issue", "jti": "...", "token_sha256": "...", "at": 1767225600},
      "leaf_index": 41,
      "tree_size": 42,
      "leaf_hash": "<hex SHA-256(0x00 || canonical JSON of entry)>",
      "audit_path": ["<hex>", ...],
      "checkpoint": "<signed note text>"
    }
"""

from __future__ import annotations

from typing import Any

import msgspec

from attestations.canonical import CanonicalisationError, canonical_json, sha256_hex
from attestations.checkpoint import Checkpoint, open_checkpoint
from attestations.errors import InvalidInput, InvalidProof
from attestations.keys import Keyring
from attestations.merkle import MerkleTree, hash_leaf, verify_inclusion

PROOF_VERSION = 1


class LogProof(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An inclusion proof of one log entry against a signed checkpoint."""

    leaf_index: int
    tree_size: int
    leaf_hash: str
    audit_path: list[str]
    checkpoint: str
    entry: dict[str, Any] | None = None
    version: int = PROOF_VERSION


def attestation_log_entry(token: str, *, jti: str, event: str, at: int) -> dict[str, Any]:
    """The log entry for an event on an attestation; it names the exact token by its SHA-256."""
    return {"event": event, "jti": jti, "token_sha256": sha256_hex(token.encode("utf-8")), "at": at}


def entry_leaf_hash(entry: dict[str, Any]) -> bytes:
    """The leaf hash of a log entry: RFC 6962 leaf hash of its RFC 8785 canonical JSON."""
    return hash_leaf(canonical_json(entry))


def build_log_proof(
    tree: MerkleTree, leaf_index: int, signed_checkpoint: str, checkpoint: Checkpoint, entry: dict[str, Any]
) -> LogProof:
    """Assemble a proof of ``entry`` (leaf ``leaf_index``) against ``checkpoint`` (already signed)."""
    leaf = entry_leaf_hash(entry)
    if tree.leaf_hash(leaf_index) != leaf:
        raise InvalidInput(f"leaf {leaf_index} of the tree is not this entry")
    if tree.root(checkpoint.size) != checkpoint.root_hash:
        raise InvalidInput("the checkpoint root is not the tree's root at that size")
    return LogProof(
        leaf_index=leaf_index,
        tree_size=checkpoint.size,
        leaf_hash=leaf.hex(),
        audit_path=[h.hex() for h in tree.inclusion_proof(leaf_index, checkpoint.size)],
        checkpoint=signed_checkpoint,
        entry=entry,
    )


def encode_log_proof(proof: LogProof) -> bytes:
    """Pretty JSON of ``proof``."""
    return msgspec.json.format(msgspec.json.encode(proof), indent=2) + b"\n"


def decode_log_proof(data: bytes | str) -> LogProof:
    """Parse a proof file; :class:`InvalidInput` if it is not one."""
    try:
        proof = msgspec.json.decode(data, type=LogProof)
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError) as exc:
        raise InvalidInput(f"not a log proof file: {exc}") from exc
    if proof.version != PROOF_VERSION:
        raise InvalidInput(f"log proof version {proof.version} is not supported")
    try:
        [bytes.fromhex(h) for h in (proof.leaf_hash, *proof.audit_path)]
    except ValueError as exc:
        raise InvalidInput("the log proof hashes are not hex") from exc
    return proof


def verify_log_proof(proof: LogProof, keys: Keyring, *, token: str | None = None) -> Checkpoint:
    """Check the checkpoint signature, the entry, and the inclusion proof; returns the checkpoint.

    With ``token``, also check that the entry names this exact token. Raises :class:`InvalidProof`
    (or :class:`attestations.errors.InvalidSignature` for the checkpoint).
    """
    checkpoint = open_checkpoint(proof.checkpoint, keys)
    if checkpoint.size != proof.tree_size:
        raise InvalidProof(f"the proof is for tree size {proof.tree_size}, the checkpoint is {checkpoint.size}")
    leaf_hash = bytes.fromhex(proof.leaf_hash)
    if proof.entry is not None:
        try:
            computed = entry_leaf_hash(proof.entry)
        except CanonicalisationError as exc:
            raise InvalidProof(f"the log entry cannot be hashed: {exc}") from exc
        if computed != leaf_hash:
            raise InvalidProof("the leaf hash is not the hash of the entry")
    if token is not None:
        wanted = sha256_hex(token.encode("utf-8"))
        if proof.entry is None or proof.entry.get("token_sha256") != wanted:
            raise InvalidProof("the log entry does not name this token")
    verify_inclusion(
        proof.leaf_index,
        proof.tree_size,
        leaf_hash,
        [bytes.fromhex(h) for h in proof.audit_path],
        checkpoint.root_hash,
    )
    return checkpoint
