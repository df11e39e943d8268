"""The public catalog browser: the list of versions, one version's families and controls, a version diff."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

import controls
from portal.deps import CallerDep, Catalogs
from portal.domain.catalogs.services import CatalogService, filter_controls
from portal.domain.context import Caller
from portal.errors import InvalidInput, PortalError
from portal.i18n import gettext
from portal.pages import form_errors, render, see_other
from portal.security import policy
from portal.security.auth import requires_role
from portal.security.principal import Role


def _url(catalog_id: str, version: str) -> str:
    return f"/catalogs/{quote(catalog_id, safe='')}/{quote(version, safe='')}"


class CatalogPages(Controller):
    path = "/catalogs"
    include_in_schema = False

    @get("/")
    async def list(self, catalogs: Catalogs, request: Request[Any, Any, Any], caller: CallerDep) -> Template:
        return render(request, "catalogs/list.html", catalogs=await catalogs.list_catalogs(caller), url=_url)

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
        catalog = view.catalog
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
