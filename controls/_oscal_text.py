"""Translations in OSCAL: parts and props in the project namespace, marked with their language.

A control's text in language L is one part ``{"name": "translation", "ns": OSCAL_NS, "class": "lang-L",
"title": <title>, "props": [{"name": "lang", "value": L, "ns": OSCAL_NS}], "parts": [statement, guidance,
evidence..., source...]}``; a family's is a group part of the same name with the description as prose; the
catalog's title and description are a metadata prop ``translation`` (value: the title, remarks: the
description) and a source document's title a resource prop ``title``, both with ``class`` ``lang-L``.
OSCAL tools that do not know the namespace skip them, as OSCAL asks.
"""

from __future__ import annotations

from typing import Any

from controls._oscal_schema import OscalPart, OscalProp
from controls.models import CatalogText, Control, ControlText, Family, FamilyText, SourceRef

OSCAL_NS = "urn:provider-attestation-portal:oscal"
TRANSLATION = "translation"
_LANG = "lang-"


def lang_class(lang: str) -> str:
    return f"{_LANG}{lang}"


def lang_of(cls: str | None) -> str | None:
    return cls[len(_LANG) :] if cls and cls.startswith(_LANG) else None


def _own(name: str, prose: str) -> dict[str, Any]:
    return {"name": name, "ns": OSCAL_NS, "prose": prose}


def is_translation(part: dict[str, Any]) -> bool:
    return part.get("ns") == OSCAL_NS and part.get("name") == TRANSLATION


def control_parts(control: Control) -> list[dict[str, Any]]:
    """The translation parts of ``control``, one per language, in language order."""
    languages = sorted(set(control.translations) | {lang for ref in control.sources for lang in ref.excerpts})
    parts = []
    for lang in languages:
        part: dict[str, Any] = {"id": f"{control.id}_{lang}", "name": TRANSLATION, "ns": OSCAL_NS}
        part["class"] = lang_class(lang)
        text = control.translations.get(lang)
        if text is not None:
            part["title"] = text.title
        part["props"] = [{"name": "lang", "value": lang, "ns": OSCAL_NS}]
        inner = []
        if text is not None:
            if text.statement:
                inner.append(_own("statement", text.statement))
            if text.guidance:
                inner.append(_own("guidance", text.guidance))
            inner.extend(_own("evidence", evidence) for evidence in text.evidence_expected)
        for index, ref in enumerate(control.sources):
            if lang in ref.excerpts:
                source = _own("source", ref.excerpts[lang])
                source["props"] = [{"name": "source-index", "value": str(index), "ns": OSCAL_NS}]
                inner.append(source)
        if inner:
            part["parts"] = inner
        parts.append(part)
    return parts


def family_parts(family: Family) -> list[dict[str, Any]]:
    parts = []
    for lang, text in sorted(family.translations.items()):
        part: dict[str, Any] = {"id": f"{family.id}_{lang}", "name": TRANSLATION, "ns": OSCAL_NS}
        part |= {"class": lang_class(lang), "title": text.title}
        part["props"] = [{"name": "lang", "value": lang, "ns": OSCAL_NS}]
        if text.description:
            part["prose"] = text.description
        parts.append(part)
    return parts


def catalog_props(translations: dict[str, CatalogText]) -> list[dict[str, Any]]:
    props = []
    for lang, text in sorted(translations.items()):
        prop = {"name": TRANSLATION, "value": text.title, "ns": OSCAL_NS, "class": lang_class(lang)}
        if text.description:
            prop["remarks"] = text.description
        props.append(prop)
    return props


def read_control(parts: list[OscalPart], sources: list[SourceRef]) -> tuple[dict[str, ControlText], list[SourceRef]]:
    """The translations and the sources (with their translated excerpts) carried by a control's parts."""
    texts: dict[str, ControlText] = {}
    excerpts: dict[int, dict[str, str]] = {}
    for part in parts:
        lang = lang_of(part.class_) if part.ns == OSCAL_NS and part.name == TRANSLATION else None
        if lang is None:
            continue
        inner = [p for p in part.parts if p.ns == OSCAL_NS]
        for source in inner:
            index = next((p.value for p in source.props if p.name == "source-index"), None)
            if (
                source.name == "source"
                and index is not None
                and index.isascii()
                and index.isdigit()
                and int(index) < len(sources)
            ):
                excerpts.setdefault(int(index), {})[lang] = source.prose or ""
        if part.title is not None:
            texts[lang] = ControlText(
                title=part.title,
                statement=next((p.prose or "" for p in inner if p.name == "statement"), ""),
                guidance=next((p.prose or "" for p in inner if p.name == "guidance"), ""),
                evidence_expected=[p.prose or "" for p in inner if p.name == "evidence"],
            )
    merged = [
        SourceRef(document=ref.document, paragraph=ref.paragraph, excerpt=ref.excerpt, excerpts=excerpts[index])
        if index in excerpts
        else ref
        for index, ref in enumerate(sources)
    ]
    return texts, merged


def read_family(parts: list[OscalPart]) -> dict[str, FamilyText]:
    texts = {}
    for part in parts:
        lang = lang_of(part.class_) if part.ns == OSCAL_NS and part.name == TRANSLATION else None
        if lang is not None and part.title is not None:
            texts[lang] = FamilyText(title=part.title, description=part.prose or "")
    return texts


def read_catalog(props: list[OscalProp]) -> dict[str, CatalogText]:
    texts = {}
    for prop in props:
        lang = lang_of(prop.class_) if prop.ns == OSCAL_NS and prop.name == TRANSLATION else None
        if lang is not None:
            texts[lang] = CatalogText(title=prop.value, description=prop.remarks or "")
    return texts
