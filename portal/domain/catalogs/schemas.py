"""Catalog bodies. Controls keep the library's own structs; these add what the portal knows: status and dates."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any, Literal

import msgspec

from controls import Catalog, Mapping, Pillar, Prop, ProviderCategory, SourceDocument, SourceRef
from controls.models import CatalogText, ControlText, FamilyText


class CatalogStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


ImportOutcome = Literal["imported", "replaced", "unchanged"]


class CatalogSummary(msgspec.Struct, kw_only=True):
    """One stored catalog version, as listed."""

    id: str
    version: str
    title: str
    status: CatalogStatus
    digest: str
    control_count: int
    published_at: dt.datetime | None
    retired_at: dt.datetime | None


class FamilyOut(msgspec.Struct, kw_only=True):
    id: str
    title: str
    pillar: Pillar | None
    description: str
    control_count: int
    translations: dict[str, FamilyText]


class ControlOut(msgspec.Struct, kw_only=True):
    """A control with every field present (the library's struct leaves out fields at their default).

    The OSCAL source an imported control keeps (parameters, parts, links) is in ``?format=oscal``.
    """

    id: str
    family: str
    pillar: Pillar
    title: str
    statement: str
    guidance: str
    categories: list[ProviderCategory]
    evidence_expected: list[str]
    mappings: list[Mapping]
    sources: list[SourceRef]
    parent: str | None
    props: list[Prop]
    withdrawn: bool  # kept from an OSCAL import so references resolve; applies to no provider
    translations: dict[str, ControlText]


class CatalogOut(CatalogSummary, kw_only=True):
    """A catalog version in full. ``digest`` is the SHA-256 of its RFC 8785 canonical JSON (see controls)."""

    description: str
    language: str
    translations: dict[str, CatalogText]
    published: dt.date | None
    source_documents: list[SourceDocument]
    families: list[FamilyOut]
    controls: list[ControlOut]


class OscalDocument(msgspec.Struct):
    """An OSCAL 1.1 catalog document (``?format=oscal``); its schema is NIST's."""

    catalog: dict[str, Any]


class ImportResult(CatalogSummary, kw_only=True):
    """What an import did: stored a new version, replaced a draft, or found the same content already stored."""

    outcome: ImportOutcome
    message: str


class CatalogView(msgspec.Struct, kw_only=True):
    """A stored catalog version inside the portal: the library's catalog plus its row's facts."""

    row_id: uuid.UUID
    summary: CatalogSummary
    catalog: Catalog
