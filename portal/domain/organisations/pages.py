"""The regulator's organisation verification list."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Template

from portal.deps import CallerDep, Organisations
from portal.domain.context import Caller
from portal.domain.organisations.schemas import ArabicNameChange, Rejection
from portal.domain.organisations.services import OrganisationService
from portal.errors import Forbidden, NotFound, PortalError
from portal.i18n import gettext
from portal.pages import form_errors, parse_form, render, see_other
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
            errors = [{"field": "name_ar", "message": gettext("an Arabic name is at most 200 characters")}]
            return await _page(organisations, request, caller, "pending", errors=errors, status_code=422)
        organisation = await organisations.set_arabic_name(caller, organisation_id, change.name_ar)
        return see_other(path=f"/regulator/organisations?status={organisation.status}&notice=renamed")

    @get("/{organisation_id:uuid}/{decision:str}")
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        organisations: Organisations,
        caller: CallerDep,
        organisation_id: FromPath[uuid.UUID],
        decision: FromPath[str],
    ) -> Template:
        """The confirmation step: what the decision does, and (to reject) the reason; nothing changes yet."""
        return await _confirm(organisations, request, caller, organisation_id, decision)

    @post("/{organisation_id:uuid}/{decision:str}")
    async def decide(
        self,
        request: Request[Any, Any, Any],
        organisations: Organisations,
        caller: CallerDep,
        organisation_id: FromPath[uuid.UUID],
        decision: FromPath[str],
        data: Form,
    ) -> Any:
        if decision not in DECISIONS:
            raise NotFound("no such decision")
        reason = ""
        if decision == "reject":
            rejection, errors = parse_form(Rejection, {"reason": str(data.get("reason", "")).strip()})
            if rejection is None:
                return await _confirm(
                    organisations, request, caller, organisation_id, decision, errors, data, status_code=422
                )
            reason = rejection.reason
        try:
            await organisations.decide(caller, organisation_id, DECISIONS[decision], reason)
        except PortalError as exc:
            return await _confirm(
                organisations, request, caller, organisation_id, decision, form_errors(exc), data, status_of(exc)
            )
        return see_other(path=f"/regulator/organisations?notice={'verified' if decision == 'verify' else 'rejected'}")


DECISIONS = {"verify": OrganisationStatus.VERIFIED, "reject": OrganisationStatus.REJECTED}


async def _confirm(
    organisations: OrganisationService,
    request: Request[Any, Any, Any],
    caller: Caller,
    organisation_id: uuid.UUID,
    decision: str,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, Any] | None = None,
    status_code: int | None = None,
) -> Template:
    if decision not in DECISIONS:
        raise NotFound("no such decision")
    org = await organisations.get_organisation(caller, organisation_id)
    verdict = policy.may_decide_registration(caller.principal, org.status)
    if verdict.refusal == policy.Refusal.FORBIDDEN:
        raise Forbidden(verdict.reason)
    if not verdict and not errors:
        errors = [
            {
                "field": "",
                "message": gettext("This organisation is already %(status)s.") % {"status": gettext(org.status)},
            }
        ]
    return render(
        request,
        "regulator_decide.html",
        status_code=status_code or (200 if verdict else 409),
        org=org,
        decision=decision,
        can_decide=bool(verdict),
        form=form or {},
        errors=errors or [],
    )


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
