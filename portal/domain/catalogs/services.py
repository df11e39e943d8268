"""Control catalogs in the portal: import, publish, retire, read.

A published version never changes: a change is a new version. Drafts are seen by regulators only; the public
sees published and retired versions. The operator's own commands (the CLI, start-up) act as the system, with
no principal; over HTTP, every change needs a regulator admin.
"""

from __future__ import annotations

import collections
import re
import uuid
from typing import Literal

import msgspec

import controls
from controls.validation import CATALOG_ID, VERSION
from portal.clock import now
from portal.db import atomic
from portal.domain.audit.services import record
from portal.domain.catalogs import repo
from portal.domain.catalogs.repo import CatalogRecord
from portal.domain.catalogs.schemas import (
    CatalogOut,
    CatalogStatus,
    CatalogSummary,
    CatalogView,
    ControlOut,
    FamilyOut,
    ImportOutcome,
    ImportResult,
)
from portal.domain.context import SYSTEM, Caller
from portal.domain.evidence.storage import SNIFF_BYTES, sniff
from portal.domain.states import StateMachine
from portal.errors import Conflict, InvalidInput, Message, NotFound
from portal.security import policy
from portal.security.principal import Principal

PUBLIC_STATUSES = (CatalogStatus.PUBLISHED, CatalogStatus.RETIRED)
ALL_STATUSES = (CatalogStatus.DRAFT, *PUBLIC_STATUSES)


CATALOG_STATUS = StateMachine[CatalogStatus](
    "catalog",
    {
        CatalogStatus.DRAFT: {CatalogStatus.PUBLISHED},
        CatalogStatus.PUBLISHED: {CatalogStatus.RETIRED},
        CatalogStatus.RETIRED: set(),
    },
)


def _summary(row: CatalogRecord) -> CatalogSummary:
    return CatalogSummary(
        id=row.catalog_id,
        version=row.version,
        title=row.title,
        status=CatalogStatus(row.status),
        digest=row.digest,
        control_count=row.control_count,
        published_at=row.published_at,
        retired_at=row.retired_at,
    )


def _version_key(version: str) -> tuple[tuple[int, ...], str]:
    """Order versions numerically (1.10 after 1.9); anything after the numbers breaks ties as text."""
    numbers = re.match(r"[0-9]+(?:\.[0-9]+)*", version)
    head = tuple(int(part) for part in numbers.group(0).split(".")) if numbers else ()
    return head, version[numbers.end() if numbers else 0 :]


def _in_order(rows: list[CatalogRecord]) -> list[CatalogRecord]:
    return sorted(rows, key=lambda row: (row.catalog_id, _version_key(row.version)))


def _sees_drafts(caller: Caller) -> bool:
    return policy.may_see_catalog_drafts(caller.principal)


async def _row(catalog_id: str, version: str, *, drafts: bool) -> CatalogRecord:
    # Every stored catalog passed validation, so a name outside its patterns (say, with a NUL character, which
    # PostgreSQL refuses) names nothing; the database is not asked.
    if not CATALOG_ID.fullmatch(catalog_id):
        raise NotFound(Message("there is no catalog %(id)r", id=catalog_id), catalog_id=catalog_id)
    row = await repo.by_ref(catalog_id, version) if VERSION.fullmatch(version) else None
    if row is None or (row.status == CatalogStatus.DRAFT and not drafts):
        statuses = ALL_STATUSES if drafts else PUBLIC_STATUSES
        known = [other.version for other in _in_order(await repo.versions(catalog_id, statuses))]
        if not known:
            raise NotFound(Message("there is no catalog %(id)r", id=catalog_id), catalog_id=catalog_id)
        raise NotFound(
            Message(
                "catalog %(id)r has no version %(version)r; its versions are: %(known)s",
                id=catalog_id,
                version=version,
                known=", ".join(known),
            ),
            catalog_id=catalog_id,
            version=version,
            versions=known,
        )
    return row


def catalog_out(view: CatalogView) -> CatalogOut:
    catalog = view.catalog
    counts = collections.Counter(control.family for control in catalog.controls)
    return CatalogOut(
        **msgspec.structs.asdict(view.summary),
        description=catalog.description,
        language=catalog.language,
        translations=catalog.translations,
        published=catalog.published,
        source_documents=catalog.source_documents,
        families=[
            FamilyOut(
                id=f.id,
                title=f.title,
                pillar=f.pillar,
                description=f.description,
                control_count=counts[f.id],
                translations=f.translations,
            )
            for f in catalog.families
        ],
        controls=[
            ControlOut(**{k: v for k, v in msgspec.structs.asdict(control).items() if k != "oscal"})
            for control in catalog.controls
        ],
    )


