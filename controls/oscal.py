"""OSCAL catalog JSON import and export.

Export (``to_oscal``) writes an OSCAL 1.1 catalog: families become groups, child controls nest in their
parent, statement and guidance become parts, and everything OSCAL has no field for — pillar, provider
categories, expected evidence, framework mappings, source paragraphs, the catalog id — travels in props in
the project namespace ``OSCAL_NS``. The UUID and dates are derived from the catalog alone, so the same
catalog always exports the same document, and importing an export gives back the same digest.

Import (``from_oscal``) reads any OSCAL catalog:

* groups become families; nested groups are flattened (pre-order), each group with controls becoming a
  family whose id is the group id (or ``<parent id>-<n>`` when the group has none) and whose title is
  prefixed with its ancestors' titles;
* controls outside any group go to a family ``ungrouped``;
* controls and enhancements keep their ids; nested controls record their ``parent``;
* the statement part is rendered to text: item labels kept, one item per line, indented by depth, and each
  ``{{ insert: param, id }}`` replaced by the parameter's value, ``[Selection (...): a; b]``,
  ``[Assignment: label]`` or, for an unknown parameter, ``[Assignment: id]``;
* guidance parts are rendered to text, paragraphs separated by blank lines;
* control and group props are kept (except the project-namespace ones, which are read back);
* controls marked ``status: withdrawn`` (and their children) are skipped: they are no longer requirements.

Pillar rule for catalogs that do not carry the project's pillar prop: every control of a catalog whose
title mentions privacy (the NIST privacy baseline) is ``privacy``; otherwise a control is ``privacy`` when
its family is NIST's ``pt`` (PII Processing and Transparency) or the family title mentions privacy or
personal data, and ``security`` in every other case. Such controls apply to every provider category.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterator
from typing import Any, TypeVar

import msgspec

from controls import _oscal_text
from controls._oscal_schema import (
    OscalBackMatter,
    OscalCatalog,
    OscalControl,
    OscalDocument,
    OscalGroup,
    OscalLink,
    OscalMetadata,
    OscalParam,
    OscalPart,
    OscalProp,
    OscalResource,
)
from controls.errors import CatalogError
from controls.models import (
    Catalog,
    Control,
    DocumentText,
    Family,
    Framework,
    Mapping,
    Pillar,
    Prop,
    ProviderCategory,
    SourceDocument,
    SourceRef,
)
from controls.validation import in_canonical_order, validate_catalog

__all__ = ["OSCAL_NS", "OSCAL_VERSION", "from_oscal", "to_oscal"]

#: Namespace of the project's own OSCAL props and parts.
OSCAL_NS = _oscal_text.OSCAL_NS
#: The OSCAL version written on export.
OSCAL_VERSION = "1.1.2"

_UNGROUPED = Family(id="ungrouped", title="Controls outside any group")
_INSERT = re.compile(r"\{\{\s*insert:\s*param,\s*([^\s}]+)\s*\}\}")
_PRIVACY_TITLE = re.compile(r"privacy|personal data|personally identifiable", re.IGNORECASE)
_EPOCH = "1970-01-01T00:00:00Z"
_E = TypeVar("_E", Pillar, ProviderCategory, Framework)


# --- export -------------------------------------------------------------------------------------------------


def _prop(name: str, value: str, *, cls: str | None = None, remarks: str | None = None) -> OscalProp:
    return OscalProp(name=name, value=value, ns=OSCAL_NS, class_=cls, remarks=remarks)


def _kept(props: list[Prop]) -> list[OscalProp]:
    return [OscalProp(name=p.name, value=p.value, ns=p.ns, class_=p.class_) for p in props]


def _export_control(control: Control, children: dict[str, list[Control]]) -> dict[str, Any]:
    own = [_prop("pillar", control.pillar.value)]
    own.extend(_prop("category", category.value) for category in control.categories)
    own.extend(_prop("evidence", evidence) for evidence in control.evidence_expected)
    own.extend(_prop("mapping", m.ref, cls=m.framework.value, remarks=m.title) for m in control.mappings)
    own.extend(_prop("source", s.paragraph, cls=s.document, remarks=s.excerpt) for s in control.sources)
    nested = [_export_control(child, children) for child in children.get(control.id, [])]
    out = _plain_control(control)
    if control.oscal:
        # An imported control goes back as it came (parameters, parts, links...), plus what the portal adds.
        out = dict(control.oscal)
    out["props"] = [*out.get("props", []), *msgspec.to_builtins(own)]
    translated = _oscal_text.control_parts(control)
    if translated:
        out["parts"] = [*out.get("parts", []), *translated]
    if nested:
        out["controls"] = nested
    return out


def _plain_control(control: Control) -> dict[str, Any]:
    """What an authored control exports as, without the portal's props, translations and children."""
    props = _kept(control.props)
    if control.withdrawn and not any(p.name == "status" and p.value == "withdrawn" for p in control.props):
        props.append(OscalProp(name="status", value="withdrawn"))
    parts = [OscalPart(id=f"{control.id}_smt", name="statement", prose=control.statement)] if control.statement else []
    if control.guidance:
        parts.append(OscalPart(id=f"{control.id}_gdn", name="guidance", prose=control.guidance))
    result: dict[str, Any] = msgspec.to_builtins(
        OscalControl(id=control.id, title=control.title, props=props, parts=parts)
    )
    return result


