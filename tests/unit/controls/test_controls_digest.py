"""The catalog digest: RFC 8785 canonical JSON then SHA-256, independent of file format and key order."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import msgspec
import rfc8785
from controls_testdata import SMALL_TOML, decode_json_document, small_catalog, small_dict

from controls import baseline_catalog, catalog_digest, decode_catalog, encode_catalog, load_catalog
from controls.loader import BUILTIN_CATALOG_DIR

# Pinned: a catalog's digest is signed into attestations, so a change to the model or the hashing that
# alters the digest of an unchanged catalog must be deliberate (and this value updated with a reason).
SMALL_DIGEST = "f6d0867051137757ed52de155d4e261e437cb7cdf04d209ab1a3445e56410590"


def reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(item) for item in value]
    return value


def test_digest_is_sha256_of_rfc8785_of_the_encoded_catalog() -> None:
    catalog = small_catalog()
    document = json.loads(encode_catalog(catalog))
    assert catalog_digest(catalog) == hashlib.sha256(rfc8785.dumps(document)).hexdigest()


def test_digest_is_pinned_for_a_known_catalog() -> None:
    assert catalog_digest(small_catalog()) == SMALL_DIGEST


def test_same_catalog_from_toml_and_json_gives_the_same_digest() -> None:
    from_toml = decode_catalog(SMALL_TOML.encode(), source="a.toml", format="toml")
    from_json = decode_catalog(encode_catalog(from_toml), source="a.json", format="json")
    assert catalog_digest(from_toml) == catalog_digest(from_json)


def test_key_order_does_not_change_the_digest() -> None:
    document = small_dict()
    shuffled = reversed_keys(document)
    assert list(shuffled) != list(document)
    assert catalog_digest(decode_json_document(shuffled)) == catalog_digest(decode_json_document(document))


def test_fields_written_at_their_default_do_not_change_the_digest() -> None:
    document = small_dict()
    document["controls"][0]["parent"] = None
    document["controls"][0]["props"] = []
    document["families"][0]["description"] = ""
    assert catalog_digest(decode_json_document(document)) == catalog_digest(small_catalog())


def test_changing_one_character_changes_the_digest() -> None:
    document = small_dict()
    document["controls"][1]["statement"] = document["controls"][1]["statement"].replace("purpose", "purposE")
    assert catalog_digest(decode_json_document(document)) != catalog_digest(small_catalog())


def test_changing_the_order_of_categories_changes_the_digest() -> None:
    document = small_dict()
    document["controls"][0]["categories"].reverse()
    assert catalog_digest(decode_json_document(document)) != catalog_digest(small_catalog())


def test_baseline_digest_is_stable_across_loads_and_formats() -> None:
    baseline = baseline_catalog()
    reloaded = load_catalog(BUILTIN_CATALOG_DIR / "baseline.toml")
    assert reloaded is not baseline
    as_json = decode_catalog(encode_catalog(baseline), source="baseline.json", format="json")
    assert catalog_digest(baseline) == catalog_digest(reloaded) == catalog_digest(as_json)
    assert len(catalog_digest(baseline)) == 64


def test_digest_covers_the_builtins_form() -> None:
    catalog = small_catalog()
    builtins = msgspec.to_builtins(catalog)
    assert builtins["published"] == "2025-01-31"
    assert "parent" not in builtins["controls"][0]
    assert builtins["controls"][2]["parent"] == "BBB-01"
