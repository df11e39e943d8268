"""Invariants of the built-in baseline catalog: size, coverage, completeness, and faithful seed citations."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from controls_testdata import SEEDS_DIR

from controls import (
    Catalog,
    Framework,
    Pillar,
    ProviderCategory,
    applicable_controls,
    baseline_catalog,
    builtin_catalog_paths,
)
from controls.loader import BUILTIN_CATALOG_DIR
from controls.validation import check_mapping_ref

ALL = set(ProviderCategory)
MAKERS = {ProviderCategory.device_manufacturer, ProviderCategory.equipment_manufacturer}


@pytest.fixture(scope="module")
def baseline() -> Catalog:
    return baseline_catalog()


def refs(catalog: Catalog, framework: Framework) -> set[str]:
    return {m.ref for c in catalog.controls for m in c.mappings if m.framework is framework}


def test_identity_and_size(baseline: Catalog) -> None:
    assert (baseline.id, baseline.version) == ("ppa-baseline", "1.1.0")
    assert builtin_catalog_paths() == [BUILTIN_CATALOG_DIR / "baseline.toml"]
    assert len(baseline.controls) >= 60
    assert len(baseline.families) >= 14
    pillars = Counter(control.pillar for control in baseline.controls)
    assert pillars[Pillar.security] >= 20 and pillars[Pillar.privacy] >= 20


def test_every_area_of_the_design_has_a_family_with_controls(baseline: Catalog) -> None:
    areas = {
        "GOV": "Security governance and policy",
        "IAM": "Identity verification and access control",
        "VUL": "Vulnerability management and intrusion prevention",
        "CVD": "Coordinated vulnerability disclosure",
        "INC": "Incident detection, response and reporting",
        "LOG": "Logging and forensic readiness",
        "SCM": "Supply-chain security",
        "CIR": "Critical-infrastructure resilience",
        "PRV": "Privacy policy and data protection",
        "CON": "Consent",
        "LAW": "Lawful access and cooperation with judicial authorities",
        "PSM": "Product security for manufacturers",
        "SSD": "Secure software development",
        "VUS": "Protection of vulnerable users",
        "HRA": "Human rights",
        "AWR": "Awareness and training",
    }
    assert {family.id: family.title for family in baseline.families} == areas
    for family_id in areas:
        assert len(baseline.controls_in(family_id)) >= 3, family_id


def test_ids_are_readable_and_match_their_family(baseline: Catalog) -> None:
    for control in baseline.controls:
        assert re.fullmatch(r"[A-Z]{3}-\d{2}", control.id), control.id
        assert control.id.startswith(control.family + "-")
    assert len({control.id for control in baseline.controls}) == len(baseline.controls)


def test_every_control_is_complete(baseline: Catalog) -> None:
    for control in baseline.controls:
        assert control.statement and control.guidance and control.title, control.id
        assert control.categories and control.evidence_expected, control.id
        assert control.mappings and control.sources, control.id
        assert all(source.excerpt for source in control.sources), control.id
        for mapping in control.mappings:
            assert check_mapping_ref(mapping.framework, mapping.ref) is None, (control.id, mapping.ref)


def test_each_category_has_controls_and_not_everything_applies_to_everyone(baseline: Catalog) -> None:
    for category in ProviderCategory:
        applicable = applicable_controls(baseline, category)
        assert 40 <= len(applicable) < len(baseline.controls), category
        assert {control.pillar for control in applicable} == {Pillar.security, Pillar.privacy}, category


def test_targeted_controls_reach_the_right_providers(baseline: Catalog) -> None:
    etsi = [c for c in baseline.controls if any(m.framework is Framework.etsi_en_303_645 for m in c.mappings)]
    assert {c.family for c in etsi} >= {"PSM"}
    assert all(set(c.categories) == MAKERS for c in baseline.controls_in("PSM"))
    assert all(ProviderCategory.software_producer in c.categories for c in baseline.controls_in("SSD"))
    lawful_interception = baseline.control("LAW-04")
    assert set(lawful_interception.categories) == {
        ProviderCategory.telecom_operator,
        ProviderCategory.infrastructure_provider,
    }
    assert all(ProviderCategory.telecom_operator in c.categories for c in baseline.controls_in("CIR"))
    assert ProviderCategory.device_manufacturer not in baseline.control("CIR-01").categories
    assert all(ProviderCategory.digital_platform in c.categories for c in baseline.controls_in("VUS"))
    # Governance, consent and human rights apply to every provider.
    for control_id in ("GOV-01", "CON-01", "CON-02", "CON-03", "CON-04", "CON-05", "HRA-02", "AWR-01"):
        assert set(baseline.control(control_id).categories) == ALL, control_id


def test_etsi_en_303_645_core_provisions_are_covered(baseline: Catalog) -> None:
    provisions = refs(baseline, Framework.etsi_en_303_645)
    # No universal default passwords, vulnerability disclosure, support period, secure updates, secure storage,
    # secure communication, minimised attack surface, software integrity, data deletion, input validation.
    required = {"5.1-1", "5.2-1", "5.3-13", "5.3-2", "5.4-1", "5.5-1", "5.6-1", "5.7-1", "5.11-1", "5.13-1", "6-3"}
    assert required <= provisions


def test_ssdf_practice_groups_are_all_covered(baseline: Catalog) -> None:
    tasks = refs(baseline, Framework.nist_ssdf)
    assert {task.split(".")[0] for task in tasks} == {"PO", "PS", "PW", "RV"}
    assert {"PW.4.1", "RV.1.1", "PS.2.1", "PO.1.1"} <= tasks


def test_consent_controls_are_concrete(baseline: Catalog) -> None:
    consent = baseline.controls_in("CON")
    gdpr = {m.ref for c in consent for m in c.mappings if m.framework is Framework.gdpr}
    # per purpose / distinguishable, demonstrable, withdrawable, not bundled
    assert {"Art. 7(1)", "Art. 7(2)", "Art. 7(3)", "Art. 7(4)"} <= gdpr
    text = " ".join(c.statement for c in consent)
    for phrase in (
        "separately for each purpose",
        "timestamp",
        "version of the notice",
        "channel",
        "at least 3 years",
        "no more steps",
        "third party",
        "never made conditional",
    ):
        assert phrase in text, phrase
    assert all(c.pillar is Pillar.privacy for c in consent)


def test_incident_controls_cover_24_7_detection_and_cert_reporting(baseline: Catalog) -> None:
    assert "24 hours a day, 7 days a week" in baseline.control("INC-01").statement
    assert "national CERT" in baseline.control("INC-03").statement
    assert "RS.CO-02" in {m.ref for m in baseline.control("INC-03").mappings}


def test_lawful_access_cites_the_budapest_convention(baseline: Catalog) -> None:
    articles = refs(baseline, Framework.budapest_convention)
    assert {"Art. 15", "Art. 16", "Art. 18", "Art. 21"} <= articles


def test_source_documents_are_the_two_seeds(baseline: Catalog) -> None:
    assert [d.id for d in baseline.source_documents] == ["ict-authority-proposal", "ipu-manama-resolution"]
    cited = Counter(s.document for c in baseline.controls for s in c.sources)
    assert set(cited) == {"ict-authority-proposal", "ipu-manama-resolution"}
    proposal_items = {
        s.paragraph for c in baseline.controls for s in c.sources if s.document == "ict-authority-proposal"
    }
    assert {"6", "9", "15", "16"} <= proposal_items


# ─── the seeds themselves ─────────────────────────────────────────────────────────────────────────────────


def _seed_text(prefix: str) -> str:
    matches = sorted(SEEDS_DIR.glob(f"{prefix}_*.txt")) if SEEDS_DIR.is_dir() else []
    if not matches:
        pytest.skip("../shared/seeds not found: the seed documents live outside the repo")
    return matches[0].read_text(encoding="utf-8")


def _normal(text: str) -> str:
    return " ".join(text.split())


def proposal_paragraphs() -> dict[str, str]:
    text = _seed_text("000")
    return {m[1]: _normal(m[2]) for m in re.finditer(r"^(\d+)\. (.+)$", text, re.MULTILINE)}


def resolution_paragraphs() -> dict[str, str]:
    """English text of the IPU resolution: "PPn" for preambular paragraphs, "n" for operative ones."""
    text = _seed_text("003")
    english = text[text.index("The 146th Assembly of the Inter-Parliamentary Union,") :]
    lines = [line.strip() for line in english.splitlines()[1:] if line.strip()]
    lines = [line for line in lines if not line.startswith(("* The delegation", "The delegation"))]
    first_operative = next(i for i, line in enumerate(lines) if line.startswith("1. "))
    paragraphs = {f"PP{i}": _normal(line) for i, line in enumerate(lines[:first_operative], start=1)}
    for line in lines[first_operative:]:
        match = re.match(r"(\d+)\. (.+)", line)
        if match:
            paragraphs[match[1]] = _normal(match[2])
    return paragraphs


def test_seed_paragraph_numbering_is_what_the_resolution_says() -> None:
    paragraphs = resolution_paragraphs()
    # The footnote records the Russian Federation's reservation on preambular paragraph 11: the Budapest one.
    assert paragraphs["PP11"].startswith("Stressing also that the Council of Europe *Convention on Cybercrime*")
    assert len([key for key in paragraphs if key.startswith("PP")]) == 27
    assert len([key for key in paragraphs if not key.startswith("PP")]) == 26
    assert len(proposal_paragraphs()) == 16


def test_every_excerpt_is_verbatim_in_the_cited_paragraph(baseline: Catalog) -> None:
    seeds = {"ict-authority-proposal": proposal_paragraphs(), "ipu-manama-resolution": resolution_paragraphs()}
    for control in baseline.controls:
        for source in control.sources:
            paragraph = seeds[source.document].get(source.paragraph)
            assert paragraph is not None, (control.id, source.document, source.paragraph)
            assert _normal(source.excerpt or "") in paragraph, (control.id, source.paragraph, source.excerpt)


def test_baseline_file_is_package_data() -> None:
    assert Path(BUILTIN_CATALOG_DIR / "baseline.toml").is_file()