def _plain_group(family: Family) -> dict[str, Any]:
    props = _kept(family.props)
    if family.pillar is not None:
        props.append(_prop("pillar", family.pillar.value))
    parts = [OscalPart(id=f"{family.id}_ovw", name="overview", prose=family.description)] if family.description else []
    group = OscalGroup(id=family.id, class_="family", title=family.title, props=props, parts=parts)
    result: dict[str, Any] = msgspec.to_builtins(group)
    return result


def _export_group(family: Family, controls: list[dict[str, Any]]) -> dict[str, Any]:
    out = _plain_group(family)
    if family.oscal:
        out = {"id": family.id, "title": family.title, **family.oscal}
        if family.pillar is not None:
            out["props"] = [*out.get("props", []), msgspec.to_builtins(_prop("pillar", family.pillar.value))]
    translated = _oscal_text.family_parts(family)
    if translated:
        out["parts"] = [*out.get("parts", []), *translated]
    if controls:
        out["controls"] = controls
    return out


def catalog_uuid(catalog: Catalog) -> uuid.UUID:
    """The deterministic OSCAL UUID of a catalog version (UUIDv5 of its id and version)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{OSCAL_NS}:catalog:{catalog.id}:{catalog.version}")


def _plain_catalog(catalog: Catalog) -> dict[str, Any]:
    """The catalog-level part of an authored catalog's export: uuid, metadata and back-matter, no groups."""
    base = catalog_uuid(catalog)
    moment = f"{catalog.published.isoformat()}T00:00:00Z" if catalog.published else _EPOCH
    metadata = OscalMetadata(
        title=catalog.title,
        published=moment if catalog.published else None,
        last_modified=moment,
        version=catalog.version,
        oscal_version=OSCAL_VERSION,
        remarks=catalog.description or None,
    )
    resources = []
    for document in catalog.source_documents:
        props = [_prop("source-document-id", document.id)]
        if document.issuer:
            props.append(_prop("issuer", document.issuer))
        if document.date:
            props.append(_prop("date", document.date.isoformat()))
        for lang, text in sorted(document.translations.items()):
            props.append(_prop("title", text.title, cls=_oscal_text.lang_class(lang)))
        resources.append(
            OscalResource(
                uuid=str(uuid.uuid5(base, document.id)),
                title=document.title,
                props=props,
                rlinks=[OscalLink(href=document.url)] if document.url else [],
            )
        )
    oscal = OscalCatalog(
        uuid=str(base), metadata=metadata, back_matter=OscalBackMatter(resources=resources) if resources else None
    )
    result: dict[str, Any] = msgspec.to_builtins(oscal)
    return result


