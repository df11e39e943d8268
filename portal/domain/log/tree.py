"""The log's tree over stored nodes: which complete subtrees a root, a proof or a tile needs, and how they combine.

A *node* ``(level, index)`` is the complete subtree of ``2**level`` leaves starting at leaf
``index << level``; the log stores every node once, when it completes (``new_nodes``). Any RFC 6962 range
``[start, end)`` that a root or a proof needs is either one node or, on the right edge of the tree, an
incomplete subtree computed from its complete children (``range_hash``), so a proof needs O(log n) stored
hashes and never the whole tree. Pure functions; the service fetches the nodes they name in one query.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from attestations.merkle import EMPTY_ROOT, hash_children

Node = tuple[int, int]
Range = tuple[int, int]

KEY_SHIFT = 48  # a node's key is (level << 48) | index: a level's nodes are one key range
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_INDEX = (1 << KEY_SHIFT) - 1


class Hashes(Protocol):
    """Stored node hashes by node: a dict, or anything indexable the same way."""

    def __getitem__(self, node: Node, /) -> bytes: ...


def node_key(level: int, index: int) -> int:
    return (level << KEY_SHIFT) | index


def key_node(key: int) -> Node:
    return key >> KEY_SHIFT, key & MAX_INDEX


def new_nodes(index: int) -> list[Node]:
    """The nodes that appending leaf ``index`` completes: the leaf, then one more per trailing 1 bit."""
    nodes = [(0, index)]
    level = 0
    while index & 1:
        index >>= 1
        level += 1
        nodes.append((level, index))
    return nodes


def frontier(size: int) -> list[Node]:
    """The compact range ``[0, size)``: one node per set bit of ``size``, largest first."""
    return [(level, (size >> level) - 1) for level in reversed(range(size.bit_length())) if size >> level & 1]


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n`` > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _perfect(start: int, end: int) -> Node | None:
    n = end - start
    if n & (n - 1) == 0:
        level = n.bit_length() - 1
        if start % n == 0:
            return level, start >> level
    return None


def decompose(start: int, end: int) -> list[Node]:
    """The complete nodes ``range_hash(start, end)`` reads, left to right."""
    node = _perfect(start, end)
    if node is not None:
        return [node]
    k = _split(end - start)
    return [*decompose(start, start + k), *decompose(start + k, end)]


def range_hash(start: int, end: int, hashes: Hashes) -> bytes:
    """MTH of leaves ``[start, end)`` (``start`` aligned as in every RFC 6962 decomposition)."""
    node = _perfect(start, end)
    if node is not None:
        return hashes[node]
    k = _split(end - start)
    return hash_children(range_hash(start, start + k, hashes), range_hash(start + k, end, hashes))


def root(size: int, hashes: Hashes) -> bytes:
    return EMPTY_ROOT if size == 0 else range_hash(0, size, hashes)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """RFC 9162 section 2.1.3.1 PATH(index, D[0:size]) as the ranges whose hashes it lists, leaf end first."""
    ranges: list[Range] = []
    start, end, m = 0, size, index
    while end - start > 1:
        k = _split(end - start)
        if m < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m = start + k, m - k
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """RFC 9162 section 2.1.4.1 PROOF(old_size, D[0:new_size]) as ranges, in proof order."""
    if old_size in (0, new_size):
        return []
    ranges: list[Range] = []
    start, end, m, complete = 0, new_size, old_size, True
    while True:
        if m == end - start:
            if not complete:
                ranges.append((start, end))
            break
        k = _split(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, complete = start + k, m - k, False
    ranges.reverse()
    return ranges


def needed(ranges: Iterable[Range]) -> set[Node]:
    """Every stored node the hashes of ``ranges`` are computed from."""
    return {node for start, end in ranges for node in decompose(start, end)}


# -- C2SP tlog-tiles --------------------------------------------------------------------------------


def tile_available(tile_level: int, tile_index: int, width: int, size: int) -> bool:
    """Whether a tree of ``size`` leaves has the first ``width`` hashes of tile ``tile_level/tile_index``.

    A level-L tile lists hashes of tree level 8·L: there are ``size >> 8L`` complete nodes there.
    """
    return (tile_index * TILE_WIDTH + width) <= size >> (TILE_HEIGHT * tile_level)


def encode_tile_index(n: int) -> str:
    """``1234067`` → ``x001/x234/067``: 3-digit groups, ``x`` before all but the last."""
    digits = str(n)
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


class BadTilePath(ValueError):
    pass


def parse_tile_path(path: str) -> tuple[int | None, int, int]:
    """``<L>/<N>[.p/<W>]`` or ``entries/<N>[.p/<W>]`` → (level, or None for entries; index; width).

    Only the canonical encoding is accepted (the one ``encode_tile_index`` writes): a tile has one name.
    """
    parts = path.strip("/").split("/")
    if len(parts) < 2:
        raise BadTilePath("a tile path is <L>/<N> or entries/<N>")
    head, *rest = parts
    level: int | None
    if head == "entries":
        level = None
    elif len(head) <= 2 and head.isascii() and head.isdigit() and str(int(head)) == head and int(head) <= 63:
        level = int(head)
    else:
        raise BadTilePath(f"not a tile level: {head!r}")
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        w = rest[-1]
        if not (len(w) <= 3 and w.isascii() and w.isdigit() and str(int(w)) == w and 1 <= int(w) < TILE_WIDTH):
            raise BadTilePath(f"not a partial tile width: {w!r}")
        width = int(w)
        rest = [*rest[:-2], rest[-2].removesuffix(".p")]
    *prefixes, last = rest
    if len(prefixes) > 6:  # 7 groups of 3 digits already name more tiles than 2**63 entries fill
        raise BadTilePath("a tile index has at most 7 groups")
    if not all(len(g) == 4 and g[0] == "x" and g[1:].isascii() and g[1:].isdigit() for g in prefixes):
        raise BadTilePath("tile index groups before the last are x and 3 digits")
    if not (len(last) == 3 and last.isascii() and last.isdigit()):
        raise BadTilePath("the last tile index group is 3 digits")
    index = int("".join(g[1:] for g in prefixes) + last)
    if encode_tile_index(index) != "/".join([*prefixes, last]):
        raise BadTilePath("tile index groups have no leading zero groups")
    return level, index, width
