"""The content digest that identifies a catalog's exact text."""

from __future__ import annotations

import msgspec

from attestations.canonical import canonical_digest
from controls.models import Catalog

__all__ = ["catalog_digest"]


def catalog_digest(catalog: Catalog) -> str:
    """Return the hex SHA-256 of the RFC 8785 canonical JSON of ``catalog``.

    The digest covers the catalog's builtins form (``msgspec.to_builtins``, fields at their default
    omitted), so it does not depend on the file format the catalog was read from or on key order, and it
    changes with any change of content, including the order of families and controls.
    """
    return canonical_digest(msgspec.to_builtins(catalog))