def filter_controls(
    catalog: controls.Catalog, *, text: str = "", pillar: str = "", category: str = ""
) -> list[controls.Control]:
    """The controls matching every given filter; ``text`` matches id, title, statement and guidance, any case.

    Unknown pillar or category values raise ``InvalidInput`` naming the field.
    """
    if pillar and pillar not in controls.Pillar.__members__:
        raise InvalidInput(f"unknown pillar {pillar!r}; one of: security, privacy", field="pillar")
    if category and category not in controls.ProviderCategory.__members__:
        known = ", ".join(controls.ProviderCategory)
        raise InvalidInput(f"unknown provider category {category!r}; one of: {known}", field="category")
    words = text.casefold().split()

    def matches(control: controls.Control) -> bool:
        if pillar and control.pillar != pillar:
            return False
        if category and category not in control.categories:
            return False
        haystack = " ".join((control.id, control.title, control.statement, control.guidance)).casefold()
        return all(word in haystack for word in words)

    return [control for control in catalog.controls if matches(control)]


def _check_columns(catalog: controls.Catalog) -> None:
    if len(catalog.id) > repo.ID_MAX:
        raise InvalidInput(f"catalog id {catalog.id!r} is longer than {repo.ID_MAX} characters", field="id")
    if len(catalog.version) > repo.VERSION_MAX:
        raise InvalidInput(f"version {catalog.version!r} is longer than {repo.VERSION_MAX} characters", field="version")


def _listing_title(title: str) -> str:
    # The full title stays in the document; the column holds what a listing shows.
    return title if len(title) <= repo.TITLE_MAX else title[: repo.TITLE_MAX - 1] + "…"


def _import_message(ref: str, outcome: str, summary: CatalogSummary, *, published_now: bool) -> str:
    facts = f"{summary.control_count} controls, digest {summary.digest}"
    if outcome == "unchanged" and not published_now:
        return f"{ref} is already stored with this content ({summary.status}); nothing changed"
    action = {"imported": "imported", "replaced": "replaced the draft", "unchanged": "published the stored draft"}
    published = " and published it" if published_now and outcome != "unchanged" else ""
    return f"{action[outcome]} {ref}{published}: {facts}"


def _refusal(ref: str, current: CatalogStatus, wanted: CatalogStatus) -> str:
    if current == wanted:
        return f"{ref} is already {current}"
    if wanted == CatalogStatus.PUBLISHED:
        return f"{ref} is retired; a retired version is not published again — import a new version"
    return f"{ref} is a draft; only a published version can be retired"


def parse_document(data: bytes, *, format: Literal["native", "oscal"], source: str) -> controls.Catalog:
    """Decode a catalog sent over HTTP; a bad document is ``InvalidInput`` saying where and what."""
    try:
        if format == "oscal":
            return controls.from_oscal(data, source=source)
        return controls.decode_catalog(data, source=source, format="json")
    except controls.CatalogError as exc:
        raise InvalidInput(f"{exc.path}: {exc.problem}", field=exc.path) from exc


