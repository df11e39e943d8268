"""Issuance pages: the signing officers' queue and decision page, attestation pages with their lifecycle
actions (each confirmed), the provider's list with its certificates, and the public status page."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from portal.deps import CallerDep, Issuance
from portal.domain.context import Caller
from portal.domain.issuance.controllers import PUBLIC, checked
from portal.domain.issuance.schemas import ConditionMetIn, DecideIn, ReinstateIn, RevokeIn, SuspendIn
from portal.domain.issuance.services import IssuanceService
from portal.domain.issuance.states import RevocationReason
from portal.errors import NeverIssued, PortalError
from portal.i18n import gettext
from portal.pages import form_errors, parse_form, render, see_other
from portal.problems import status_of
from portal.security import policy
from portal.security.auth import requires_login

Form = URLEncodedBody[dict[str, Any]]


def _fields(data: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: data[name] for name in names if data.get(name) not in (None, "")}


class DecisionPages(Controller):
    path = "/decisions"
    include_in_schema = False
    guards = [requires_login]

    @get("/")
    async def queue(self, request: Request[Any, Any, Any], issuance: Issuance, caller: CallerDep) -> Template:
        return render(request, "issuance/queue.html", pending=await issuance.pending(caller))

    @get("/{assessment_id:uuid}")
    async def decision(
        self, request: Request[Any, Any, Any], issuance: Issuance, caller: CallerDep, assessment_id: FromPath[uuid.UUID]
    ) -> Template:
        return await _decision_page(issuance, request, caller, assessment_id)

    @post("/{assessment_id:uuid}")
    async def decide(
        self,
        request: Request[Any, Any, Any],
        issuance: Issuance,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Any:
        wanted, errors = parse_form(DecideIn, _fields(data, "decision", "valid_days", "reason"))
        status = 422
        if wanted is not None and data.get("confirm") != "yes":
            errors = [{"field": "confirm", "message": gettext("tick the box to confirm the decision")}]
        elif wanted is not None:
            try:
                outcome = await issuance.decide(caller, assessment_id, wanted)
            except PortalError as exc:
                errors, status = form_errors(exc), status_of(exc)
            else:
                serial = getattr(outcome, "serial", None)
                target = f"/attestations/{serial}?notice=issued" if serial else "/decisions?notice=rejected-assessment"
                return see_other(path=target)
        return await _decision_page(issuance, request, caller, assessment_id, errors=errors, form=data, status=status)


async def _decision_page(
    issuance: IssuanceService,
    request: Request[Any, Any, Any],
    caller: Caller,
    assessment_id: uuid.UUID,
    *,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    found = await issuance.pending(caller, assessment_id)
    return render(
        request,
        "issuance/decide.html",
        status_code=status,
        item=found[0] if found else None,
        errors=errors or [],
        form=form or {"valid_days": "365"},
    )


class AttestationPages(Controller):
    path = "/attestations"
    include_in_schema = False

    @get("/", guards=[requires_login])
    async def listing(self, request: Request[Any, Any, Any], issuance: Issuance, caller: CallerDep) -> Template:
        return render(request, "issuance/list.html", attestations=await issuance.listing(caller))

    @get("/{serial:str}", middleware=[PUBLIC])
    async def detail(
        self, request: Request[Any, Any, Any], issuance: Issuance, caller: CallerDep, serial: FromPath[str]
    ) -> Template:
        try:
            return await _attestation_page(issuance, request, caller, serial)
        except NeverIssued:
            # Said in plain words, and unlike any status: nothing was ever issued under this serial.
            return render(request, "issuance/never_issued.html", status_code=404, serial=serial)

    @get("/{serial:str}/{action:str}")
    async def reloaded(self, serial: FromPath[str]) -> Redirect:
        """A lifecycle form's address reloaded after an error is the attestation, never 405."""
        return see_other(path=f"/attestations/{quote(serial, safe='')}")

    @post("/{serial:str}/{action:str}", guards=[requires_login])
    async def act(
        self,
        request: Request[Any, Any, Any],
        issuance: Issuance,
        caller: CallerDep,
        serial: FromPath[str],
        action: FromPath[str],
        data: Form,
    ) -> Any:
        serial = checked(serial)
        errors: list[dict[str, str]] = []
        status = 422
        try:
            if data.get("confirm") != "yes":
                errors = [
                    {"field": "confirm", "message": gettext("tick the box to confirm; this changes the public status")}
                ]
            elif action == "suspend":
                body, errors = parse_form(SuspendIn, _until(_fields(data, "reason", "until")))
                if body is not None:
                    await issuance.suspend(caller, serial, body)
            elif action == "reinstate":
                reinstate, errors = parse_form(ReinstateIn, _fields(data, "reason"))
                if reinstate is not None:
                    await issuance.reinstate(caller, serial, reinstate.reason)
            elif action == "revoke":
                revoke, errors = parse_form(RevokeIn, _fields(data, "reason", "detail"))
                if revoke is not None:
                    await issuance.revoke(caller, serial, revoke)
            elif (
                action.startswith("condition-")
                and action.removeprefix("condition-").isascii()
                and action.removeprefix("condition-").isdigit()
            ):
                met, errors = parse_form(ConditionMetIn, _fields(data, "note"))
                if met is not None:
                    await issuance.condition_met(caller, serial, int(action.removeprefix("condition-")), met.note)
            else:
                errors, status = [{"field": "", "message": gettext("unknown action")}], 404
        except PortalError as exc:
            errors, status = form_errors(exc), status_of(exc)
        if not errors:
            return see_other(path=f"/attestations/{serial}?notice=attestation-{action.split('-')[0]}")
        return await _attestation_page(issuance, request, caller, serial, errors=errors, form=data, status=status)


def _until(fields: dict[str, Any]) -> dict[str, Any]:
    """A date typed in the form means the end of that day, UTC."""
    if "until" in fields and len(str(fields["until"])) == 10:
        fields["until"] = f"{fields['until']}T23:59:59Z"
    return fields


async def _attestation_page(
    issuance: IssuanceService,
    request: Request[Any, Any, Any],
    caller: Caller,
    serial: str,
    *,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    attestation = await issuance.get(checked(serial))
    page = render(
        request,
        "issuance/attestation.html",
        status_code=status,
        a=attestation,
        manage=bool(policy.may_manage_attestation(caller.principal)),
        reasons=list(RevocationReason),
        today=dt.date.today().isoformat(),
        errors=errors or [],
        form=form or {},
    )
    # The status is on the page: revalidated on every view (private when it carries a signed-in user's forms).
    page.headers["Cache-Control"] = "private, no-cache" if caller.principal is not None else "no-cache"
    return page
