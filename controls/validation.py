"""Catalog rules that msgspec types cannot express, and the canonical order of controls.

``validate_catalog`` raises ``CatalogError`` at the first broken rule, with the JSON path of the offending
value, so an author can go straight to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import msgspec

from controls.errors import CatalogError
from controls.models import Catalog, Control, Framework
from controls.translation import LANGUAGE

__all__ = ["CATALOG_ID", "ITEM_ID", "VERSION", "check_mapping_ref", "in_canonical_order", "validate_catalog"]

#: Catalog ids: lowercase words joined by hyphens, e.g. ``ppa-baseline``.
CATALOG_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: Family, control and source-document ids: an OSCAL token, e.g. ``CON-02``, ``ac-2.1``, ``s1.1.1``.
ITEM_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
#: Versions: dotted numbers with an optional semver pre-release or build suffix, e.g. ``1.0.0``, ``5.1.1+u4``.
VERSION = re.compile(r"^[0-9]+(?:\.[0-9]+)*(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


def _numbered(pattern: str, bounds: Callable[[re.Match[str]], bool]) -> Callable[[str], bool]:
    compiled = re.compile(pattern)

    def check(ref: str) -> bool:
        match = compiled.fullmatch(ref)
        return match is not None and bounds(match)

    return check


_ISO_ANNEX_A_SIZES = {5: 37, 6: 8, 7: 14, 8: 34}
_CSF_CATEGORIES = {
    "GV": {"OC", "RM", "RR", "PO", "OV", "SC"},
    "ID": {"AM", "RA", "IM"},
    "PR": {"AA", "AT", "DS", "PS", "IR"},
    "DE": {"CM", "AE"},
    "RS": {"MA", "AN", "CO", "MI"},
    "RC": {"RP", "CO"},
}
_ETSI_CLAUSE_5_PROVISIONS = 13

# The shape (and, where the framework is closed, the range) of a real identifier in each framework. It does
# not prove an identifier exists, but it stops typos and invented numbering schemes at load time.
_REF_FORMATS: dict[Framework, tuple[str, Callable[[str], bool]]] = {
    Framework.iso27001_2022: (
        "A.<theme 5-8>.<control>, e.g. A.5.24",
        _numbered(r"A\.([5-8])\.([1-9][0-9]?)", lambda m: int(m[2]) <= _ISO_ANNEX_A_SIZES[int(m[1])]),
    ),
    Framework.nist_csf_2_0: (
        "<function>.<category>-<nn>, e.g. RS.MA-01",
        _numbered(r"(GV|ID|PR|DE|RS|RC)\.([A-Z]{2})-(0[1-9]|1[0-9])", lambda m: m[2] in _CSF_CATEGORIES[m[1]]),
    ),
    Framework.etsi_en_303_645: (
        "a provision number, e.g. 5.1-1 or 6-3",
        _numbered(
            r"(?:5\.([1-9][0-9]?)|6)-([1-9][0-9]?)",
            lambda m: m[1] is None or int(m[1]) <= _ETSI_CLAUSE_5_PROVISIONS,
        ),
    ),
    Framework.gdpr: (
        "Art. <n> with optional (paragraph)(point), e.g. Art. 7(3)",
        _numbered(r"Art\. ([1-9][0-9]?)(?:\([1-9][0-9]?\))?(?:\([a-z]\))?", lambda m: int(m[1]) <= 99),
    ),
    Framework.budapest_convention: (
        "Art. <n>, e.g. Art. 16",
        _numbered(r"Art\. ([1-9][0-9]?)(?:\([1-9]\))?", lambda m: int(m[1]) <= 48),
    ),
    Framework.nist_ssdf: (
        "a practice or task, e.g. PW.4 or PW.4.1",
        _numbered(r"(PO|PS|PW|RV)\.[1-9](?:\.[1-9])?", lambda m: True),
    ),
    Framework.nist_sp_800_53: (
        "a control or enhancement, e.g. IR-6 or AC-2(1)",
        _numbered(r"[A-Z]{2}-[1-9][0-9]?(?:\([1-9][0-9]?\))?", lambda m: True),
    ),
    Framework.un_guiding_principles: (
        "Principle <n>, e.g. Principle 18",
        _numbered(r"Principle ([1-9][0-9]?)", lambda m: int(m[1]) <= 31),
    ),
    Framework.wcag_2_2: (
        "SC <principle>.<guideline>.<criterion>, e.g. SC 3.3.8",
        _numbered(r"SC ([1-4])\.[1-9]\.[1-9][0-9]?", lambda m: True),
    ),
}


def check_mapping_ref(framework: Framework, ref: str) -> str | None:
    """Return ``None`` if ``ref`` has the shape of an identifier of ``framework``, else the expected shape."""
    expected, check = _REF_FORMATS[framework]
    return None if check(ref) else expected


def _check_text(value: str, path: str, source: str, *, required: bool, single_line: bool) -> None:
    if not value.strip():
        if required:
            raise CatalogError("must not be empty", source=source, path=path)
        if value:
            raise CatalogError("must be empty or contain text", source=source, path=path)
        return
    if value != value.strip():
        raise CatalogError("leading or trailing whitespace", source=source, path=path)
    if single_line and ("\n" in value or "\r" in value):
        raise CatalogError("must be a single line", source=source, path=path)


def validate_catalog(catalog: Catalog, *, source: str, complete: bool = True) -> None:
    """Check the rules of a well-formed catalog; raise ``CatalogError`` at the first one broken.

    Always: ids match their patterns and are unique; every control's family, parent and cited source
    document exist; a parent is in the same family and parents form no cycle; each control applies to at
    least one category, without repeats; titles and statements are non-empty; mapping identifiers have the
    shape of their framework's identifiers. With ``complete`` (the default, for authored catalogs such as
    the baseline): the catalog has a description, every family has controls, and every control has
    guidance, expected evidence, at least one mapping and at least one source paragraph. Imported OSCAL
    catalogs are checked with ``complete=False``: they carry no mappings, evidence or sources.
    """

    def fail(problem: str, path: str) -> None:
        raise CatalogError(problem, source=source, path=path)

    if not CATALOG_ID.match(catalog.id):
        fail(
            f"catalog id {catalog.id!r} must be lowercase words joined by hyphens, e.g. 'ppa-baseline'",
            "$.id",
        )
    if not VERSION.match(catalog.version):
        fail(f"version {catalog.version!r} must be dotted numbers, e.g. '1.0.0'", "$.version")
    _check_text(catalog.title, "$.title", source, required=True, single_line=True)
    _check_text(catalog.description, "$.description", source, required=complete, single_line=False)

    documents: dict[str, int] = {}
    for index, document in enumerate(catalog.source_documents):
        path = f"$.source_documents[{index}]"
        if not ITEM_ID.match(document.id):
            fail(f"source document id {document.id!r} is not a valid id", f"{path}.id")
        if document.id in documents:
            fail(f"duplicate source document id {document.id!r}", f"{path}.id")
        documents[document.id] = index
        _check_text(document.title, f"{path}.title", source, required=True, single_line=True)

    families: dict[str, int] = {}
    for index, family in enumerate(catalog.families):
        path = f"$.families[{index}]"
        if not ITEM_ID.match(family.id):
            fail(f"family id {family.id!r} is not a valid id (letters, digits, '.', '_', '-')", f"{path}.id")
        if family.id in families:
            fail(
                f"duplicate family id {family.id!r} (first at $.families[{families[family.id]}])",
                f"{path}.id",
            )
        families[family.id] = index
        _check_text(family.title, f"{path}.title", source, required=True, single_line=True)
        _check_text(family.description, f"{path}.description", source, required=False, single_line=False)

    controls: dict[str, int] = {}
    for index, control in enumerate(catalog.controls):
        if not ITEM_ID.match(control.id):
            fail(
                f"control id {control.id!r} is not a valid id (letters, digits, '.', '_', '-')",
                f"$.controls[{index}].id",
            )
        if control.id in controls:
            fail(
                f"duplicate control id {control.id!r} (first at $.controls[{controls[control.id]}])",
                f"$.controls[{index}].id",
            )
        controls[control.id] = index

    for index, control in enumerate(catalog.controls):
        _validate_control(control, f"$.controls[{index}]", catalog, families, controls, documents, source, complete)

    _validate_translations(catalog, source, complete)

    if complete:
        used = {control.family for control in catalog.controls}
        for index, family in enumerate(catalog.families):
            if family.id not in used:
                fail(f"family {family.id!r} has no controls", f"$.families[{index}]")


def _validate_translations(catalog: Catalog, source: str, complete: bool) -> None:
    """Language codes are well formed; an authored catalog has every family and control in each language."""
    for lang, text in catalog.translations.items():
        if not LANGUAGE.match(lang) or lang == catalog.language:
            raise CatalogError(
                f"{lang!r} is not a language code other than {catalog.language!r}",
                source=source,
                path=f"$.translations.{lang}",
            )
        _check_text(text.title, f"$.translations.{lang}.title", source, required=True, single_line=True)
        if not complete:
            continue
        for index, family in enumerate(catalog.families):
            if lang not in family.translations:
                raise CatalogError(f"no {lang!r} text", source=source, path=f"$.families[{index}].translations")
            _check_text(
                family.translations[lang].title,
                f"$.families[{index}].translations.{lang}.title",
                source,
                required=True,
                single_line=True,
            )
        for index, control in enumerate(catalog.controls):
            if lang not in control.translations:
                raise CatalogError(f"no {lang!r} text", source=source, path=f"$.controls[{index}].translations")
    languages: list[tuple[str, int, list[str]]] = [
        *(("families", index, list(family.translations)) for index, family in enumerate(catalog.families)),
        *(("controls", index, list(control.translations)) for index, control in enumerate(catalog.controls)),
    ]
    for kind, index, item_languages in languages:
        for lang in item_languages:
            if lang not in catalog.translations:
                raise CatalogError(
                    f"{lang!r} text but no catalog title in {lang!r}",
                    source=source,
                    path=f"$.{kind}[{index}].translations.{lang}",
                )


def _validate_control(
    control: Control,
    path: str,
    catalog: Catalog,
    families: dict[str, int],
    controls: dict[str, int],
    documents: dict[str, int],
    source: str,
    complete: bool,
) -> None:
    def fail(problem: str, where: str) -> None:
        raise CatalogError(problem, source=source, path=f"{path}{where}")

    if control.family not in families:
        fail(f"unknown family {control.family!r} (families: {', '.join(families) or 'none'})", ".family")
    _check_text(control.title, f"{path}.title", source, required=True, single_line=True)
    # A withdrawn control is kept so references to it resolve; it may have no text left but its title.
    _check_text(control.statement, f"{path}.statement", source, required=not control.withdrawn, single_line=False)
    _check_text(control.guidance, f"{path}.guidance", source, required=complete, single_line=False)
    for lang, text in control.translations.items():
        where = f"{path}.translations.{lang}"
        _check_text(text.title, f"{where}.title", source, required=True, single_line=True)
        _check_text(text.statement, f"{where}.statement", source, required=not control.withdrawn, single_line=False)
        _check_text(text.guidance, f"{where}.guidance", source, required=bool(control.guidance), single_line=False)
        if len(text.evidence_expected) != len(control.evidence_expected):
            fail(
                f"{len(text.evidence_expected)} items of expected evidence in {lang!r}, "
                f"{len(control.evidence_expected)} in the original",
                f".translations.{lang}.evidence_expected",
            )
        for position, evidence in enumerate(text.evidence_expected):
            _check_text(evidence, f"{where}.evidence_expected[{position}]", source, required=True, single_line=True)

    if not control.categories:
        fail("must list at least one provider category", ".categories")
    seen = set()
    for position, category in enumerate(control.categories):
        if category in seen:
            fail(f"category {category.value!r} listed twice", f".categories[{position}]")
        seen.add(category)

    if complete and not control.evidence_expected:
        fail("must list the evidence expected", ".evidence_expected")
    for position, evidence in enumerate(control.evidence_expected):
        _check_text(evidence, f"{path}.evidence_expected[{position}]", source, required=True, single_line=True)

    if complete and not control.mappings:
        fail("must map to at least one external framework", ".mappings")
    for position, mapping in enumerate(control.mappings):
        where = f".mappings[{position}].ref"
        _check_text(mapping.ref, f"{path}{where}", source, required=True, single_line=True)
        expected = check_mapping_ref(mapping.framework, mapping.ref)
        if expected is not None:
            fail(f"{mapping.ref!r} is not a valid {mapping.framework.label} reference (expected {expected})", where)
        if mapping.title is not None:
            _check_text(mapping.title, f"{path}.mappings[{position}].title", source, required=True, single_line=True)

    if complete and not control.sources:
        fail("must cite the source paragraph it implements", ".sources")
    for position, ref in enumerate(control.sources):
        where = f".sources[{position}]"
        if ref.document not in documents:
            known = ", ".join(documents) or "none declared in source_documents"
            fail(f"unknown source document {ref.document!r} (known: {known})", f"{where}.document")
        _check_text(ref.paragraph, f"{path}{where}.paragraph", source, required=True, single_line=True)
        if ref.excerpt is not None:
            _check_text(ref.excerpt, f"{path}{where}.excerpt", source, required=True, single_line=True)

    for position, prop in enumerate(control.props):
        _check_text(prop.name, f"{path}.props[{position}].name", source, required=True, single_line=True)
        _check_text(prop.value, f"{path}.props[{position}].value", source, required=True, single_line=True)

    if control.parent is not None:
        if control.parent not in controls:
            fail(f"unknown parent control {control.parent!r}", ".parent")
        parent = catalog.controls[controls[control.parent]]
        if parent.family != control.family:
            fail(
                f"parent {parent.id!r} is in family {parent.family!r}, not {control.family!r}",
                ".parent",
            )
        ancestor: str | None = control.parent
        visited = {control.id}
        while ancestor is not None:
            if ancestor in visited:
                fail(f"parent chain of {control.id!r} loops back through {ancestor!r}", ".parent")
            visited.add(ancestor)
            ancestor = catalog.controls[controls[ancestor]].parent


def in_canonical_order(catalog: Catalog) -> Catalog:
    """Return ``catalog`` with its controls family by family, in family order, each followed by its children.

    This is the order OSCAL nesting implies, so a catalog in canonical order survives an OSCAL round trip
    unchanged. Within a family, controls keep their relative order. Call only on a validated catalog.
    """
    children: dict[str | None, list[Control]] = {}
    for control in catalog.controls:
        children.setdefault(control.parent, []).append(control)

    ordered: list[Control] = []

    def visit(control: Control) -> None:
        ordered.append(control)
        for child in children.get(control.id, []):
            visit(child)

    for family in catalog.families:
        for control in children.get(None, []):
            if control.family == family.id:
                visit(control)
    if ordered == catalog.controls:
        return catalog
    return msgspec.structs.replace(catalog, controls=ordered)
