"""Loading catalog files: every bad input is a CatalogError with the file, the exact path and the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from controls_testdata import SMALL_TOML, SOURCE, decode_json_document, small_catalog, small_dict

from controls import CatalogError, Pillar, ProviderCategory, decode_catalog, encode_catalog, load_catalog

ALL_CATEGORIES = ", ".join(category.value for category in ProviderCategory)


def error_for(document: dict[str, Any], *, complete: bool = True) -> CatalogError:
    with pytest.raises(CatalogError) as caught:
        decode_json_document(document, complete=complete)
    assert caught.value.source == SOURCE
    return caught.value


def test_small_catalog_loads_from_toml() -> None:
    catalog = small_catalog()
    assert (catalog.id, catalog.version, str(catalog.published)) == ("test-catalog", "1.0.0", "2025-01-31")
    assert [control.id for control in catalog.controls] == ["AAA-01", "BBB-01", "BBB-01.1"]
    # A backslash line continuation in TOML joins the statement into one line.
    assert catalog.controls[0].statement == "The provider does the first thing every day."
    assert catalog.controls[1].pillar is Pillar.privacy
    assert catalog.controls[2].parent == "BBB-01"
    assert catalog.controls[0].categories == [ProviderCategory.telecom_operator, ProviderCategory.cloud_hosting]


def test_error_message_reads_file_path_problem() -> None:
    document = small_dict()
    document["controls"][1]["id"] = "AAA-01"
    error = error_for(document)
    assert error.path == "$.controls[1].id"
    assert error.problem == "duplicate control id 'AAA-01' (first at $.controls[0])"
    assert str(error) == "test.toml: $.controls[1].id: duplicate control id 'AAA-01' (first at $.controls[0])"


def test_unknown_family() -> None:
    document = small_dict()
    document["controls"][2]["family"] = "ZZZ"
    error = error_for(document)
    assert (error.path, error.problem) == ("$.controls[2].family", "unknown family 'ZZZ' (families: AAA, BBB)")


def test_unknown_category() -> None:
    document = small_dict()
    document["controls"][0]["categories"] = ["telecom_operator", "bakery"]
    error = error_for(document)
    assert error.path == "$.controls[0].categories[1]"
    assert error.problem == f"unknown provider category 'bakery' (known: {ALL_CATEGORIES})"


def test_unknown_pillar() -> None:
    document = small_dict()
    document["controls"][1]["pillar"] = "safety"
    error = error_for(document)
    assert (error.path, error.problem) == ("$.controls[1].pillar", "unknown pillar 'safety' (known: security, privacy)")


def test_missing_statement() -> None:
    document = small_dict()
    del document["controls"][1]["statement"]
    error = error_for(document)
    assert (error.path, error.problem) == ("$.controls[1].statement", "missing required field")


def test_blank_statement() -> None:
    document = small_dict()
    document["controls"][1]["statement"] = "   "
    error = error_for(document)
    assert (error.path, error.problem) == ("$.controls[1].statement", "must not be empty")


def test_missing_top_level_field() -> None:
    document = small_dict()
    del document["controls"]
    error = error_for(document)
    assert (error.path, error.problem) == ("$.controls", "missing required field")


def test_wrong_type() -> None:
    document = small_dict()
    document["controls"][0]["title"] = 5
    error = error_for(document)
    assert (error.path, error.problem) == ("$.controls[0].title", "expected `str`, got `int`")


def test_wrong_type_in_toml_reports_the_same_path() -> None:
    bad = SMALL_TOML.replace('version = "1.0.0"', "version = 1.0")
    with pytest.raises(CatalogError) as caught:
        decode_catalog(bad.encode(), source=SOURCE, format="toml")
    assert (caught.value.path, caught.value.problem) == ("$.version", "expected `str`, got `float`")


def test_unknown_field() -> None:
    document = small_dict()
    document["controls"][0]["colour"] = "blue"
    error = error_for(document)
    assert (error.path, error.problem) == ("$.controls[0].colour", "unknown field")


def test_bad_toml_gives_line_and_column() -> None:
    bad = SMALL_TOML.replace('title = "First control"', 'title = "First control')
    with pytest.raises(CatalogError) as caught:
        decode_catalog(bad.encode(), source="bad.toml", format="toml")
    error = caught.value
    line = SMALL_TOML.splitlines().index('title = "First control"') + 1
    assert error.path == f"line {line}, column 23"
    assert error.problem == "invalid TOML: Illegal character '\\n'"
    assert str(error).startswith(f"bad.toml: line {line}, column 23: invalid TOML")


def test_bad_json() -> None:
    with pytest.raises(CatalogError) as caught:
        decode_catalog(b'{"id": ', source="bad.json", format="json")
    assert (caught.value.source, caught.value.path) == ("bad.json", "$")
    assert caught.value.problem == "invalid JSON: Input data was truncated"


def test_parent_must_exist_share_the_family_and_not_loop() -> None:
    document = small_dict()
    document["controls"][2]["parent"] = "BBB-09"
    error = error_for(document)
    assert (error.path, error.problem) == ("$.controls[2].parent", "unknown parent control 'BBB-09'")

    document = small_dict()
    document["controls"][2]["parent"] = "AAA-01"
    error = error_for(document)
    assert (error.path, error.problem) == ("$.controls[2].parent", "parent 'AAA-01' is in family 'AAA', not 'BBB'")

    document = small_dict()
    document["controls"][1]["parent"] = "BBB-01.1"
    error = error_for(document)
    assert error.path == "$.controls[1].parent"
    assert error.problem == "parent chain of 'BBB-01' loops back through 'BBB-01'"


def test_mapping_reference_must_have_the_framework_shape() -> None:
    document = small_dict()
    document["controls"][0]["mappings"][0]["ref"] = "A.5.38"  # Annex A theme 5 stops at A.5.37
    error = error_for(document)
    assert error.path == "$.controls[0].mappings[0].ref"
    assert error.problem == (
        "'A.5.38' is not a valid ISO/IEC 27001:2022 Annex A reference (expected A.<theme 5-8>.<control>, e.g. A.5.24)"
    )


def test_source_must_cite_a_declared_document() -> None:
    document = small_dict()
    document["controls"][1]["sources"][0]["document"] = "unknown-seed"
    error = error_for(document)
    assert error.path == "$.controls[1].sources[0].document"
    assert error.problem == "unknown source document 'unknown-seed' (known: seed)"


def test_ids_and_version_must_match_their_patterns() -> None:
    document = small_dict()
    document["controls"][0]["id"] = "AAA 01"
    error = error_for(document)
    assert error.path == "$.controls[0].id"
    assert error.problem == "control id 'AAA 01' is not a valid id (letters, digits, '.', '_', '-')"

    document = small_dict()
    document["version"] = "v1"
    assert error_for(document).path == "$.version"

    document = small_dict()
    document["id"] = "Test Catalog"
    assert error_for(document).path == "$.id"


def test_single_line_fields_refuse_newlines_and_padding() -> None:
    document = small_dict()
    document["controls"][0]["evidence_expected"] = ["A policy\ndocument"]
    error = error_for(document)
    assert (error.path, error.problem) == ("$.controls[0].evidence_expected[0]", "must be a single line")

    document = small_dict()
    document["controls"][0]["title"] = " First control"
    error = error_for(document)
    assert (error.path, error.problem) == ("$.controls[0].title", "leading or trailing whitespace")


def test_complete_catalogs_need_evidence_mappings_sources_and_guidance() -> None:
    for field, problem in [
        ("evidence_expected", "must list the evidence expected"),
        ("mappings", "must map to at least one external framework"),
        ("sources", "must cite the source paragraph it implements"),
        ("guidance", "must not be empty"),
    ]:
        document = small_dict()
        del document["controls"][0][field]
        error = error_for(document)
        assert (error.path, error.problem) == (f"$.controls[0].{field}", problem)
        # Imported catalogs (OSCAL) carry none of these; they are checked without the completeness rules.
        assert decode_json_document(document, complete=False).controls[0].id == "AAA-01"


def test_every_control_needs_a_category() -> None:
    document = small_dict()
    document["controls"][0]["categories"] = []
    error = error_for(document, complete=False)
    assert (error.path, error.problem) == ("$.controls[0].categories", "must list at least one provider category")


def test_complete_catalog_refuses_an_empty_family() -> None:
    document = small_dict()
    document["families"].append({"id": "CCC", "title": "Empty family"})
    error = error_for(document)
    assert (error.path, error.problem) == ("$.families[2]", "family 'CCC' has no controls")


def test_controls_are_put_in_family_order_with_children_after_parents() -> None:
    document = small_dict()
    document["controls"].reverse()
    catalog = decode_json_document(document)
    assert [control.id for control in catalog.controls] == ["AAA-01", "BBB-01", "BBB-01.1"]


def test_json_encoding_round_trips() -> None:
    catalog = small_catalog()
    assert decode_catalog(encode_catalog(catalog), source="x.json", format="json") == catalog


def test_load_catalog_reads_both_formats(tmp_path: Path) -> None:
    toml_file = tmp_path / "small.toml"
    toml_file.write_text(SMALL_TOML, encoding="utf-8")
    json_file = tmp_path / "small.json"
    json_file.write_bytes(encode_catalog(small_catalog()))
    assert load_catalog(toml_file) == load_catalog(json_file) == small_catalog()


def test_load_catalog_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(CatalogError) as caught:
        load_catalog(missing)
    assert (caught.value.source, caught.value.path) == (str(missing), "$")
    assert caught.value.problem == "cannot read file: No such file or directory"

    other = tmp_path / "catalog.yaml"
    other.write_text("id: x")
    with pytest.raises(CatalogError) as caught:
        load_catalog(other)
    assert caught.value.problem == "unsupported file type '.yaml': use .toml or .json"

    broken = tmp_path / "broken.toml"
    broken.write_text(SMALL_TOML.replace('family = "AAA"', 'family = "AAX"'), encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_catalog(broken)
    assert str(caught.value) == f"{broken}: $.controls[0].family: unknown family 'AAX' (families: AAA, BBB)"


def test_toml_that_is_not_utf8() -> None:
    with pytest.raises(CatalogError) as caught:
        decode_catalog(b'id = "\xff"', source=SOURCE, format="toml")
    assert (caught.value.path, caught.value.problem) == ("byte 6", "not UTF-8 text: invalid start byte")


def test_unknown_format() -> None:
    with pytest.raises(CatalogError) as caught:
        decode_catalog(b"", source=SOURCE, format="yaml")  # type: ignore[arg-type]
    assert caught.value.problem == "unknown catalog format 'yaml' (expected 'toml' or 'json')"