class CatalogService:
    """Reads and changes stored catalog versions; keeps recently decoded catalogs by digest."""

    def __init__(self, cache_size: int = 16) -> None:
        # The digest names the exact content, so an entry never goes stale.
        self._decoded: collections.OrderedDict[str, controls.Catalog] = collections.OrderedDict()
        self._cache_size = cache_size

    async def _catalog_of(self, row: CatalogRecord) -> controls.Catalog:
        if row.digest in self._decoded:
            self._decoded.move_to_end(row.digest)
            return self._decoded[row.digest]
        # Validated when it was imported; decoding the stored JSON is enough.
        catalog = msgspec.json.decode(await repo.document(row.id), type=controls.Catalog)
        self._decoded[row.digest] = catalog
        while len(self._decoded) > self._cache_size:
            self._decoded.popitem(last=False)
        return catalog

    async def list_catalogs(self, caller: Caller) -> list[CatalogSummary]:
        """Every catalog version the caller may see: published and retired ones, and drafts for regulators."""
        statuses = ALL_STATUSES if _sees_drafts(caller) else PUBLIC_STATUSES
        return [_summary(row) for row in _in_order(await repo.rows(statuses))]

    async def list_versions(self, caller: Caller, catalog_id: str) -> list[CatalogSummary]:
        statuses = ALL_STATUSES if _sees_drafts(caller) else PUBLIC_STATUSES
        return [_summary(row) for row in _in_order(await repo.versions(catalog_id, statuses))]

    async def get_catalog(self, caller: Caller, catalog_id: str, version: str) -> CatalogView:
        """One catalog version the caller may see; ``NotFound`` (naming the versions there are) otherwise."""
        row = await _row(catalog_id, version, drafts=_sees_drafts(caller))
        return CatalogView(row_id=row.id, summary=_summary(row), catalog=await self._catalog_of(row))

    async def stored_catalog(self, catalog_id: str, version: str) -> CatalogView:
        """Any stored version, drafts included — for the operator's export command."""
        row = await _row(catalog_id, version, drafts=True)
        return CatalogView(row_id=row.id, summary=_summary(row), catalog=await self._catalog_of(row))

    async def published_catalog(self, catalog_id: str, version: str) -> tuple[uuid.UUID, controls.Catalog]:
        """The row id and content of a published version: the only kind a provider may file an assessment on.

        ``NotFound`` when there is no such version (or only a draft); ``Conflict`` when it is retired.
        """
        row = await _row(catalog_id, version, drafts=False)
        if row.status != CatalogStatus.PUBLISHED:
            raise Conflict(
                Message(
                    "catalog %(id)s version %(version)s is retired; file new assessments on a published version",
                    id=catalog_id,
                    version=version,
                ),
                catalog_id=catalog_id,
                version=version,
                catalog_status=row.status,
            )
        return row.id, await self._catalog_of(row)

    async def diff(self, caller: Caller, catalog_id: str, version: str, against: str) -> controls.CatalogDiff:
        """What changed from version ``against`` (the older one, usually) to ``version``."""
        old = await self.get_catalog(caller, catalog_id, against)
        new = await self.get_catalog(caller, catalog_id, version)
        return controls.diff_catalogs(old.catalog, new.catalog)

    async def import_catalog(self, caller: Caller, catalog: controls.Catalog, *, publish: bool) -> ImportResult:
        """Store a catalog version as a draft (then publish it, with ``publish``), in one transaction.

        A published or retired version never changes: the same content again is a no-op that says so, other
        content is a ``Conflict``. A draft with the same id and version is replaced.
        """
        await policy.require(caller, policy.may_manage_catalogs(caller.principal), object_type="catalog")
        _check_columns(catalog)
        digest = controls.catalog_digest(catalog)
        ref = repo.ref(catalog.id, catalog.version)
        content = {
            "title": _listing_title(catalog.title),
            "digest": digest,
            "control_count": len(catalog.controls),
            "document": controls.encode_catalog(catalog).decode(),
        }
        outcome: ImportOutcome = "unchanged"
        async with atomic():
            row = await repo.by_ref(catalog.id, catalog.version)
            if row is None:
                outcome = "imported"
                row_id = await repo.insert(
                    {
                        "reference": ref,
                        "catalog_id": catalog.id,
                        "version": catalog.version,
                        "status": CatalogStatus.DRAFT,
                        "created_at": now(),
                        **content,
                    }
                )
            else:
                row_id = row.id
                if row.status != CatalogStatus.DRAFT and row.digest != digest:
                    raise Conflict(
                        Message(
                            "%(ref)s is %(status)s with digest %(digest)s: a published version never changes;"
                            " import it as a new version",
                            ref=ref,
                            status=row.status,
                            digest=row.digest,
                        ),
                        catalog_id=catalog.id,
                        version=catalog.version,
                        digest=row.digest,
                    )
                if row.status == CatalogStatus.DRAFT and row.digest != digest:
                    outcome = "replaced"
                    if not await repo.replace_draft(row_id, content):
                        raise Conflict(
                            Message("%(ref)s was published meanwhile; import the change as a new version", ref=ref)
                        )
            if outcome != "unchanged":
                await record(
                    caller,
                    "catalog.imported",
                    object_type="catalog",
                    object_id=ref,
                    before={"digest": row.digest} if row else None,
                    after={"digest": digest, "control_count": len(catalog.controls), "status": "draft"},
                )
            was_draft = row is None or row.status == CatalogStatus.DRAFT
            if publish and was_draft:
                await self._change_status(caller, row_id, CatalogStatus.PUBLISHED)
            stored = await repo.by_ref(catalog.id, catalog.version)
        assert stored is not None
        summary = _summary(stored)
        published_now = publish and was_draft
        return ImportResult(
            **msgspec.structs.asdict(summary),
            outcome=outcome,
            message=_import_message(ref, outcome, summary, published_now=published_now),
        )

    async def _change_status(self, caller: Caller, row_id: uuid.UUID, status: CatalogStatus) -> None:
        """Move a version along draft -> published -> retired; anything else is a ``Conflict``."""
        async with atomic():
            row = await repo.by_id(row_id)
            assert row is not None
            current, ref = CatalogStatus(row.status), row.reference
            if not CATALOG_STATUS.allows(current, status):
                raise Conflict(_refusal(ref, current, status), catalog_status=current)
            principal = caller.principal
            by = principal.user_id if isinstance(principal, Principal) else None
            if not await repo.move_status(row_id, current, status, at=now(), by=by):
                raise Conflict(Message("%(ref)s changed meanwhile; reload it and try again", ref=ref))
            await record(
                caller,
                f"catalog.{status}",
                object_type="catalog",
                object_id=ref,
                before={"status": current},
                after={"status": status},
            )

    async def _set_status(self, caller: Caller, catalog_id: str, version: str, status: CatalogStatus) -> CatalogSummary:
        await policy.require(caller, policy.may_manage_catalogs(caller.principal), object_type="catalog")
        row = await _row(catalog_id, version, drafts=True)
        await self._change_status(caller, row.id, status)
        stored = await repo.by_ref(catalog_id, version)
        assert stored is not None
        return _summary(stored)

    async def publish(self, caller: Caller, catalog_id: str, version: str) -> CatalogSummary:
        """Publish a draft (regulator admin only). From now on its content never changes."""
        return await self._set_status(caller, catalog_id, version, CatalogStatus.PUBLISHED)

    async def retire(self, caller: Caller, catalog_id: str, version: str) -> CatalogSummary:
        """Retire a published version (regulator admin only): still readable, closed to new assessments."""
        return await self._set_status(caller, catalog_id, version, CatalogStatus.RETIRED)

    async def ensure_baseline(self) -> ImportResult:
        """Import and publish the built-in baseline catalog if its version is not stored yet; idempotent."""
        return await self.import_catalog(SYSTEM, controls.baseline_catalog(), publish=True)

    async def catalog_for_row(self, row_id: uuid.UUID) -> controls.Catalog:
        """The content of a stored catalog version by row id, whatever its status (assessments keep theirs)."""
        row = await repo.by_id(row_id)
        if row is None:
            raise NotFound("no such catalog version")
        return await self._catalog_of(row)


