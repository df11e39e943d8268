"""The model's enums and lookups."""

from __future__ import annotations

import pytest
from controls_testdata import small_catalog

from controls import Framework, Pillar, ProviderCategory, applicable_controls


def test_provider_categories_are_defined_once_with_labels() -> None:
    assert [category.value for category in ProviderCategory] == [
        "telecom_operator",
        "infrastructure_provider",
        "cloud_hosting",
        "equipment_manufacturer",
        "device_manufacturer",
        "software_producer",
        "digital_platform",
    ]
    assert ProviderCategory.cloud_hosting.label == "Cloud and hosting provider"
    assert all(category.label for category in ProviderCategory)
    assert Pillar.privacy.label == "Privacy and data protection"
    assert Framework.iso27001_2022.label == "ISO/IEC 27001:2022 Annex A"


def test_applicable_controls_filters_by_category_in_catalog_order() -> None:
    catalog = small_catalog()
    assert [c.id for c in applicable_controls(catalog, ProviderCategory.digital_platform)] == ["BBB-01", "BBB-01.1"]
    assert [c.id for c in applicable_controls(catalog, ProviderCategory.cloud_hosting)] == ["AAA-01"]
    assert applicable_controls(catalog, ProviderCategory.device_manufacturer) == []


def test_lookups() -> None:
    catalog = small_catalog()
    assert catalog.control("BBB-01.1").parent == "BBB-01"
    assert catalog.family("BBB").pillar is Pillar.privacy
    assert [c.id for c in catalog.controls_in("BBB")] == ["BBB-01", "BBB-01.1"]
    with pytest.raises(KeyError):
        catalog.control("ZZZ-01")