def to_oscal(catalog: Catalog) -> dict[str, Any]:
    """Return ``catalog`` as an OSCAL 1.1 catalog document (a JSON-ready dict: ``{"catalog": {...}}``).

    Deterministic: for an authored catalog the UUIDs are UUIDv5 of the catalog id and version and
    ``last-modified`` is the publication date at midnight UTC (the Unix epoch when it has none). An imported
    catalog goes back with what it came with (its UUID, metadata, parameters, parts, links, back-matter);
    the portal adds its props and the translations in the project namespace. ``from_oscal`` of the result
    gives a catalog with the same digest.
    """
    children: dict[str, list[Control]] = {}
    for control in catalog.controls:
        if control.parent is not None:
            children.setdefault(control.parent, []).append(control)
    groups = [
        _export_group(
            family,
            [
                _export_control(control, children)
                for control in catalog.controls
                if control.family == family.id and control.parent is None
            ],
        )
        for family in catalog.families
    ]
    out = dict(catalog.oscal) if catalog.oscal else _plain_catalog(catalog)
    metadata = dict(out["metadata"])
    own = [_prop("catalog-id", catalog.id)]
    if catalog.language != "en":
        own.append(_prop("language", catalog.language))
    metadata["props"] = [
        *metadata.get("props", []),
        *msgspec.to_builtins(own),
        *_oscal_text.catalog_props(catalog.translations),
    ]
    result: dict[str, Any] = {"uuid": out["uuid"], "metadata": metadata}
    result |= {key: value for key, value in out.items() if key not in ("uuid", "metadata", "back-matter")}
    result["groups"] = groups
    if "back-matter" in out:
        result["back-matter"] = out["back-matter"]
    return {"catalog": result}


# --- import -------------------------------------------------------------------------------------------------


