"""The catalog data model: catalogs, families, controls and their mappings, as frozen msgspec structs.

Every struct is frozen, keyword-only, refuses unknown fields and omits fields left at their default when
encoded. Omitting defaults keeps a catalog's content digest unchanged when an optional field is later added
to the model — published digests are signed into attestations, so they must not drift.
"""

from __future__ import annotations

import datetime
from enum import StrEnum
from typing import Any

import msgspec

__all__ = [
    "Catalog",
    "CatalogText",
    "Control",
    "ControlText",
    "DocumentText",
    "Family",
    "FamilyText",
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
    """The paragraph of a source (seed) document that a control implements, with a short verbatim quote.

    ``excerpts`` holds the same quote in the other languages the document was published in (by language
    code), verbatim from that language's text.
    """

    document: str
    paragraph: str
    excerpt: str | None = None
    excerpts: dict[str, str] = {}


class DocumentText(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A source document's title in another language."""

    title: str


class FamilyText(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A family's title and description in another language."""

    title: str
    description: str = ""


class ControlText(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A control's readable text in another language; ``evidence_expected`` follows the original's order."""

    title: str
    statement: str
    guidance: str = ""
    evidence_expected: list[str] = []


class CatalogText(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A catalog's title and description in another language."""

    title: str
    description: str = ""


class SourceDocument(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A document that controls cite as their source, declared once per catalog under a short id."""

    id: str
    title: str
    issuer: str | None = None
    date: datetime.date | None = None
    url: str | None = None
    translations: dict[str, DocumentText] = {}


class Family(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A group of related controls (an OSCAL group)."""

    id: str
    title: str
    pillar: Pillar | None = None
    description: str = ""
    props: list[Prop] = []
    translations: dict[str, FamilyText] = {}
    oscal: dict[str, Any] = {}


class Control(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """One requirement a provider answers and a reviewer checks.

    ``withdrawn`` controls (OSCAL ``status: withdrawn``) stay in the catalog so references to them resolve,
    but apply to nobody. ``translations`` holds the readable text in other languages (by language code).
    ``oscal`` keeps the OSCAL control an import came from (without its child controls and the project's own
    props), so an export gives back its parameters, parts and links unchanged; empty for authored controls.
    """

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
    withdrawn: bool = False
    translations: dict[str, ControlText] = {}
    oscal: dict[str, Any] = {}

    def applies_to(self, category: ProviderCategory) -> bool:
        """Whether providers of ``category`` must answer this control (never, once it is withdrawn)."""
        return not self.withdrawn and category in self.categories


class Catalog(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A versioned set of controls grouped in families, identified by ``(id, version)`` and its digest.

    ``language`` is the language of the text (BCP 47, ``en`` unless said); ``translations`` gives the title
    and description in others, and each family and control carries its own. ``oscal`` keeps what an OSCAL
    import came with beyond the readable form (metadata, parameters, back-matter) for a lossless export.
    """

    id: str
    version: str
    title: str
    description: str = ""
    language: str = "en"
    published: datetime.date | None = None
    source_documents: list[SourceDocument] = []
    families: list[Family]
    controls: list[Control]
    translations: dict[str, CatalogText] = {}
    oscal: dict[str, Any] = {}

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
