"""RFC 6962 / RFC 9162 Merkle tree: hashing, an append-only tree, inclusion and consistency proofs.

Leaves are hashed ``SHA-256(0x00 || data)`` and interior nodes ``SHA-256(0x01 || left || right)``, so a
leaf can never be passed off as a node. The tree keeps, for every level, the hashes of the complete
subtrees it has so far: appending is amortised O(1) (worst case O(log n)), a root or proof needs O(log n)
of those hashes plus at most O(log n) hashing along the right edge. It is rebuilt from the list of leaf
hashes that the portal stores. The "frontier" helpers keep only the right edge (one hash per set bit of
the size) for callers that need the new root on append without holding the tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from attestations.errors import InvalidInput, InvalidProof

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def hash_leaf(data: bytes) -> bytes:
    """RFC 6962 leaf hash: ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n`` > 1): where RFC 6962 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise InvalidInput(f"{what} is {len(value)} bytes, a SHA-256 hash is {HASH_SIZE}")


class MerkleTree:
    """An append-only RFC 6962 tree over leaf hashes."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        # _levels[k] holds, concatenated, the hashes of the complete subtrees of 2**k leaves, left to right.
        self._levels: list[bytearray] = [bytearray()]
        for leaf_hash in leaf_hashes:
            self.append(leaf_hash)

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._levels[0]) // HASH_SIZE

    def __len__(self) -> int:
        return self.size

    def append(self, leaf_hash: bytes) -> int:
        """Append a leaf by its (already computed) leaf hash; returns its index."""
        _check_hash(leaf_hash, "a leaf hash")
        index = self.size
        node = bytes(leaf_hash)
        level = 0
        count = index + 1
        while True:
            self._levels[level] += node
            if count & 1:
                break
            # This subtree just became complete with its left sibling: hash them into the next level.
            row = self._levels[level]
            node = hash_children(bytes(row[-2 * HASH_SIZE : -HASH_SIZE]), bytes(row[-HASH_SIZE:]))
            count >>= 1
            level += 1
            if level == len(self._levels):
                self._levels.append(bytearray())
        return index

    def append_data(self, data: bytes) -> int:
        """Append a leaf by its data; returns its index."""
        return self.append(hash_leaf(data))

    def leaf_hash(self, index: int) -> bytes:
        """The hash of leaf ``index``."""
        if not 0 <= index < self.size:
            raise InvalidInput(f"leaf {index} is not in a tree of {self.size} leaves")
        return bytes(self._levels[0][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def _node(self, level: int, index: int) -> bytes:
        return bytes(self._levels[level][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def _subtree(self, start: int, end: int) -> bytes:
        """MTH of leaves ``[start, end)``; ``start`` is aligned as every RFC 6962 decomposition is."""
        n = end - start
        if n & (n - 1) == 0:
            level = n.bit_length() - 1
            return self._node(level, start >> level)
        k = _split(n)
        return hash_children(self._subtree(start, start + k), self._subtree(start + k, end))

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise InvalidInput(f"tree size {size} is not between 0 and {self.size}")
        return size

    def root(self, size: int | None = None) -> bytes:
        """Root hash of the first ``size`` leaves (default: all)."""
        n = self._check_size(size)
        return EMPTY_ROOT if n == 0 else self._subtree(0, n)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 section 2.1.3.1 PATH(index, D[0:size]), leaf end first."""
        n = self._check_size(size)
        if not 0 <= index < n:
            raise InvalidInput(f"leaf {index} is not in a tree of {n} leaves")
        proof: list[bytes] = []
        start, end, m = 0, n, index
        while end - start > 1:
            k = _split(end - start)
            if m < k:
                proof.append(self._subtree(start + k, end))
                end = start + k
            else:
                proof.append(self._subtree(start, start + k))
                start, m = start + k, m - k
        proof.reverse()
        return proof

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """RFC 9162 section 2.1.4.1 PROOF(old_size, D[0:new_size])."""
        n = self._check_size(new_size)
        if not 0 <= old_size <= n:
            raise InvalidInput(f"old size {old_size} is not between 0 and {n}")
        if old_size in (0, n):
            return []
        proof: list[bytes] = []
        start, end, m, complete = 0, n, old_size, True
        while True:
            if m == end - start:
                if not complete:
                    proof.append(self._subtree(start, end))
                break
            k = _split(end - start)
            if m <= k:
                proof.append(self._subtree(start + k, end))
                end = start + k
            else:
                proof.append(self._subtree(start, start + k))
                start, m, complete = start + k, m - k, False
        proof.reverse()
        return proof

    def frontier(self, size: int | None = None) -> list[bytes]:
        """The compact range ``[0, size)``: roots of its perfect subtrees, largest first."""
        n = self._check_size(size)
        nodes: list[bytes] = []
        start = 0
        for level in reversed(range(n.bit_length())):
            if n >> level & 1:
                nodes.append(self._node(level, start >> level))
                start += 1 << level
        return nodes


def frontier_append(frontier: Sequence[bytes], size: int, leaf_hash: bytes) -> list[bytes]:
    """The compact range of a tree of ``size + 1`` leaves, from that of ``size`` leaves and a new leaf."""
    _check_hash(leaf_hash, "a leaf hash")
    if len(frontier) != bin(size).count("1"):
        raise InvalidInput(f"a frontier of {size} leaves has {bin(size).count('1')} hashes, not {len(frontier)}")
    nodes = list(frontier)
    node = leaf_hash
    while size & 1:
        node = hash_children(nodes.pop(), node)
        size >>= 1
    nodes.append(node)
    return nodes


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """Root hash of the tree whose compact range is ``frontier``."""
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for node in reversed(frontier[:-1]):
        root = hash_children(node, root)
    return root


def root_from_inclusion_proof(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2: the root that ``proof`` leads to from ``leaf_hash`` at ``index``."""
    if not 0 <= index < size:
        raise InvalidProof(f"leaf index {index} is not in a tree of {size} leaves")
    _check_hash(leaf_hash, "the leaf hash")
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        _check_hash(p, "a proof hash")
        if sn == 0:
            raise InvalidProof("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProof("the inclusion proof is too short")
    return r


def verify_inclusion(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Raise :class:`InvalidProof` unless ``proof`` shows leaf ``index`` is in the tree with ``root``."""
    try:
        computed = root_from_inclusion_proof(index, size, leaf_hash, proof)
    except InvalidInput as exc:
        raise InvalidProof(str(exc)) from exc
    if computed != root:
        raise InvalidProof("the inclusion proof leads to a different root")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 section 2.1.4.2: raise :class:`InvalidProof` unless the old tree is a prefix of the new."""
    if not 0 <= old_size <= new_size:
        raise InvalidProof(f"old size {old_size} is larger than new size {new_size}")
    if old_size == new_size:
        if proof:
            raise InvalidProof("a proof between equal sizes must be empty")
        if old_root != new_root:
            raise InvalidProof("equal sizes but different roots")
        return
    if old_size == 0:
        if proof:
            raise InvalidProof("a proof from the empty tree must be empty")
        return
    if not proof:
        raise InvalidProof("the consistency proof is empty")
    for p in proof:
        if len(p) != HASH_SIZE:
            raise InvalidProof(f"a proof hash is {len(p)} bytes, not {HASH_SIZE}")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidProof("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProof("the consistency proof is too short")
    if fr != old_root:
        raise InvalidProof("the consistency proof does not lead to the old root")
    if sr != new_root:
        raise InvalidProof("the consistency proof does not lead to the new root")