class _Importer:
    def __init__(self, oscal: OscalCatalog, source: str) -> None:
        self.source = source
        self.params: dict[str, OscalParam] = {}
        self.privacy_catalog = bool(_PRIVACY_TITLE.search(oscal.metadata.title))
        self.families: list[Family] = []
        self.controls: list[Control] = []
        self._index_params(oscal.params)
        for group in _walk_groups(oscal.groups):
            self._index_params(group.params)
            for control in _walk_controls(group.controls):
                self._index_params(control.params)
        for control in _walk_controls(oscal.controls):
            self._index_params(control.params)

    def _index_params(self, params: list[OscalParam]) -> None:
        for param in params:
            self.params.setdefault(param.id, param)
        # NIST resolved profiles refer to some parameters by their older ids, kept as "alt-identifier".
        for param in params:
            for prop in param.props:
                if prop.name == "alt-identifier":
                    self.params.setdefault(prop.value, param)

    def fail(self, problem: str, path: str) -> CatalogError:
        return CatalogError(problem, source=self.source, path=path)

    # text rendering

    def render_prose(self, prose: str, depth: int = 0) -> str:
        def insert(match: re.Match[str]) -> str:
            param = self.params.get(match[1])
            if param is None or depth > 3:
                return f"[Assignment: {match[1]}]"
            if param.values:
                return ", ".join(param.values)
            if param.select is not None:
                how = "one or more" if param.select.how_many == "one-or-more" else "one"
                choices = "; ".join(self.render_prose(choice, depth + 1) for choice in param.select.choice)
                return f"[Selection ({how}): {choices}]"
            return f"[Assignment: {param.label or param.id}]"

        return _INSERT.sub(insert, prose)

    def render_items(self, part: OscalPart, depth: int) -> list[str]:
        label = next((p.value for p in part.props if p.name == "label"), None)
        text = self.render_prose(part.prose or "").strip()
        line = " ".join(piece for piece in (label, text) if piece)
        lines = [("  " * depth) + line] if line else []
        for child in part.parts:
            lines.extend(self.render_items(child, depth + 1 if line else depth))
        return lines

    def render_paragraphs(self, parts: list[OscalPart]) -> str:
        paragraphs: list[str] = []

        def collect(part: OscalPart) -> None:
            if part.prose and part.prose.strip():
                paragraphs.append(self.render_prose(part.prose).strip())
            for child in part.parts:
                collect(child)

        for part in parts:
            collect(part)
        return "\n\n".join(paragraphs)

    # structure

    def add_group(self, group: OscalGroup, raw: dict[str, Any], path: str, family_id: str, title: str) -> None:
        if group.controls:
            own, props = _split_props(group.props)
            pillar = self.pillar_of(own, f"{path}.props", default=self.default_pillar(family_id, title))
            description = self.render_paragraphs([p for p in group.parts if p.name == "overview"])
            family = Family(
                id=family_id,
                title=title,
                pillar=pillar,
                description=description,
                props=props,
                translations=_oscal_text.read_family(group.parts),
            )
            # Nested groups are flattened: the family's id and (prefixed) title are the readable form's own.
            kept = _strip(raw, ("controls", "groups", "id", "title"))
            if kept != _strip(_plain_group(family), ("id", "title")):
                family = msgspec.structs.replace(family, oscal=kept)
            self.families.append(family)
            for index, control in enumerate(group.controls):
                self.add_control(control, raw["controls"][index], f"{path}.controls[{index}]", family_id, None)
        for index, child in enumerate(group.groups):
            child_id = child.id or f"{family_id}-{index + 1}"
            child_title = f"{title} — {child.title.strip()}"
            self.add_group(child, raw["groups"][index], f"{path}.groups[{index}]", child_id, child_title)

    def default_pillar(self, family_id: str, family_title: str) -> Pillar:
        if self.privacy_catalog or family_id.lower() == "pt" or _PRIVACY_TITLE.search(family_title):
            return Pillar.privacy
        return Pillar.security

    def pillar_of(self, own: list[tuple[int, OscalProp]], path: str, *, default: Pillar) -> Pillar:
        for index, prop in own:
            if prop.name == "pillar":
                return self.enum(Pillar, prop.value, f"{path}[{index}].value", "pillar")
        return default

    def enum(self, kind: type[_E], value: str, path: str, what: str) -> _E:
        try:
            return kind(value)
        except ValueError:
            known = ", ".join(member.value for member in kind)
            raise self.fail(f"unknown {what} {value!r} (known: {known})", path) from None

    def add_control(
        self,
        control: OscalControl,
        raw: dict[str, Any],
        path: str,
        family_id: str,
        parent: str | None,
        parent_withdrawn: bool = False,
    ) -> None:
        # Withdrawn controls (and their enhancements) stay, marked, so links to them resolve; they apply to nobody.
        withdrawn = parent_withdrawn or any(p.name == "status" and p.value == "withdrawn" for p in control.props)
        own, props = _split_props(control.props)
        family = next(f for f in self.families if f.id == family_id)
        pillar = self.pillar_of(own, f"{path}.props", default=family.pillar or Pillar.security)
        categories: list[ProviderCategory] = []
        evidence: list[str] = []
        mappings: list[Mapping] = []
        sources: list[SourceRef] = []
        for index, prop in own:
            where = f"{path}.props[{index}]"
            if prop.name == "category":
                categories.append(self.enum(ProviderCategory, prop.value, f"{where}.value", "provider category"))
            elif prop.name == "evidence":
                evidence.append(prop.value)
            elif prop.name == "mapping":
                framework = self.enum(Framework, prop.class_ or "", f"{where}.class", "framework")
                mappings.append(Mapping(framework=framework, ref=prop.value, title=prop.remarks))
            elif prop.name == "source":
                if not prop.class_:
                    raise self.fail("source prop needs the document id as its class", f"{where}.class")
                sources.append(SourceRef(document=prop.class_, paragraph=prop.value, excerpt=prop.remarks))
        statement_lines: list[str] = []
        for part in control.parts:
            if part.name == "statement":
                statement_lines.extend(self.render_items(part, 0))
        statement = "\n".join(statement_lines).strip()
        if not statement:
            statement = self.render_paragraphs([p for p in control.parts if p.name == "overview"])
        if not statement and not withdrawn:
            raise self.fail(f"control {control.id!r} has no statement part", f"{path}.parts")
        translations, sources = _oscal_text.read_control(control.parts, sources)
        readable = Control(
            id=control.id,
            family=family_id,
            pillar=pillar,
            title=control.title.strip(),
            statement=statement,
            guidance=self.render_paragraphs([p for p in control.parts if p.name == "guidance"]),
            categories=categories or list(ProviderCategory),
            evidence_expected=evidence,
            mappings=mappings,
            sources=sources,
            parent=parent,
            props=props,
            withdrawn=withdrawn,
            translations=translations,
        )
        # Keep the control as it came unless the readable form exports to exactly the same thing.
        kept = _strip(raw, ("controls",))
        if kept != _strip(_plain_control(readable), ()):
            readable = msgspec.structs.replace(readable, oscal=kept)
        self.controls.append(readable)
        for index, child in enumerate(control.controls):
            self.add_control(
                child, raw["controls"][index], f"{path}.controls[{index}]", family_id, control.id, withdrawn
            )


