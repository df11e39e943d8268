"""The registry's pure rules: search normalisation, the row builder, percentiles, Atom ids, charts."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

from portal.domain.registry.charts import Bar, bar_chart
from portal.domain.registry.feed import entry_id
from portal.domain.registry.rows import may_be_in_serial, normalise, registry_row, search_text, terms, text_key
from portal.domain.registry.stats import days, percentile

DOCUMENT = {
    "provider": {"name": "Gulf Telecom", "legal_name": "Gulf Telecommunications B.S.C.", "category": "telecom_operator",
                 "country": "BH", "registration": "CR-10442"},
    "scope": {"summary": "Broadband", "services": ["FTTH"], "products": [{"name": "Router", "model": "GT-R5"}],
              "sites": ["Manama"]},
    "catalog": {"id": "ppa-baseline", "version": "1.0", "sha256": "ab" * 32},
    "revision": {"number": 1, "sha256": "cd" * 32},
    "level": "full",
    "result": {"GOV": {"controls": 2, "implemented": 2}},
    "conditions": [],
}  # fmt: skip


def test_normalise_folds_case_accents_arabic_letter_forms_and_like_wildcards() -> None:
    assert normalise("  Gulf   TELECOM ") == "gulf telecom"
    assert normalise("Café") == "cafe"
    assert normalise("الخليج للإتصالات") == normalise("الخليج للاتصالات") == "الخليج للاتصالات"
    assert normalise("مَدْرَسَة") == "مدرسه"
    assert normalise("100% off_road") == "100 off road"
    assert terms("GT-R5  camera") == ["gt-r5", "camera"]


def test_a_row_holds_only_the_public_document_and_its_search_text() -> None:
    at = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    row = registry_row(
        serial="PA-2026-000001", organisation=uuid.uuid4(), document=DOCUMENT, name_ar="الخليج", status="active",
        level="full", valid_from=at, expires_at=at, superseded_by=None, updated_at=at,
    )  # fmt: skip
    assert set(row.document) == {"provider", "scope", "catalog", "level", "result"}
    assert row.document["catalog"] == {"id": "ppa-baseline", "version": "1.0"}
    assert row.document["provider"]["name_ar"] == "الخليج" and row.sort_name == "gulf telecom"
    text = search_text(row.document)
    assert text == "gulf telecom الخليج gulf telecommunications b.s.c. cr-10442 ftth router gt-r5"
    assert "manama" not in text  # sites are shown, not searched
    profile = f"telecom_operator\nBH\n{text}".encode()
    assert row.text == text_key(text, category="telecom_operator", country="BH")
    assert row.text == uuid.UUID(hashlib.sha256(profile).hexdigest()[:32])
    assert row.text != text_key(text, category="telecom_operator", country="AE")
    # The serial is matched on its own column, not copied into every text (renewals share one).
    assert "pa-2026" not in text


def test_a_serial_holds_only_the_characters_a_search_looks_for_in_serials() -> None:
    assert all(may_be_in_serial(normalise(serial)) for serial in ("PA-2026-000001", "PA-1999-999999"))
    assert may_be_in_serial("2026") and may_be_in_serial("pa-2026-00") and may_be_in_serial("-")
    assert not may_be_in_serial("gulf") and not may_be_in_serial("cr-10442") and not may_be_in_serial("pa2026x")


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([1, 2, 11], 0.5) == 2
    assert percentile([1, 2, 11], 0.9) == 9.2
    assert percentile([4, 1, 3, 2], 0.5) == 2.5
    assert days(86400 * 1.5) == 1.5 and days(3600) == 0.0


def test_atom_entry_ids_depend_only_on_the_log_and_the_index() -> None:
    assert entry_id("portal.example/log", 7) == entry_id("portal.example/log", 7)
    assert entry_id("portal.example/log", 7) != entry_id("portal.example/log", 8)
    assert entry_id("portal.example/log", 7).startswith("urn:uuid:")


def test_charts_escape_labels_and_carry_title_and_description() -> None:
    svg = bar_chart("c1", "By <status>", "active: 2", [Bar("<b>", 2), Bar("zero", 0)])
    assert '<title id="c1-title">By &lt;status&gt;</title>' in svg and '<desc id="c1-desc">active: 2</desc>' in svg
    assert "<b>" not in svg and 'aria-labelledby="c1-title c1-desc"' in svg and "style=" not in svg
    assert 'width="300.0"' in svg and 'width="0.0"' in svg
