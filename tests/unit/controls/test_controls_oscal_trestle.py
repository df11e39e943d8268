"""The OSCAL round trip checked by an independent implementation: compliance-trestle's pydantic models.

NIST's catalogs imported and exported again must parse with trestle and keep, control by control, the same
parameters, parts and links as the source; the baseline's export must parse too and carry its Arabic.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from controls_testdata import oscal_path
from trestle.oscal.catalog import Catalog as TrestleCatalog
from trestle.oscal.catalog import Control as TrestleControl

from controls import OSCAL_NS, baseline_catalog, catalog_digest, from_oscal, to_oscal

LOW, PRIVACY = "low", "privacy"  # the NIST samples of controls_testdata (skipped without ../shared)


def _trestle(document: dict[str, Any]) -> TrestleCatalog:
    return TrestleCatalog.model_validate(document["catalog"])


def _controls(catalog: TrestleCatalog) -> dict[str, TrestleControl]:
    found: dict[str, TrestleControl] = {}

    def walk(controls: list[TrestleControl] | None) -> None:
        for control in controls or []:
            found[control.id] = control
            walk(control.controls)

    for group in catalog.groups or []:
        walk(group.controls)
    walk(catalog.controls)
    return found


def _dump(items: list[Any] | None) -> list[Any]:
    return [item.model_dump(mode="json", exclude_none=True, by_alias=True) for item in items or []]


def _foreign_parts(control: TrestleControl) -> list[Any]:
    # The portal adds its translation parts (project namespace); everything else must be the source's.
    return [part for part in _dump(control.parts) if part.get("ns") != OSCAL_NS]


def _foreign_props(control: TrestleControl) -> list[Any]:
    return [prop for prop in _dump(control.props) if prop.get("ns") != OSCAL_NS]


def _round_trip(name: str) -> tuple[TrestleCatalog, TrestleCatalog, dict[str, Any]]:
    data = oscal_path(name).read_bytes()
    exported = to_oscal(from_oscal(data, source=name))
    encoded = json.loads(json.dumps(exported))
    return _trestle(json.loads(data)), _trestle(encoded), encoded


def test_nist_low_ac2_keeps_its_parameters_parts_links_and_statement_items() -> None:
    source, exported, _ = _round_trip(LOW)
    before, after = _controls(source)["ac-2"], _controls(exported)["ac-2"]
    assert (len(before.params or []), len(before.parts or []), len(before.links or [])) == (10, 6, 31)
    assert (len(after.params or []), len(_foreign_parts(after)), len(after.links or [])) == (10, 6, 31)
    assert _dump(after.params) == _dump(before.params)
    assert _foreign_parts(after) == _dump(before.parts)
    assert _dump(after.links) == _dump(before.links)
    names = [part.name for part in after.parts or []]
    assert names == [
        "statement",
        "guidance",
        "assessment-objective",
        "assessment-method",
        "assessment-method",
        "assessment-method",
    ]
    statement = next(part for part in after.parts or [] if part.name == "statement")
    # The statement's items stay items (a. … l.), not one flattened prose.
    assert len(statement.parts or []) == 12 and statement.prose is None


@pytest.mark.parametrize("name", [LOW, PRIVACY])
def test_every_nist_control_keeps_its_params_parts_links_and_props(name: str) -> None:
    source, exported, encoded = _round_trip(name)
    before, after = _controls(source), _controls(exported)
    assert list(after) == list(before)
    for control_id, original in before.items():
        copy = after[control_id]
        assert _dump(copy.params) == _dump(original.params), control_id
        assert _foreign_parts(copy) == _dump(original.parts), control_id
        assert _dump(copy.links) == _dump(original.links), control_id
        assert _foreign_props(copy) == _dump(original.props), control_id
    # Metadata and back-matter (the resources the links point at) come back whole.
    assert exported.uuid == source.uuid
    assert _dump(exported.back_matter.resources if exported.back_matter else []) == _dump(
        source.back_matter.resources if source.back_matter else []
    )
    original_metadata = source.metadata.model_dump(mode="json", exclude_none=True, by_alias=True)
    copied_metadata = exported.metadata.model_dump(mode="json", exclude_none=True, by_alias=True)
    copied_metadata["props"] = [p for p in copied_metadata.get("props", []) if p.get("ns") != OSCAL_NS]
    assert copied_metadata == original_metadata
    # And a second import gives the same catalog.
    assert catalog_digest(from_oscal(json.dumps(encoded).encode())) == catalog_digest(
        from_oscal(oscal_path(name).read_bytes())
    )


def test_the_baseline_export_parses_with_trestle_and_carries_the_arabic() -> None:
    baseline = baseline_catalog()
    document = json.loads(json.dumps(to_oscal(baseline)))
    controls = _controls(_trestle(document))
    assert len(controls) == len(baseline.controls)
    con03 = controls["CON-03"]
    arabic = next(part for part in con03.parts or [] if str(part.ns) == OSCAL_NS and part.class_ == "lang-ar")
    text = baseline.control("CON-03").translations["ar"]
    assert arabic.name == "translation" and arabic.title == text.title
    inner = {part.name: part.prose for part in arabic.parts or []}
    assert inner["statement"] == text.statement and inner["guidance"] == text.guidance
    group = next(g for g in _trestle(document).groups or [] if g.id == "CON")
    assert [p.title for p in group.parts or [] if p.class_ == "lang-ar"] == [
        baseline.family("CON").translations["ar"].title
    ]
    assert catalog_digest(from_oscal(json.dumps(document).encode())) == catalog_digest(baseline)