def _split_props(props: list[OscalProp]) -> tuple[list[tuple[int, OscalProp]], list[Prop]]:
    own = [(index, prop) for index, prop in enumerate(props) if prop.ns == OSCAL_NS]
    kept = [Prop(name=p.name, value=p.value, ns=p.ns, class_=p.class_) for p in props if p.ns != OSCAL_NS]
    return own, kept


def _strip(node: dict[str, Any], drop: tuple[str, ...]) -> dict[str, Any]:
    """``node`` without the keys in ``drop``, the project's own props and translation parts, and empty lists."""
    out = {}
    for key, value in node.items():
        if key in drop:
            continue
        if key == "props":
            value = [prop for prop in value if prop.get("ns") != OSCAL_NS]
        elif key == "parts":
            value = [part for part in value if not _oscal_text.is_translation(part)]
        if value != []:
            out[key] = value
    return out


def _walk_groups(groups: list[OscalGroup]) -> Iterator[OscalGroup]:
    for group in groups:
        yield group
        yield from _walk_groups(group.groups)


def _walk_controls(controls: list[OscalControl]) -> Iterator[OscalControl]:
    for control in controls:
        yield control
        yield from _walk_controls(control.controls)


#: Words NIST and other publishers spell out in titles, shortened in derived catalog ids.
_ABBREVIATIONS = {"special": "", "publication": "sp", "revision": "rev", "version": "v"}
#: Derived ids fit the portal's catalog id column (and are cut at a word there).
ID_LENGTH = 64


def _slug(title: str, version: str = "") -> str:
    """A short, stable catalog id from a title: ``NIST Special Publication 800-53 Revision 5.1.1 LOW IMPACT
    BASELINE`` (version ``5.1.1+u4``) gives ``nist-sp-800-53-rev5-low-impact-baseline``.

    The release number that is the catalog's version is reduced to its first component, so every release
    of the same publication gets the same id (and its versions can be compared); ``revision 5`` becomes
    ``rev5``; the result is cut at a word to ``ID_LENGTH`` characters.
    """
    text = title.lower()
    release = re.match(r"[0-9]+(?:\.[0-9]+)+", version.strip())
    if release and release[0] in text:
        text = text.replace(release[0], release[0].split(".")[0])
    words = [_ABBREVIATIONS.get(word, word) for word in re.findall(r"[a-z0-9]+", text)]
    joined: list[str] = []
    for word in filter(None, words):
        if joined and joined[-1] in ("rev", "v") and word.isascii() and word.isdigit():
            joined[-1] += word
        else:
            joined.append(word)
    slug = ""
    for word in joined:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > ID_LENGTH:
            break
        slug = candidate
    return slug or "imported-catalog"


