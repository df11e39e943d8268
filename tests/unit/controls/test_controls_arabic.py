"""The baseline's Arabic text: complete, in the digest, and quoting the seed's own Arabic verbatim."""

from __future__ import annotations

import re

import msgspec
import pytest
from controls_testdata import SHARED

from controls import CatalogError, baseline_catalog, catalog_digest, localized, shown_language
from controls.loader import BUILTIN_CATALOG_DIR, builtin_catalog_paths, decode_catalog
from controls.translation import TranslationFile, apply_translation

ARABIC = re.compile(r"[\u0600-\u06ff]")
SEEDS = SHARED / "seeds"


def test_every_family_and_control_has_arabic_title_statement_guidance_and_evidence() -> None:
    baseline = baseline_catalog()
    assert ARABIC.search(baseline.translations["ar"].title)
    for family in baseline.families:
        text = family.translations["ar"]
        assert ARABIC.search(text.title) and ARABIC.search(text.description), family.id
    for control in baseline.controls:
        text = control.translations["ar"]
        assert ARABIC.search(text.title), control.id
        assert ARABIC.search(text.statement) and ARABIC.search(text.guidance), control.id
        assert len(text.evidence_expected) == len(control.evidence_expected) > 0, control.id
        assert all(ARABIC.search(item) for item in text.evidence_expected), control.id
    assert len(baseline.controls) == 106 and len(baseline.families) == 16


def test_the_arabic_is_part_of_the_digest() -> None:
    baseline = baseline_catalog()
    english_only = decode_catalog((BUILTIN_CATALOG_DIR / "baseline.toml").read_bytes(), source="x", format="toml")
    assert english_only.translations == {}
    assert catalog_digest(english_only) != catalog_digest(baseline)
    one_word = msgspec.structs.replace(
        baseline.control("CON-01"),
        translations={"ar": msgspec.structs.replace(baseline.control("CON-01").translations["ar"], title="موافقة")},
    )
    changed = msgspec.structs.replace(
        baseline, controls=[one_word if c.id == "CON-01" else c for c in baseline.controls]
    )
    assert catalog_digest(changed) != catalog_digest(baseline)


def test_the_translation_file_is_not_a_catalog_of_its_own() -> None:
    assert [path.name for path in builtin_catalog_paths()] == ["baseline.toml"]


def test_ipu_excerpts_are_verbatim_from_the_resolutions_arabic_text() -> None:
    seeds = sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []
    if not seeds:
        pytest.skip("../shared/seeds not found: the seed documents live outside the repo")
    text = "\n".join(path.read_text(encoding="utf-8") for path in seeds)
    quoted = {ref.excerpts["ar"] for c in baseline_catalog().controls for ref in c.sources if "ar" in ref.excerpts}
    assert len(quoted) == 23
    for excerpt in quoted:
        assert excerpt in text, excerpt
    # The ICT authority's proposal has no Arabic text: its excerpts stay English only.
    for control in baseline_catalog().controls:
        for ref in control.sources:
            assert ("ar" in ref.excerpts) == (ref.document == "ipu-manama-resolution"), control.id


def test_localized_reads_the_catalog_in_a_language_it_has() -> None:
    baseline = baseline_catalog()
    arabic = localized(baseline, "ar")
    assert shown_language(baseline, "ar") == "ar" and shown_language(baseline, "fr") == "en"
    assert arabic.control("LAW-01").title == baseline.control("LAW-01").translations["ar"].title
    assert arabic.control("LAW-01").mappings == baseline.control("LAW-01").mappings
    assert localized(baseline, "fr") is baseline


def test_a_translation_of_an_unknown_control_is_refused() -> None:
    baseline = baseline_catalog()
    translation = TranslationFile(
        language="ar", title="x", controls={"NOPE-1": baseline.controls[0].translations["ar"]}
    )
    with pytest.raises(CatalogError) as caught:
        apply_translation(baseline, translation, source="t.ar.toml")
    assert str(caught.value) == "t.ar.toml: $.NOPE-1: the catalog has no control 'NOPE-1'"
