"""OSCAL import and export: the baseline round-trips to the same digest; the NIST samples import faithfully."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from controls_testdata import oscal_path, small_catalog

from controls import (
    OSCAL_NS,
    CatalogError,
    Pillar,
    ProviderCategory,
    applicable_controls,
    baseline_catalog,
    catalog_digest,
    from_oscal,
    to_oscal,
)

INSERT = re.compile(r"\{\{\s*insert:[^}]*\}\}")
TOKEN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


# ─── independent readers of the raw OSCAL JSON ────────────────────────────────────────────────────────────


def raw_controls(document: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Every control of a raw OSCAL catalog with the id of the control it is nested in."""

    def walk(controls: list[dict[str, Any]], parent: str | None) -> Iterator[tuple[dict[str, Any], str | None]]:
        for control in controls:
            yield control, parent
            yield from walk(control.get("controls", []), control["id"])

    def groups(items: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], str | None]]:
        for group in items:
            yield from walk(group.get("controls", []), None)
            yield from groups(group.get("groups", []))

    catalog = document["catalog"]
    yield from groups(catalog.get("groups", []))
    yield from walk(catalog.get("controls", []), None)


def statement_fragments(control: dict[str, Any]) -> list[str]:
    """The literal text pieces of a control's statement: prose split around parameter inserts, and labels."""
    fragments: list[str] = []

    def collect(part: dict[str, Any]) -> None:
        for prop in part.get("props", []):
            if prop["name"] == "label":
                fragments.append(prop["value"])
        fragments.extend(piece.strip() for piece in INSERT.split(part.get("prose", "")) if piece.strip())
        for child in part.get("parts", []):
            collect(child)

    for part in control.get("parts", []):
        if part["name"] == "statement":
            collect(part)
    return fragments


def load_raw(name: str) -> tuple[bytes, dict[str, Any]]:
    data = oscal_path(name).read_bytes()
    return data, json.loads(data)


# ─── the baseline ─────────────────────────────────────────────────────────────────────────────────────────


def test_baseline_export_then_import_gives_the_same_digest() -> None:
    baseline = baseline_catalog()
    document = to_oscal(baseline)
    again = from_oscal(json.dumps(document).encode())
    assert again == baseline
    assert catalog_digest(again) == catalog_digest(baseline)
    # and from the dict form
    assert catalog_digest(from_oscal(document)) == catalog_digest(baseline)


def test_small_catalog_with_parent_and_published_date_round_trips() -> None:
    catalog = small_catalog()
    document = to_oscal(catalog)
    bbb = document["catalog"]["groups"][1]
    assert [c["id"] for c in bbb["controls"]] == ["BBB-01"]
    assert [c["id"] for c in bbb["controls"][0]["controls"]] == ["BBB-01.1"]
    assert from_oscal(document) == catalog


def test_export_is_deterministic_and_identified_by_id_and_version() -> None:
    baseline = baseline_catalog()
    first, second = to_oscal(baseline), to_oscal(baseline)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    catalog = first["catalog"]
    expected = uuid.uuid5(uuid.NAMESPACE_URL, f"{OSCAL_NS}:catalog:ppa-baseline:1.1.0")
    assert catalog["uuid"] == str(expected)
    metadata = catalog["metadata"]
    assert metadata["title"] == baseline.title
    assert metadata["version"] == "1.1.0"
    assert metadata["oscal-version"] == "1.1.2"
    assert metadata["last-modified"] == f"{baseline.published}T00:00:00Z"
    arabic = baseline.translations["ar"]
    assert metadata["props"] == [
        {"name": "catalog-id", "value": "ppa-baseline", "ns": OSCAL_NS},
        {
            "name": "translation",
            "value": arabic.title,
            "ns": OSCAL_NS,
            "class": "lang-ar",
            "remarks": arabic.description,
        },
    ]


def test_export_has_the_shape_of_an_oscal_catalog() -> None:
    baseline = baseline_catalog()
    catalog = to_oscal(baseline)["catalog"]
    uuid.UUID(catalog["uuid"])
    assert [group["id"] for group in catalog["groups"]] == [family.id for family in baseline.families]
    exported = []
    for group in catalog["groups"]:
        assert group["class"] == "family" and group["title"]
        for control in group["controls"]:
            exported.append(control["id"])
            assert TOKEN.match(control["id"]) and control["title"]
            assert control["parts"][0] == {
                "id": f"{control['id']}_smt",
                "name": "statement",
                "prose": baseline.control(control["id"]).statement,
            }
            for prop in control["props"]:
                assert TOKEN.match(prop["name"]) and prop["ns"] == OSCAL_NS
                # OSCAL prop values are single-line strings without surrounding whitespace.
                assert prop["value"] == prop["value"].strip() and "\n" not in prop["value"]
    assert exported == [control.id for control in baseline.controls]
    resources = catalog["back-matter"]["resources"]
    assert [r["title"] for r in resources] == [d.title for d in baseline.source_documents]


