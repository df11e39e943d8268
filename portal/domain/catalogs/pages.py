"""The public catalog browser: the list of versions, one version's families and controls, a version diff."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

import controls
from portal.deps import CallerDep, Catalogs, EvidenceFiles
from portal.domain.catalogs.services import CatalogService, filter_controls, parse_upload
from portal.domain.context import Caller
from portal.domain.evidence.multipart import StreamedFile
from portal.errors import InvalidInput, Message, PayloadTooLarge, PortalError
from portal.i18n import current_language, gettext
from portal.pages import form_errors, render, see_other
from portal.problems import status_of
from portal.security import policy
from portal.security.auth import requires_role
from portal.security.principal import Role


def _url(catalog_id: str, version: str) -> str:
    return f"/catalogs/{quote(catalog_id, safe='')}/{quote(version, safe='')}"


async def _received(request: Request[Any, Any, Any], limit: int, body_limit: int) -> tuple[str, bytes]:
    """The uploaded file's name and bytes, within the evidence upload's limits (413 beyond them).

    A script sends the CSRF token in a header and the file streams; a plain form carries the token in the
    body, which Litestar's CSRF check has already parsed.
    """
    if request.headers.get("x-csrftoken"):
        incoming = StreamedFile(request.headers.get("content-type", ""), request.stream(), limit=body_limit)
        filename = await incoming.open()
        data = bytearray()
        async for chunk in incoming.chunks():
            data += chunk
            if len(data) > limit:
                break
    else:
        upload = (await request.form()).get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("choose a catalog file to import", field="file")
        filename, data = upload.filename or "", bytearray(await upload.read(limit + 1))
    if len(data) > limit:
        raise PayloadTooLarge(
            Message("catalog files are limited to %(mb)s MB, like evidence", mb=limit // (1024 * 1024))
        )
    return filename, bytes(data)


class CatalogPages(Controller):
    path = "/catalogs"
    include_in_schema = False

    @get("/import", guards=[requires_role(Role.REGULATOR_ADMIN)])
    async def import_form(self, request: Request[Any, Any, Any], evidence: EvidenceFiles) -> Template:
        return render(request, "catalogs/import.html", max_upload_mb=evidence.max_upload_bytes // 2**20)

    @post("/import", guards=[requires_role(Role.REGULATOR_ADMIN)], request_max_body_size=None)
    async def import_file(
        self, request: Request[Any, Any, Any], catalogs: Catalogs, caller: CallerDep, evidence: EvidenceFiles
    ) -> Any:
        """Import an uploaded catalog as a draft (audited); then its page, where it is published."""
        try:
            filename, data = await _received(request, evidence.max_upload_bytes, evidence.max_body_bytes)
            result = await catalogs.import_catalog(caller, parse_upload(data, filename), publish=False)
        except PortalError as exc:
            if "application/json" in request.headers.get("accept", ""):
                raise  # the page's script shows the problem's detail beside the field
            return render(
                request,
                "catalogs/import.html",
                status_code=status_of(exc),
                errors=form_errors(exc),
                max_upload_mb=evidence.max_upload_bytes // 2**20,
            )
        return Redirect(path=f"{_url(result.id, result.version)}?notice=catalog-{result.outcome}", status_code=303)

    @get("/")
    async def list(self, catalogs: Catalogs, request: Request[Any, Any, Any], caller: CallerDep) -> Template:
        return render(
            request,
            "catalogs/list.html",
            catalogs=await catalogs.list_catalogs(caller),
            url=_url,
            can_import=bool(policy.may_manage_catalogs(caller.principal)),
        )

    @get("/{catalog_id:str}/{version:str}")
    async def detail(
        self,
        catalogs: Catalogs,
        request: Request[Any, Any, Any],
        caller: CallerDep,
        catalog_id: FromPath[str],
        version: FromPath[str],
        q: FromQuery[str] = "",
        pillar: FromQuery[str] = "",
        category: FromQuery[str] = "",
    ) -> Template:
        view = await catalogs.get_catalog(caller, catalog_id, version)
        # The page's language where the catalog has it; otherwise the catalog's own, marked as such.
        language = current_language.get()
        catalog = controls.localized(view.catalog, language)
        errors: list[dict[str, str]] = []
        try:
            shown = filter_controls(catalog, text=q, pillar=pillar, category=category)
        except InvalidInput as exc:
            errors = form_errors(exc)
            shown = catalog.controls
        by_family = {family.id: [c for c in shown if c.family == family.id] for family in catalog.families}
        return render(
            request,
            "catalogs/detail.html",
            status_code=422 if errors else 200,
            errors=errors,
            view=view,
            catalog=catalog,
            summary=view.summary,
            url=_url(catalog_id, version),
            api="/api/v1" + _url(catalog_id, version),
            families=[(family, by_family[family.id]) for family in catalog.families if by_family[family.id]],
            family_sizes={family.id: len(catalog.controls_in(family.id)) for family in catalog.families},
            shown=len(shown),
            filtered=bool(q.strip() or pillar or category) and not errors,
            q=q,
            pillar=pillar,
            category=category,
            pillars=list(controls.Pillar),
            categories=list(controls.ProviderCategory),
            documents={document.id: document for document in catalog.source_documents},
            others=[s for s in await catalogs.list_versions(caller, catalog_id) if s.version != version],
            can_manage=bool(policy.may_manage_catalogs(caller.principal)),
            text_lang=controls.shown_language(view.catalog, language),
        )

    @get("/{catalog_id:str}/{version:str}/diff")
    async def diff(
        self,
        catalogs: Catalogs,
        request: Request[Any, Any, Any],
        caller: CallerDep,
        catalog_id: FromPath[str],
        version: FromPath[str],
        against: FromQuery[str] = "",
    ) -> Template:
        view = await catalogs.get_catalog(caller, catalog_id, version)
        others = [s for s in await catalogs.list_versions(caller, catalog_id) if s.version != version]
        changes = await catalogs.diff(caller, catalog_id, version, against) if against else None
        return render(
            request,
            "catalogs/diff.html",
            summary=view.summary,
            url=_url(catalog_id, version),
            api="/api/v1" + _url(catalog_id, version),
            against=against,
            against_url=_url(catalog_id, against) if against else "",
            others=others,
            diff=changes,
        )

    @get("/{catalog_id:str}/{version:str}/publish", guards=[requires_role(Role.REGULATOR_ADMIN)])
    async def confirm_publish(
        self,
        catalogs: Catalogs,
        request: Request[Any, Any, Any],
        caller: CallerDep,
        catalog_id: FromPath[str],
        version: FromPath[str],
    ) -> Template:
        """The confirmation step: what publishing does; nothing changes until its form is posted."""
        return await _confirm(catalogs, request, caller, catalog_id, version, "publish")

    @get("/{catalog_id:str}/{version:str}/retire", guards=[requires_role(Role.REGULATOR_ADMIN)])
    async def confirm_retire(
        self,
        catalogs: Catalogs,
        request: Request[Any, Any, Any],
        caller: CallerDep,
        catalog_id: FromPath[str],
        version: FromPath[str],
    ) -> Template:
        return await _confirm(catalogs, request, caller, catalog_id, version, "retire")

    @post("/{catalog_id:str}/{version:str}/publish", guards=[requires_role(Role.REGULATOR_ADMIN)])
    async def publish(
        self,
        catalogs: Catalogs,
        request: Request[Any, Any, Any],
        caller: CallerDep,
        catalog_id: FromPath[str],
        version: FromPath[str],
    ) -> Any:
        try:
            await catalogs.publish(caller, catalog_id, version)
        except PortalError as exc:
            return await _confirm(catalogs, request, caller, catalog_id, version, "publish", form_errors(exc))
        return see_other(path=f"{_url(catalog_id, version)}?notice=catalog-published")

    @post("/{catalog_id:str}/{version:str}/retire", guards=[requires_role(Role.REGULATOR_ADMIN)])
    async def retire(
        self,
        catalogs: Catalogs,
        request: Request[Any, Any, Any],
        caller: CallerDep,
        catalog_id: FromPath[str],
        version: FromPath[str],
    ) -> Any:
        try:
            await catalogs.retire(caller, catalog_id, version)
        except PortalError as exc:
            return await _confirm(catalogs, request, caller, catalog_id, version, "retire", form_errors(exc))
        return see_other(path=f"{_url(catalog_id, version)}?notice=catalog-retired")


# The status each change starts from: only a draft is published, only a published version retired.
CHANGES = {"publish": "draft", "retire": "published"}


async def _confirm(
    catalogs: CatalogService,
    request: Request[Any, Any, Any],
    caller: Caller,
    catalog_id: str,
    version: str,
    action: str,
    errors: list[dict[str, str]] | None = None,
) -> Template:
    view = await catalogs.get_catalog(caller, catalog_id, version)
    allowed = view.summary.status == CHANGES[action] and not errors
    if view.summary.status != CHANGES[action] and not errors:
        message = gettext("This version is %(status)s; it cannot be changed this way.")
        errors = [{"field": "", "message": message % {"status": gettext(view.summary.status)}}]
    return render(
        request,
        "catalogs/confirm.html",
        status_code=200 if allowed else 409,
        summary=view.summary,
        controls_count=len(view.catalog.controls),
        url=_url(catalog_id, version),
        action=action,
        allowed=allowed,
        errors=errors or [],
    )
