"""Log bodies: an append's result, entries and consistency proofs as JSON (the tiles and notes are not JSON)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec


class AppendResult(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    leaf_hash: str  # hex
    size: int
    root: str  # hex


class EntryOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    index: int
    at: dt.datetime
    event: str
    body: dict[str, Any]  # the entry; its RFC 8785 JSON is what the leaf hash covers
    leaf_hash: str  # hex SHA-256(0x00 || RFC 8785 JSON of body)
    jti: str | None = None


class EntriesOut(msgspec.Struct, kw_only=True):
    start: int
    end: int  # exclusive: entries start .. end - 1
    tree_size: int
    entries: list[EntryOut]


class ConsistencyOut(msgspec.Struct, kw_only=True):
    from_: int = msgspec.field(name="from")
    to: int
    hashes: list[str]  # base64, RFC 9162 PROOF(from, D[0:to])


class VerifyReport(msgspec.Struct, kw_only=True):
    ok: bool
    size: int
    root: str  # hex, recomputed from the bodies
    checkpoint_size: int | None
    checkpoints: int  # how many stored checkpoints were checked
    nodes: int
    problems: list[str]
