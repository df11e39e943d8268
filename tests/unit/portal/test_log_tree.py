"""The log's stored-node arithmetic against attestations.merkle, exhaustively on small trees."""

from __future__ import annotations

import pytest

from attestations.merkle import MerkleTree, hash_children, hash_leaf
from portal.domain.log import tree


def _stored(n: int) -> tuple[MerkleTree, dict[tree.Node, bytes]]:
    """A reference tree and the nodes the log would have stored after ``n`` appends."""
    reference = MerkleTree()
    nodes: dict[tree.Node, bytes] = {}
    for i in range(n):
        leaf = hash_leaf(f"entry {i}".encode())
        reference.append(leaf)
        node = leaf
        for level, index in tree.new_nodes(i):
            if level:
                node = hash_children(nodes[(level - 1, 2 * index)], nodes[(level - 1, 2 * index + 1)])
            nodes[(level, index)] = node
    return reference, nodes


def test_every_complete_subtree_is_stored_once() -> None:
    seen: list[tree.Node] = []
    for i in range(100):
        seen += tree.new_nodes(i)
    assert len(seen) == len(set(seen))
    assert sorted(seen) == sorted((level, j) for level in range(7) for j in range(100 >> level))


N = 33


@pytest.mark.parametrize("size", range(N + 1))
def test_roots_and_proofs_from_stored_nodes_match_the_reference(size: int) -> None:
    reference, nodes = _stored(N)
    assert tree.root(size, nodes) == reference.root(size)
    assert set(tree.needed([(0, size)] if size else [])) <= set(nodes)
    assert tree.needed([(0, size)] if size else []) == set(tree.frontier(size))
    for index in range(size):
        ranges = tree.inclusion_ranges(index, size)
        assert [tree.range_hash(a, b, nodes) for a, b in ranges] == reference.inclusion_proof(index, size)
        assert len(tree.needed(ranges)) <= 2 * max(size.bit_length(), 1)
    for old in range(size + 1):
        ranges = tree.consistency_ranges(old, size)
        assert [tree.range_hash(a, b, nodes) for a, b in ranges] == reference.consistency_proof(old, size)


@pytest.mark.parametrize(
    ("n", "path"), [(0, "000"), (5, "005"), (999, "999"), (1000, "x001/000"), (1234067, "x001/x234/067")]
)
def test_tile_index_encoding(n: int, path: str) -> None:
    assert tree.encode_tile_index(n) == path
    assert tree.parse_tile_path(f"0/{path}") == (0, n, 256)
    assert tree.parse_tile_path(f"entries/{path}.p/7") == (None, n, 7)
    assert tree.parse_tile_path(f"3/{path}.p/255") == (3, n, 255)


@pytest.mark.parametrize(
    "path",
    [
        "0",
        "0/5",
        "0/0005",
        "00/000",
        "0/x000/005",
        "0/001.p/0",
        "0/001.p/256",
        "0/001.p/07",
        "64/000",
        "x/000",
        "0/001/002",
        "entries/1",
        "0/001.p",
        "-1/000",
        "\u00b2/000",  # '²' is a digit to str.isdigit(), not to int()
        "0/00\u00b2",
        "0/001.p/\u00b9",
        "0/\u0661\u0662\u0663",  # Arabic-Indic digits
        "9" * 5000 + "/000",
        "0/001.p/" + "1" * 5000,
        "0/" + "x999/" * 7 + "999",
    ],
)
def test_only_canonical_tile_paths_parse(path: str) -> None:
    with pytest.raises(tree.BadTilePath):
        tree.parse_tile_path(path)


def test_tiles_exist_only_inside_the_tree() -> None:
    assert tree.tile_available(0, 0, 256, 256) and not tree.tile_available(0, 1, 1, 256)
    assert tree.tile_available(0, 1, 4, 260) and not tree.tile_available(0, 1, 5, 260)
    assert tree.tile_available(1, 0, 1, 256) and not tree.tile_available(1, 0, 2, 511)
    assert not tree.tile_available(2, 0, 1, 65535) and tree.tile_available(2, 0, 1, 65536)
