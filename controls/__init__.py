"""Control catalogs for the Provider Attestation Portal: models, loading, digests, OSCAL, diffs.

A library with no web or database dependency. The built-in baseline catalog is ``baseline_catalog()``.
"""

from controls.diff import CatalogDiff, ControlChange, FamilyChange, FieldChange, diff_catalogs
from controls.digest import catalog_digest
from controls.errors import CatalogError, ControlsError
from controls.loader import (
    CatalogFormat,
    baseline_catalog,
    builtin_catalog_paths,
    decode_catalog,
    encode_catalog,
    load_catalog,
)
from controls.models import (
    Catalog,
    Control,
    Family,
    Framework,
    Mapping,
    Pillar,
    Prop,
    ProviderCategory,
    SourceDocument,
    SourceRef,
    applicable_controls,
)
from controls.oscal import OSCAL_NS, from_oscal, to_oscal
from controls.translation import localized, shown_language
from controls.validation import validate_catalog

__all__ = [
    "OSCAL_NS",
    "Catalog",
    "CatalogDiff",
    "CatalogError",
    "CatalogFormat",
    "Control",
    "ControlChange",
    "ControlsError",
    "Family",
    "FamilyChange",
    "FieldChange",
    "Framework",
    "Mapping",
    "Pillar",
    "Prop",
    "ProviderCategory",
    "SourceDocument",
    "SourceRef",
    "applicable_controls",
    "baseline_catalog",
    "builtin_catalog_paths",
    "catalog_digest",
    "decode_catalog",
    "diff_catalogs",
    "encode_catalog",
    "from_oscal",
    "load_catalog",
    "localized",
    "shown_language",
    "to_oscal",
    "validate_catalog",
]
