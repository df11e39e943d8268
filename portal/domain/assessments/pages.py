"""Provider pages: the dashboard, the assessment by family with an answer form per control, evidence upload,
the submit confirmation, and revision history with differences. Regulators get the same pages read-only."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from portal.deps import CallerDep
from portal.domain.assessments import services
from portal.domain.assessments.controllers import VERSION_TAG
from portal.domain.assessments.schemas import EDITABLE, WITHDRAWABLE, AnswerIn, AnswerStatus, NewAssessment
from portal.domain.catalogs.services import list_catalogs
from portal.domain.context import Caller
from portal.domain.evidence.services import delete_evidence, list_evidence
from portal.errors import PortalError
from portal.pages import form_errors, parse_form, render
from portal.security.auth import requires_login
from portal.security.permissions import Role

Form = URLEncodedBody[dict[str, Any]]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


def _products(text: str) -> list[dict[str, str]]:
    products = []
    for line in _lines(text):
        name, model, version = ([*(part.strip() for part in line.split("|")), "", ""])[:3]
        products.append({"name": name, "model": model, "version": version})
    return products


def _many(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    return [v for v in (value if isinstance(value, list) else [value]) if v]


class AssessmentPages(Controller):
    path = "/assessments"
    include_in_schema = False
    guards = [requires_login]

    @get("/")
    async def dashboard(self, request: Request[Any, Any, Any], caller: CallerDep) -> Template:
        return await _dashboard(request, caller)

    @post("/")
    async def open(self, request: Request[Any, Any, Any], caller: CallerDep, data: Form) -> Any:
        catalog_id, _, version = str(data.get("catalog", "")).partition("@")
        body = {
            "catalog_id": catalog_id,
            "catalog_version": version,
            "title": data.get("title", ""),
            "scope": {
                "summary": data.get("summary", ""),
                "services": _lines(data.get("services", "")),
                "products": _products(data.get("products", "")),
                "sites": _lines(data.get("sites", "")),
            },
        }
        wanted, errors = parse_form(NewAssessment, body)
        if wanted is not None:
            try:
                opened = await services.open_assessment(caller, wanted)
                return Redirect(path=f"/assessments/{opened.id}?notice=opened")
            except PortalError as exc:
                errors = form_errors(exc)
        return await _dashboard(request, caller, errors=errors, form=data, status_code=422)

    @get("/{assessment_id:uuid}")
    async def detail(
        self, request: Request[Any, Any, Any], caller: CallerDep, assessment_id: FromPath[uuid.UUID]
    ) -> Template:
        return await _detail(request, caller, assessment_id)

    @post("/{assessment_id:uuid}/answers/{control_id:str}")
    async def answer(
        self,
        request: Request[Any, Any, Any],
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        control_id: FromPath[str],
        data: Form,
    ) -> Any:
        body = {
            "status": data.get("status", ""),
            "narrative": data.get("narrative", ""),
            "justification": data.get("justification", ""),
            "planned_date": data.get("planned_date") or None,
            "evidence_ids": _many(data.get("evidence_ids")),
            "version": int(data["version"]) if VERSION_TAG.fullmatch(str(data.get("version", ""))) else None,
        }
        answer, errors = parse_form(AnswerIn, body)
        if answer is not None:
            try:
                await services.answer_control(caller, assessment_id, control_id, answer, None)
                return Redirect(
                    path=f"/assessments/{assessment_id}?notice=saved&open={control_id}#control-{control_id}"
                )
            except PortalError as exc:
                errors = form_errors(exc)
        errors = [{**e, "field": f"{control_id} {e['field']}".strip()} for e in errors]
        return await _detail(request, caller, assessment_id, errors=errors, status_code=422, draft={control_id: body})

    @get("/{assessment_id:uuid}/submit")
    async def confirm_submit(
        self, request: Request[Any, Any, Any], caller: CallerDep, assessment_id: FromPath[uuid.UUID]
    ) -> Template:
        assessment = await services.get_assessment(caller, assessment_id)
        return render(request, "assessments/submit.html", assessment=assessment)

    @post("/{assessment_id:uuid}/submit")
    async def submit(
        self, request: Request[Any, Any, Any], caller: CallerDep, assessment_id: FromPath[uuid.UUID], data: Form
    ) -> Any:
        assessment = await services.get_assessment(caller, assessment_id)
        if data.get("confirm") != "yes":
            errors = [{"field": "confirm", "message": "tick the box to confirm the submission"}]
            return render(request, "assessments/submit.html", status_code=422, assessment=assessment, errors=errors)
        try:
            done = await services.submit(caller, assessment_id)
        except PortalError as exc:
            return render(
                request, "assessments/submit.html", status_code=422, assessment=assessment, errors=form_errors(exc)
            )
        return Redirect(path=f"/assessments/{assessment_id}/revisions/{done.revision.number}?notice=submitted")

    @post("/{assessment_id:uuid}/evidence/{evidence_id:uuid}/delete")
    async def remove_evidence(
        self,
        request: Request[Any, Any, Any],
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        evidence_id: FromPath[uuid.UUID],
    ) -> Any:
        try:
            await delete_evidence(caller, request.app.state.runtime.evidence, evidence_id)
        except PortalError as exc:
            return await _detail(request, caller, assessment_id, errors=form_errors(exc), status_code=409)
        return Redirect(path=f"/assessments/{assessment_id}?notice=evidence-removed#evidence")

    @post("/{assessment_id:uuid}/withdraw")
    async def withdraw(self, caller: CallerDep, assessment_id: FromPath[uuid.UUID]) -> Redirect:
        await services.withdraw(caller, assessment_id)
        return Redirect(path=f"/assessments/{assessment_id}?notice=withdrawn")

    @get("/{assessment_id:uuid}/revisions/{number:int}")
    async def revision(
        self,
        request: Request[Any, Any, Any],
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        number: FromPath[int],
        against: FromQuery[int | None] = None,
    ) -> Template:
        assessment = await services.get_assessment(caller, assessment_id)
        revision = await services.get_revision(caller, assessment_id, number)
        diff = await services.diff_revisions(caller, assessment_id, number, against) if against else None
        return render(request, "assessments/revision.html", assessment=assessment, revision=revision, diff=diff)


async def _dashboard(
    request: Request[Any, Any, Any], caller: Caller, status_code: int = 200, **context: Any
) -> Template:
    principal = caller.actor
    catalogs = [c for c in await list_catalogs(caller) if c.status == "published"]
    return render(
        request,
        "assessments/list.html",
        status_code=status_code,
        assessments=await services.list_assessments(caller),
        catalogs=catalogs,
        can_open=principal.role in (Role.PROVIDER_ADMIN, Role.PROVIDER_EDITOR),
        verified=principal.organisation_status == "verified",
        form=context.pop("form", {}),
        **context,
    )


async def _detail(
    request: Request[Any, Any, Any], caller: Caller, assessment_id: uuid.UUID, status_code: int = 200, **context: Any
) -> Template:
    principal = caller.actor
    assessment = await services.get_assessment(caller, assessment_id)
    mine = principal.organisation_id == assessment.organisation_id
    evidence = await list_evidence(caller, assessment_id)
    families = [
        (family, [item for item in assessment.controls if item.family == family.family])
        for family in assessment.progress.families
    ]
    # The family of the control just saved stays open, so the page lands on it.
    focus = request.query_params.get("open", "")
    open_family = next((item.family for item in assessment.controls if item.control_id == focus), "")
    return render(
        request,
        "assessments/detail.html",
        status_code=status_code,
        assessment=assessment,
        families=families,
        evidence=evidence,
        evidence_names={str(e.id): e.filename for e in evidence},
        editable=mine
        and assessment.state in EDITABLE
        and principal.role in (Role.PROVIDER_ADMIN, Role.PROVIDER_EDITOR),
        can_submit=mine and assessment.state in EDITABLE and principal.role == Role.PROVIDER_ADMIN,
        can_withdraw=mine and assessment.state in WITHDRAWABLE and principal.role == Role.PROVIDER_ADMIN,
        statuses=[s.value for s in AnswerStatus],
        today=dt.date.today().isoformat(),
        draft=context.pop("draft", {}),
        open_family=open_family,
        max_upload_mb=request.app.state.runtime.settings.max_upload_bytes // 2**20,
        **context,
    )