def test_export_carries_pillar_categories_evidence_mappings_and_sources_as_props() -> None:
    baseline = baseline_catalog()
    control = baseline.control("CON-03")
    exported = next(c for g in to_oscal(baseline)["catalog"]["groups"] for c in g["controls"] if c["id"] == "CON-03")
    props = [(p["name"], p.get("class"), p["value"]) for p in exported["props"]]
    assert ("pillar", None, "privacy") in props
    assert [v for n, _, v in props if n == "category"] == [c.value for c in control.categories]
    assert [v for n, _, v in props if n == "evidence"] == control.evidence_expected
    assert ("mapping", "gdpr", "Art. 7(3)") in props
    assert ("source", "ict-authority-proposal", "15") in props


# ─── the NIST samples ─────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("name", "controls", "families"),
    [("basic", 4, 2), ("low", 149, 18), ("privacy", 102, 16)],
)
def test_nist_import_preserves_every_control_id_parent_and_statement(name: str, controls: int, families: int) -> None:
    data, raw = load_raw(name)
    catalog = from_oscal(data, source=name)
    raw_list = list(raw_controls(raw))
    assert len(raw_list) == controls
    assert len(catalog.controls) == controls
    assert len(catalog.families) == families
    assert [c.id for c in catalog.controls] == [c["id"] for c, _ in raw_list]
    assert {c.id: c.parent for c in catalog.controls} == {c["id"]: parent for c, parent in raw_list}
    for raw_control, _ in raw_list:
        imported = catalog.control(raw_control["id"])
        assert imported.title == raw_control["title"].strip()
        fragments = statement_fragments(raw_control)
        assert fragments, raw_control["id"]
        for fragment in fragments:
            assert fragment in imported.statement, (raw_control["id"], fragment)
        assert "{{" not in imported.statement
        assert set(imported.categories) == set(ProviderCategory)


@pytest.mark.parametrize("name", ["basic", "low", "privacy"])
def test_nist_import_export_import_is_stable(name: str) -> None:
    data, _ = load_raw(name)
    catalog = from_oscal(data)
    again = from_oscal(json.dumps(to_oscal(catalog)).encode())
    assert catalog_digest(again) == catalog_digest(catalog)


def test_nist_low_baseline_details() -> None:
    data, _ = load_raw("low")
    catalog = from_oscal(data)
    # The title's release number is the version's: the id stays the same for every release, and is short.
    assert catalog.id == "nist-sp-800-53-rev5-low-impact-baseline"
    assert catalog.version == "5.1.1+u4"
    assert str(catalog.published) == "2024-02-13"
    assert {c.pillar for c in catalog.controls} == {Pillar.security}
    assert catalog.family("ac").title == "Access Control"
    ac2 = catalog.control("ac-2")
    assert ac2.statement.splitlines()[:3] == [
        "a. Define and document the types of accounts allowed and specifically prohibited for use within the system;",
        "b. Assign account managers;",
        "c. Require [Assignment: prerequisites and criteria] for group and role membership;",
    ]
    assert "  1. Authorized users of the system;" in ac2.statement.splitlines()
    ac1 = catalog.control("ac-1")
    # A parameter referenced by its alt-identifier, and a selection parameter.
    assert ac1.statement.startswith("a. Develop, document, and disseminate to [Assignment: organization-defined")
    assert "[Selection (one or more): organization-level; mission/business process-level; system-level]" in (
        ac1.statement
    )
    assert ac2.guidance.startswith("Examples of system account types include")
    assert [(p.name, p.value) for p in ac2.props if p.name == "sort-id"] == [("sort-id", "ac-02")]
    assert catalog.control("ia-2.1").parent == "ia-2"