def parse_upload(data: bytes, filename: str) -> controls.Catalog:
    """A catalog file sent from the catalog page: JSON by its bytes (as evidence is sniffed), OSCAL when it
    is an OSCAL catalog document (``{"catalog": ...}``), the native format otherwise.

    ``InvalidInput`` (field ``file``) says what is wrong: not JSON, not a catalog, or where a rule breaks.
    """
    if not data.strip():
        raise InvalidInput("the file is empty", field="file")
    kind = sniff(data[:SNIFF_BYTES], filename)
    if kind != "application/json":
        found = kind or "binary data"
        raise InvalidInput(
            Message(
                "a catalog file is JSON (an OSCAL catalog, or the portal's native catalog); this file is %(found)s",
                found=found,
            ),
            field="file",
        )
    try:
        head = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise InvalidInput(Message("the file is not valid JSON: %(error)s", error=str(exc)), field="file") from exc
    oscal = isinstance(head, dict) and "catalog" in head
    try:
        return parse_document(data, format="oscal" if oscal else "native", source=filename or "upload")
    except InvalidInput as exc:
        what = "OSCAL catalog" if oscal else "native catalog"
        raise InvalidInput(
            Message("not a valid %(what)s: %(problem)s", what=what, problem=exc.detail),
            field="file",
            path=exc.extra.get("field"),
        ) from exc
