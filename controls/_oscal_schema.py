"""The subset of the OSCAL 1.1 catalog model that the importer reads and the exporter writes.

Unknown OSCAL fields (links, roles, parties...) are accepted here; the importer keeps them from the
document's own JSON (see ``Control.oscal``), so nothing of a foreign catalog is lost.
"""

from __future__ import annotations

import msgspec


class OscalProp(msgspec.Struct, kw_only=True, omit_defaults=True, rename="kebab"):
    name: str
    value: str
    ns: str | None = None
    class_: str | None = msgspec.field(default=None, name="class")
    remarks: str | None = None


class OscalPart(msgspec.Struct, kw_only=True, omit_defaults=True, rename="kebab"):
    id: str | None = None
    name: str
    ns: str | None = None
    class_: str | None = msgspec.field(default=None, name="class")
    title: str | None = None
    props: list[OscalProp] = []
    prose: str | None = None
    parts: list[OscalPart] = []


class OscalSelect(msgspec.Struct, kw_only=True, omit_defaults=True, rename="kebab"):
    how_many: str | None = None
    choice: list[str] = []


class OscalParam(msgspec.Struct, kw_only=True, omit_defaults=True, rename="kebab"):
    id: str
    props: list[OscalProp] = []
    label: str | None = None
    values: list[str] = []
    select: OscalSelect | None = None


class OscalControl(msgspec.Struct, kw_only=True, omit_defaults=True, rename="kebab"):
    id: str
    class_: str | None = msgspec.field(default=None, name="class")
    title: str
    params: list[OscalParam] = []
    props: list[OscalProp] = []
    parts: list[OscalPart] = []
    controls: list[OscalControl] = []


class OscalGroup(msgspec.Struct, kw_only=True, omit_defaults=True, rename="kebab"):
    id: str | None = None
    class_: str | None = msgspec.field(default=None, name="class")
    title: str
    params: list[OscalParam] = []
    props: list[OscalProp] = []
    parts: list[OscalPart] = []
    groups: list[OscalGroup] = []
    controls: list[OscalControl] = []


class OscalMetadata(msgspec.Struct, kw_only=True, omit_defaults=True, rename="kebab"):
    title: str
    published: str | None = None
    last_modified: str
    version: str
    oscal_version: str
    props: list[OscalProp] = []
    remarks: str | None = None


class OscalLink(msgspec.Struct, kw_only=True, omit_defaults=True, rename="kebab"):
    href: str


class OscalResource(msgspec.Struct, kw_only=True, omit_defaults=True, rename="kebab"):
    uuid: str
    title: str | None = None
    description: str | None = None
    props: list[OscalProp] = []
    rlinks: list[OscalLink] = []


class OscalBackMatter(msgspec.Struct, kw_only=True, omit_defaults=True, rename="kebab"):
    resources: list[OscalResource] = []


class OscalCatalog(msgspec.Struct, kw_only=True, omit_defaults=True, rename="kebab"):
    uuid: str
    metadata: OscalMetadata
    params: list[OscalParam] = []
    controls: list[OscalControl] = []
    groups: list[OscalGroup] = []
    back_matter: OscalBackMatter | None = None


class OscalDocument(msgspec.Struct, kw_only=True, omit_defaults=True, rename="kebab"):
    catalog: OscalCatalog