def _date(value: str, path: str, source: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        raise CatalogError(f"not a date-time: {value!r}", source=source, path=path) from None


def from_oscal(
    document: bytes | dict[str, Any],
    *,
    version: str | None = None,
    catalog_id: str | None = None,
    source: str = "<oscal>",
) -> Catalog:
    """Import an OSCAL catalog (JSON bytes, or the decoded dict) as a validated ``Catalog``.

    ``catalog_id`` and ``version`` override the id (otherwise the project prop written by ``to_oscal``, or a
    slug of the title) and the version (otherwise ``metadata.version``). ``source`` names the document in
    errors. Raises ``CatalogError`` if the document is not an OSCAL catalog or breaks a catalog rule.
    See the module documentation for how groups, parameters and pillars are mapped.
    """
    try:
        if isinstance(document, bytes | bytearray | memoryview):
            parsed = msgspec.json.decode(document, type=OscalDocument)
            raw = msgspec.json.decode(document)["catalog"]
        else:
            parsed = msgspec.convert(document, OscalDocument)
            raw = document["catalog"]
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).partition(" - at `")
        path = where.rstrip("`") or "$"
        raise CatalogError(message[:1].lower() + message[1:], source=source, path=path) from exc
    except msgspec.DecodeError as exc:
        raise CatalogError(f"invalid JSON: {exc}", source=source) from exc

    oscal = parsed.catalog
    metadata = oscal.metadata
    own, _ = _split_props(metadata.props)
    native_id = next((prop.value for _, prop in own if prop.name == "catalog-id"), None)
    language = next((prop.value for _, prop in own if prop.name == "language"), "en")
    importer = _Importer(oscal, source)
    for index, group in enumerate(oscal.groups):
        family_id = group.id or f"group-{index + 1}"
        importer.add_group(group, raw["groups"][index], f"$.catalog.groups[{index}]", family_id, group.title.strip())
    if oscal.controls:
        ungrouped = _UNGROUPED
        while any(family.id == ungrouped.id for family in importer.families):
            ungrouped = msgspec.structs.replace(ungrouped, id=f"{ungrouped.id}-")
        importer.families.append(
            msgspec.structs.replace(ungrouped, pillar=importer.default_pillar(ungrouped.id, ungrouped.title))
        )
        for index, control in enumerate(oscal.controls):
            importer.add_control(control, raw["controls"][index], f"$.catalog.controls[{index}]", ungrouped.id, None)

    def published_date(foreign: bool) -> datetime.date | None:
        if metadata.published:
            return _date(metadata.published, "$.catalog.metadata.published", source)
        if foreign:
            # A foreign catalog's only date is its last modification: the best stand-in for a publication date.
            return _date(metadata.last_modified, "$.catalog.metadata.last-modified", source)
        return None

    catalog = Catalog(
        id=catalog_id or native_id or _slug(metadata.title, metadata.version),
        version=version or metadata.version.strip(),
        title=metadata.title.strip(),
        description=(metadata.remarks or "").strip(),
        language=language,
        published=published_date(native_id is None),
        source_documents=_source_documents(oscal, source),
        families=importer.families,
        controls=importer.controls,
        translations=_oscal_text.read_catalog(metadata.props),
    )
    # What the document has beyond the readable form (metadata, parameters, back-matter, its own uuid) is kept
    # for the export, unless the readable form exports to exactly the same.
    kept = _strip(raw, ("groups", "controls"))
    kept["metadata"] = _strip(raw["metadata"], ())
    if kept != _strip(_plain_catalog(catalog), ()):
        catalog = msgspec.structs.replace(catalog, oscal=kept, published=published_date(True))
    validate_catalog(catalog, source=source, complete=False)
    return in_canonical_order(catalog)


def _source_documents(oscal: OscalCatalog, source: str) -> list[SourceDocument]:
    documents = []
    resources = oscal.back_matter.resources if oscal.back_matter else []
    for index, resource in enumerate(resources):
        own = {prop.name: prop.value for _, prop in _split_props(resource.props)[0]}
        if "source-document-id" not in own:
            continue
        date = own.get("date")
        path = f"$.catalog.back-matter.resources[{index}]"
        translations = {
            lang: DocumentText(title=prop.value)
            for _, prop in _split_props(resource.props)[0]
            if prop.name == "title" and (lang := _oscal_text.lang_of(prop.class_))
        }
        documents.append(
            SourceDocument(
                id=own["source-document-id"],
                title=(resource.title or own["source-document-id"]).strip(),
                issuer=own.get("issuer"),
                date=_date(date, f"{path}.props", source) if date else None,
                url=resource.rlinks[0].href if resource.rlinks else None,
                translations=translations,
            )
        )
    return documents
