"""The regulator's organisation verification list."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from portal.deps import CallerDep, Organisations
from portal.domain.context import Caller
from portal.domain.organisations.schemas import ArabicNameChange, Rejection
from portal.domain.organisations.services import OrganisationService
from portal.errors import PortalError
from portal.pages import form_errors, parse_form, render
from portal.problems import status_of
from portal.security import policy
from portal.security.auth import requires_role
from portal.security.principal import REGULATOR_ROLES, OrganisationStatus

Form = URLEncodedBody[dict[str, Any]]


class RegulatorOrganisationPages(Controller):
    path = "/regulator/organisations"
    include_in_schema = False
    guards = [requires_role(*REGULATOR_ROLES)]

    @get("/")
    async def list(
        self,
        request: Request[Any, Any, Any],
        organisations: Organisations,
        caller: CallerDep,
        status: FromQuery[str] = "pending",
    ) -> Template:
        return await _page(organisations, request, caller, status)

    @post("/{organisation_id:uuid}/verify")
    async def verify(
        self, organisations: Organisations, caller: CallerDep, organisation_id: FromPath[uuid.UUID]
    ) -> Redirect:
        await organisations.decide(caller, organisation_id, OrganisationStatus.VERIFIED, "")
        return Redirect(path="/regulator/organisations?notice=verified")

    @post("/{organisation_id:uuid}/name-ar")
    async def rename(
        self,
        organisations: Organisations,
        request: Request[Any, Any, Any],
        caller: CallerDep,
        organisation_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Any:
        change, _ = parse_form(ArabicNameChange, {"name_ar": str(data.get("name_ar", ""))})
        if change is None:
            errors = [{"field": "name_ar", "message": "an Arabic name is at most 200 characters"}]
            return await _page(organisations, request, caller, "pending", errors=errors, status_code=422)
        organisation = await organisations.set_arabic_name(caller, organisation_id, change.name_ar)
        return Redirect(path=f"/regulator/organisations?status={organisation.status}&notice=renamed")

    @post("/{organisation_id:uuid}/reject")
    async def reject(
        self,
        organisations: Organisations,
        request: Request[Any, Any, Any],
        caller: CallerDep,
        organisation_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Any:
        rejection, errors = parse_form(Rejection, {"reason": str(data.get("reason", "")).strip()})
        if rejection is None:
            errors = [
                {"field": "reason", "message": "give the provider a reason for the rejection (3 to 2000 characters)"}
            ]
            return await _page(organisations, request, caller, "pending", errors=errors, status_code=422)
        try:
            await organisations.decide(caller, organisation_id, OrganisationStatus.REJECTED, rejection.reason)
        except PortalError as exc:
            return await _page(
                organisations, request, caller, "pending", errors=form_errors(exc), status_code=status_of(exc)
            )
        return Redirect(path="/regulator/organisations?notice=rejected")


async def _page(
    organisations: OrganisationService,
    request: Request[Any, Any, Any],
    caller: Caller,
    status: str,
    status_code: int = 200,
    **context: Any,
) -> Template:
    wanted = OrganisationStatus(status) if status in OrganisationStatus.__members__.values() else None
    return render(
        request,
        "regulator_organisations.html",
        status_code=status_code,
        status=status,
        organisations=await organisations.list_organisations(caller, wanted),
        can_decide=bool(policy.may_decide_organisation(caller.principal)),
        **context,
    )