def test_nist_privacy_baseline_controls_are_privacy_pillar() -> None:
    data, _ = load_raw("privacy")
    catalog = from_oscal(data, catalog_id="nist-800-53-privacy", version="5.1.1")
    assert (catalog.id, catalog.version) == ("nist-800-53-privacy", "5.1.1")
    assert {c.pillar for c in catalog.controls} == {Pillar.privacy}
    assert catalog.family("pt").pillar is Pillar.privacy
    assert catalog.family("pm").description.startswith("[FISMA]")


def test_basic_catalog_nested_groups_are_flattened() -> None:
    data, _ = load_raw("basic")
    catalog = from_oscal(data)
    assert [(f.id, f.title) for f in catalog.families] == [
        ("s1.1", "Organization of Information Security — Internal Organization"),
        ("s2.1", "Access control — Business requirements of access control"),
    ]
    assert catalog.family("s2.1").description == "To limit access to information and information processing facilities."
    segregation = catalog.control("s1.1.2")
    assert segregation.statement == (
        "Conflicting duties and areas of responsibility should be segregated to reduce opportunities for "
        "unauthorized or unintentional modification or misuse of the organization’s assets."
    )
    assert segregation.guidance.startswith("Care should be taken that no single person")
    roles = catalog.control("s1.1.1")
    assert "[Selection (one or more): initiating a device lock after [Assignment: a duration] of inactivity;" in (
        roles.statement
    )


# ─── synthetic documents ──────────────────────────────────────────────────────────────────────────────────


def synthetic(**catalog: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "uuid": "00000000-0000-4000-8000-000000000000",
        "metadata": {
            "title": "Synthetic Privacy Catalog",
            "last-modified": "2024-05-01T10:00:00Z",
            "version": "2",
            "oscal-version": "1.1.2",
        },
    }
    base.update(catalog)
    return {"catalog": base}


def test_ungrouped_controls_withdrawn_controls_and_unknown_params() -> None:
    document = synthetic(
        controls=[
            {
                "id": "x-1",
                "title": "Kept",
                "parts": [{"name": "statement", "prose": "Do {{ insert: param, x-1_prm_9 }} now."}],
            },
            {"id": "x-2", "title": "Gone", "props": [{"name": "status", "value": "withdrawn"}]},
        ]
    )
    catalog = from_oscal(document)
    assert catalog.id == "synthetic-privacy-catalog"
    assert [(f.id, f.pillar) for f in catalog.families] == [("ungrouped", Pillar.privacy)]
    # A withdrawn control is kept, marked, and applies to no provider.
    assert [(c.id, c.withdrawn) for c in catalog.controls] == [("x-1", False), ("x-2", True)]
    assert [c.id for c in applicable_controls(catalog, ProviderCategory.cloud_hosting)] == ["x-1"]
    assert catalog.control("x-2").statement == ""
    assert catalog.control("x-1").statement == "Do [Assignment: x-1_prm_9] now."


def test_structural_errors_name_the_place_in_the_oscal_document() -> None:
    document = synthetic(groups=[{"id": "g", "title": "G", "controls": [{"id": "g-1"}]}])
    with pytest.raises(CatalogError) as caught:
        from_oscal(document, source="bad-oscal.json")
    assert str(caught.value) == (
        "bad-oscal.json: $.catalog.groups[0].controls[0]: object missing required field `title`"
    )


def test_a_control_without_statement_is_refused() -> None:
    document = synthetic(groups=[{"id": "g", "title": "G", "controls": [{"id": "g-1", "title": "T"}]}])
    with pytest.raises(CatalogError) as caught:
        from_oscal(document)
    assert (caught.value.path, caught.value.problem) == (
        "$.catalog.groups[0].controls[0].parts",
        "control 'g-1' has no statement part",
    )


def test_unknown_project_prop_values_are_refused() -> None:
    control = {
        "id": "g-1",
        "title": "T",
        "props": [{"name": "category", "ns": OSCAL_NS, "value": "bakery"}],
        "parts": [{"name": "statement", "prose": "S."}],
    }
    document = synthetic(groups=[{"id": "g", "title": "G", "controls": [control]}])
    with pytest.raises(CatalogError) as caught:
        from_oscal(document)
    assert caught.value.path == "$.catalog.groups[0].controls[0].props[0].value"
    assert caught.value.problem.startswith("unknown provider category 'bakery' (known: telecom_operator")


def test_invalid_json_is_a_catalog_error() -> None:
    with pytest.raises(CatalogError) as caught:
        from_oscal(b"{not json", source="x.json")
    assert caught.value.problem.startswith("invalid JSON:")
