"""Catalog text in other languages: translation files, and the catalog as read in one language.

A catalog's translations travel inside it (``Catalog.translations``, ``Family.translations``,
``Control.translations``, ``SourceDocument.translations``, ``SourceRef.excerpts``), so they are part of its
digest, its native JSON and its OSCAL export. Authors keep them in a separate file beside the catalog,
``<name>.<language>.toml`` (``baseline.ar.toml`` beside ``baseline.toml``), which ``load_catalog`` merges::

    language = "ar"
    title = "..."
    description = "..."
    [source_documents.<document id>]
    title = "..."
    [excerpts.<document id>]
    "<the English excerpt, verbatim>" = "<the same passage in the document's Arabic text, verbatim>"
    [families.<family id>]
    title = "..."
    description = "..."
    [controls.<control id>]
    title = "..."
    statement = "..."
    guidance = "..."
    evidence_expected = ["...", ...]   # one per item of the original, in its order
"""

from __future__ import annotations

import re

import msgspec

from controls.errors import CatalogError
from controls.models import Catalog, CatalogText, Control, ControlText, DocumentText, Family, FamilyText

__all__ = ["LANGUAGE", "TranslationFile", "apply_translation", "localized", "shown_language"]

#: A language code (BCP 47, the common shapes): ``ar``, ``en``, ``pt-BR``.
LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


class TranslationFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The content of one ``<name>.<language>.toml`` file."""

    language: str
    title: str
    description: str = ""
    source_documents: dict[str, DocumentText] = {}
    excerpts: dict[str, dict[str, str]] = {}
    families: dict[str, FamilyText] = {}
    controls: dict[str, ControlText] = {}


def apply_translation(catalog: Catalog, translation: TranslationFile, *, source: str) -> Catalog:
    """Return ``catalog`` with ``translation`` merged in; ``CatalogError`` for an id or excerpt it does not have.

    Completeness (every family and control translated) is checked by ``validate_catalog``.
    """
    lang = translation.language

    def fail(problem: str, path: str) -> CatalogError:
        return CatalogError(problem, source=source, path=path)

    if not LANGUAGE.match(lang) or lang == catalog.language:
        raise fail(
            f"language {lang!r} must be a language code other than the catalog's ({catalog.language})", "$.language"
        )
    family_ids = {family.id for family in catalog.families}
    control_ids = {control.id for control in catalog.controls}
    document_ids = {document.id for document in catalog.source_documents}
    for kind, given, known in (
        ("family", translation.families, family_ids),
        ("control", translation.controls, control_ids),
        ("source document", translation.source_documents, document_ids),
        ("source document", translation.excerpts, document_ids),
    ):
        for item_id in given:
            if item_id not in known:
                raise fail(f"the catalog has no {kind} {item_id!r}", f"$.{item_id}")
    quoted = {(ref.document, ref.excerpt) for control in catalog.controls for ref in control.sources}
    for document_id, excerpts in translation.excerpts.items():
        for original in excerpts:
            if (document_id, original) not in quoted:
                raise fail(f"no control quotes {original!r} from {document_id!r}", f"$.excerpts.{document_id}")

    def control(item: Control) -> Control:
        sources = [
            msgspec.structs.replace(
                ref, excerpts={**ref.excerpts, lang: translation.excerpts[ref.document][ref.excerpt]}
            )
            if ref.excerpt is not None and ref.excerpt in translation.excerpts.get(ref.document, {})
            else ref
            for ref in item.sources
        ]
        text = translation.controls.get(item.id)
        translations = {**item.translations, lang: text} if text else item.translations
        return msgspec.structs.replace(item, sources=sources, translations=translations)

    def family(item: Family) -> Family:
        text = translation.families.get(item.id)
        return msgspec.structs.replace(item, translations={**item.translations, lang: text}) if text else item

    return msgspec.structs.replace(
        catalog,
        translations={
            **catalog.translations,
            lang: CatalogText(title=translation.title, description=translation.description),
        },
        source_documents=[
            msgspec.structs.replace(d, translations={**d.translations, lang: translation.source_documents[d.id]})
            if d.id in translation.source_documents
            else d
            for d in catalog.source_documents
        ],
        families=[family(item) for item in catalog.families],
        controls=[control(item) for item in catalog.controls],
    )


def shown_language(catalog: Catalog, language: str) -> str:
    """The language ``localized(catalog, language)`` is written in: ``language`` if the catalog has it."""
    return language if language == catalog.language or language in catalog.translations else catalog.language


def localized(catalog: Catalog, language: str) -> Catalog:
    """``catalog`` with its readable text in ``language`` where it has a translation (the original elsewhere).

    Ids, structure, mappings and the original's own translations are unchanged; the result is for display
    and never for hashing (its digest is not the catalog's).
    """
    if shown_language(catalog, language) == catalog.language:
        return catalog

    def control(item: Control) -> Control:
        text = item.translations.get(language)
        if text is None:
            return item
        return msgspec.structs.replace(
            item,
            title=text.title,
            statement=text.statement,
            guidance=text.guidance or item.guidance,
            evidence_expected=text.evidence_expected or item.evidence_expected,
        )

    def family(item: Family) -> Family:
        text = item.translations.get(language)
        if text is None:
            return item
        return msgspec.structs.replace(item, title=text.title, description=text.description or item.description)

    text = catalog.translations[language]
    return msgspec.structs.replace(
        catalog,
        title=text.title,
        description=text.description or catalog.description,
        source_documents=[
            msgspec.structs.replace(d, title=d.translations[language].title) if language in d.translations else d
            for d in catalog.source_documents
        ],
        families=[family(item) for item in catalog.families],
        controls=[control(item) for item in catalog.controls],
    )
