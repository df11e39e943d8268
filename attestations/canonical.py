"""Canonical JSON (RFC 8785) and SHA-256: the one way this project hashes a document."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import rfc8785

from attestations.errors import CanonicalisationError

__all__ = ["CanonicalisationError", "canonical_digest", "canonical_json", "sha256_hex"]


def _refuse_floats(value: Any, path: str) -> None:
    # Floats have no single decimal form across languages; hashed documents use strings or integers.
    if isinstance(value, float):
        raise CanonicalisationError(f"float at {path or '$'}: hashed documents use integers or strings")
    if isinstance(value, Mapping):
        for key, item in value.items():
            _refuse_floats(item, f"{path}.{key}")
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for index, item in enumerate(value):
            _refuse_floats(item, f"{path}[{index}]")


def canonical_json(document: Any) -> bytes:
    """Return the RFC 8785 canonical JSON bytes of ``document`` (floats refused)."""
    _refuse_floats(document, "")
    try:
        return rfc8785.dumps(document)
    except rfc8785.CanonicalizationError as exc:
        raise CanonicalisationError(str(exc)) from exc


def sha256_hex(data: bytes) -> str:
    """Return the lowercase hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def canonical_digest(document: Any) -> str:
    """Return the hex SHA-256 of the canonical JSON of ``document``."""
    return sha256_hex(canonical_json(document))
