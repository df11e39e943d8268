"""The catalog data model: catalogs, families, controls and their mappings, as frozen msgspec structs.

Every struct is frozen, keyword-only, refuses unknown fields and omits fields left at their default when
encoded. Omitting defaults keeps a catalog's content digest unchanged when an optional field is later added
to the model — published digests are signed into attestations, so they must not drift.
"""

from __future__ import annotations

import datetime
from enum import StrEnum

import msgspec

__all__ = [
    "Catalog",
    "Control",
    "Family",
    "Framework",
    "Mapping",
    "Pillar",
    "Prop",
    "ProviderCategory",
    "SourceDocument",
    "SourceRef",
    "applicable_controls",
]


class Pillar(StrEnum):
    """The two pillars of the portal: cybersecurity controls and consent-based data (privacy) controls."""

    security = "security"
    privacy = "privacy"

    @property
    def label(self) -> str:
        """Human-readable name."""
        return _PILLAR_LABELS[self]


_PILLAR_LABELS = {Pillar.security: "Cybersecurity", Pillar.privacy: "Privacy and data protection"}


class ProviderCategory(StrEnum):
    """The kinds of provider a control can apply to. The one definition in the project."""

    telecom_operator = "telecom_operator"
    infrastructure_provider = "infrastructure_provider"
    cloud_hosting = "cloud_hosting"
    equipment_manufacturer = "equipment_manufacturer"
    device_manufacturer = "device_manufacturer"
    software_producer = "software_producer"
    digital_platform = "digital_platform"

    @property
    def label(self) -> str:
        """Human-readable name, as shown to providers and the public."""
        return _CATEGORY_LABELS[self]

    @property
    def label_ar(self) -> str:
        """The same name in Arabic (printed on certificates beside the English one)."""
        return _CATEGORY_LABELS_AR[self]


_CATEGORY_LABELS = {
    ProviderCategory.telecom_operator: "Telecommunications and data-transmission operator",
    ProviderCategory.infrastructure_provider: "IT infrastructure service provider",
    ProviderCategory.cloud_hosting: "Cloud and hosting provider",
    ProviderCategory.equipment_manufacturer: "Infrastructure equipment manufacturer",
    ProviderCategory.device_manufacturer: "Connected and peripheral device manufacturer",
    ProviderCategory.software_producer: "Software and operating-system producer",
    ProviderCategory.digital_platform: "Digital platform",
}

_CATEGORY_LABELS_AR = {
    ProviderCategory.telecom_operator: "مشغّل اتصالات ونقل بيانات",
    ProviderCategory.infrastructure_provider: "مزوّد خدمات البنية التحتية لتقنية المعلومات",
    ProviderCategory.cloud_hosting: "مزوّد خدمات سحابية واستضافة",
    ProviderCategory.equipment_manufacturer: "مصنّع معدات البنية التحتية",
    ProviderCategory.device_manufacturer: "مصنّع أجهزة متصلة وطرفية",
    ProviderCategory.software_producer: "منتج برمجيات وأنظمة تشغيل",
    ProviderCategory.digital_platform: "منصة رقمية",
}


class Framework(StrEnum):
    """External frameworks a control can be mapped to."""

    iso27001_2022 = "iso27001_2022"
    nist_csf_2_0 = "nist_csf_2_0"
    etsi_en_303_645 = "etsi_en_303_645"
    gdpr = "gdpr"
    budapest_convention = "budapest_convention"
    nist_ssdf = "nist_ssdf"
    nist_sp_800_53 = "nist_sp_800_53"
    un_guiding_principles = "un_guiding_principles"
    wcag_2_2 = "wcag_2_2"

    @property
    def label(self) -> str:
        """Human-readable name of the framework, with its edition."""
        return _FRAMEWORK_LABELS[self]


_FRAMEWORK_LABELS = {
    Framework.iso27001_2022: "ISO/IEC 27001:2022 Annex A",
    Framework.nist_csf_2_0: "NIST Cybersecurity Framework 2.0",
    Framework.etsi_en_303_645: "ETSI EN 303 645 V2.1.1",
    Framework.gdpr: "GDPR (Regulation (EU) 2016/679)",
    Framework.budapest_convention: "Council of Europe Convention on Cybercrime (ETS No. 185)",
    Framework.nist_ssdf: "NIST SP 800-218 Secure Software Development Framework 1.1",
    Framework.nist_sp_800_53: "NIST SP 800-53 Rev. 5",
    Framework.un_guiding_principles: "UN Guiding Principles on Business and Human Rights",
    Framework.wcag_2_2: "W3C Web Content Accessibility Guidelines 2.2",
}


class Prop(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A name/value property carried over from OSCAL (``ns`` and ``class`` as in OSCAL)."""

    name: str
    value: str
    ns: str | None = None
    class_: str | None = msgspec.field(default=None, name="class")


class Mapping(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A reference from a control to an identifier in an external framework, e.g. ISO 27001 ``A.5.24``."""

    framework: Framework
    ref: str
    title: str | None = None


class SourceRef(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """The paragraph of a source (seed) document that a control implements, with a short verbatim quote."""

    document: str
    paragraph: str
    excerpt: str | None = None


class SourceDocument(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A document that controls cite as their source, declared once per catalog under a short id."""

    id: str
    title: str
    issuer: str | None = None
    date: datetime.date | None = None
    url: str | None = None


class Family(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A group of related controls (an OSCAL group)."""

    id: str
    title: str
    pillar: Pillar | None = None
    description: str = ""
    props: list[Prop] = []


class Control(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """One requirement a provider answers and a reviewer checks."""

    id: str
    family: str
    pillar: Pillar
    title: str
    statement: str
    guidance: str = ""
    categories: list[ProviderCategory]
    evidence_expected: list[str] = []
    mappings: list[Mapping] = []
    sources: list[SourceRef] = []
    parent: str | None = None
    props: list[Prop] = []

    def applies_to(self, category: ProviderCategory) -> bool:
        """Whether providers of ``category`` must answer this control."""
        return category in self.categories


class Catalog(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A versioned set of controls grouped in families, identified by ``(id, version)`` and its digest."""

    id: str
    version: str
    title: str
    description: str = ""
    published: datetime.date | None = None
    source_documents: list[SourceDocument] = []
    families: list[Family]
    controls: list[Control]

    def control(self, control_id: str) -> Control:
        """Return the control with ``control_id``; raise ``KeyError`` if the catalog has none."""
        for control in self.controls:
            if control.id == control_id:
                return control
        raise KeyError(control_id)

    def family(self, family_id: str) -> Family:
        """Return the family with ``family_id``; raise ``KeyError`` if the catalog has none."""
        for family in self.families:
            if family.id == family_id:
                return family
        raise KeyError(family_id)

    def controls_in(self, family_id: str) -> list[Control]:
        """The controls of one family, in catalog order."""
        return [control for control in self.controls if control.family == family_id]


def applicable_controls(catalog: Catalog, category: ProviderCategory) -> list[Control]:
    """Return the controls of ``catalog`` that a provider of ``category`` must answer, in catalog order."""
    return [control for control in catalog.controls if control.applies_to(category)]
