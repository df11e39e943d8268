"""Provider pages: the dashboard, the assessment by family with an answer form per control, evidence upload,
the submit confirmation, and revision history with differences. Regulators get the same pages read-only."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from portal.deps import Assessments, CallerDep, Catalogs, EvidenceFiles, Reviews
from portal.domain.assessments.controllers import VERSION_TAG
from portal.domain.assessments.schemas import AnswerIn, AnswerStatus, NewAssessment
from portal.domain.assessments.services import AssessmentService
from portal.domain.catalogs.services import CatalogService
from portal.domain.context import Caller
from portal.domain.evidence.services import EvidenceService
from portal.domain.reviews.schemas import OPEN_VERDICTS
from portal.domain.reviews.services import ReviewService
from portal.errors import PortalError
from portal.i18n import current_language
from portal.pages import form_errors, parse_form, render
from portal.problems import status_of
from portal.security import policy
from portal.security.auth import requires_login

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
    async def dashboard(
        self, request: Request[Any, Any, Any], assessments: Assessments, catalogs: Catalogs, caller: CallerDep
    ) -> Template:
        return await _dashboard(assessments, catalogs, request, caller)

    @post("/")
    async def open(
        self,
        request: Request[Any, Any, Any],
        assessments: Assessments,
        catalogs: Catalogs,
        caller: CallerDep,
        data: Form,
    ) -> Any:
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
                opened = await assessments.open_assessment(caller, wanted)
                return Redirect(path=f"/assessments/{opened.id}?notice=opened")
            except PortalError as exc:
                return await _dashboard(
                    assessments,
                    catalogs,
                    request,
                    caller,
                    errors=form_errors(exc),
                    form=data,
                    status_code=status_of(exc),
                )
        return await _dashboard(assessments, catalogs, request, caller, errors=errors, form=data, status_code=422)

    @get("/{assessment_id:uuid}")
    async def detail(
        self,
        request: Request[Any, Any, Any],
        assessments: Assessments,
        evidence: EvidenceFiles,
        reviews: Reviews,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
    ) -> Template:
        return await _detail(assessments, evidence, reviews, request, caller, assessment_id)

    @post("/{assessment_id:uuid}/answers/{control_id:str}")
    async def answer(
        self,
        request: Request[Any, Any, Any],
        assessments: Assessments,
        evidence: EvidenceFiles,
        reviews: Reviews,
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
                await assessments.answer_control(caller, assessment_id, control_id, answer, None)
                return Redirect(
                    path=f"/assessments/{assessment_id}?notice=saved&open={control_id}#control-{control_id}"
                )
            except PortalError as exc:
                errors, status = form_errors(exc), status_of(exc)
        else:
            status = 422
        errors = [{**e, "field": f"{control_id} {e['field']}".strip()} for e in errors]
        return await _detail(
            assessments,
            evidence,
            reviews,
            request,
            caller,
            assessment_id,
            errors=errors,
            status_code=status,
            draft={control_id: body},
        )

    @get("/{assessment_id:uuid}/submit")
    async def confirm_submit(
        self,
        request: Request[Any, Any, Any],
        assessments: Assessments,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
    ) -> Template:
        assessment = await assessments.get_assessment(caller, assessment_id)
        return render(request, "assessments/submit.html", assessment=assessment)

    @post("/{assessment_id:uuid}/submit")
    async def submit(
        self,
        request: Request[Any, Any, Any],
        assessments: Assessments,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Any:
        assessment = await assessments.get_assessment(caller, assessment_id)
        if data.get("confirm") != "yes":
            errors = [{"field": "confirm", "message": "tick the box to confirm the submission"}]
            return render(request, "assessments/submit.html", status_code=422, assessment=assessment, errors=errors)
        try:
            done = await assessments.submit(caller, assessment_id)
        except PortalError as exc:
            return render(
                request,
                "assessments/submit.html",
                status_code=status_of(exc),
                assessment=assessment,
                errors=form_errors(exc),
            )
        return Redirect(path=f"/assessments/{assessment_id}/revisions/{done.revision.number}?notice=submitted")

    @post("/{assessment_id:uuid}/evidence/{evidence_id:uuid}/delete")
    async def remove_evidence(
        self,
        request: Request[Any, Any, Any],
        assessments: Assessments,
        evidence: EvidenceFiles,
        reviews: Reviews,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        evidence_id: FromPath[uuid.UUID],
    ) -> Any:
        try:
            await evidence.delete_evidence(caller, evidence_id)
        except PortalError as exc:
            return await _detail(
                assessments,
                evidence,
                reviews,
                request,
                caller,
                assessment_id,
                errors=form_errors(exc),
                status_code=status_of(exc),
            )
        return Redirect(path=f"/assessments/{assessment_id}?notice=evidence-removed#evidence")

    @post("/{assessment_id:uuid}/withdraw")
    async def withdraw(
        self, assessments: Assessments, caller: CallerDep, assessment_id: FromPath[uuid.UUID]
    ) -> Redirect:
        await assessments.withdraw(caller, assessment_id)
        return Redirect(path=f"/assessments/{assessment_id}?notice=withdrawn")

    @get("/{assessment_id:uuid}/revisions/{number:int}")
    async def revision(
        self,
        request: Request[Any, Any, Any],
        assessments: Assessments,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        number: FromPath[int],
        against: FromQuery[int | None] = None,
    ) -> Template:
        assessment = await assessments.get_assessment(caller, assessment_id)
        revision = await assessments.get_revision(caller, assessment_id, number)
        diff = await assessments.diff_revisions(caller, assessment_id, number, against) if against else None
        return render(request, "assessments/revision.html", assessment=assessment, revision=revision, diff=diff)


async def _dashboard(
    assessments: AssessmentService,
    catalogs: CatalogService,
    request: Request[Any, Any, Any],
    caller: Caller,
    status_code: int = 200,
    **context: Any,
) -> Template:
    principal = caller.actor
    published = [c for c in await catalogs.list_catalogs(caller) if c.status == "published"]
    return render(
        request,
        "assessments/list.html",
        status_code=status_code,
        assessments=await assessments.list_assessments(caller),
        catalogs=published,
        can_open=bool(policy.may_prepare_assessments(principal)),
        verified=principal.organisation_status == "verified",
        form=context.pop("form", {}),
        **context,
    )


async def _detail(
    assessments: AssessmentService,
    evidence_files: EvidenceService,
    reviews: ReviewService,
    request: Request[Any, Any, Any],
    caller: Caller,
    assessment_id: uuid.UUID,
    status_code: int = 200,
    **context: Any,
) -> Template:
    principal = caller.actor
    assessment = await assessments.get_assessment(caller, assessment_id, language=current_language.get())
    evidence = await evidence_files.list_evidence(caller, assessment_id)
    families = [
        (family, [item for item in assessment.controls if item.family == family.family])
        for family in assessment.progress.families
    ]
    # The family of the control just saved stays open, so the page lands on it.
    focus = request.query_params.get("open", "")
    open_family = next((item.family for item in assessment.controls if item.control_id == focus), "")
    # The review as the provider sees it: findings once handed back, and every thread they may read.
    findings = (
        {f.control_id: f for f in (await reviews.findings(caller, assessment_id)).findings}
        if policy.may_see_findings(principal, assessment)
        else {}
    )
    threads = await reviews.threads(caller, assessment_id) if assessment.revision > 0 else []
    return render(
        request,
        "assessments/detail.html",
        status_code=status_code,
        assessment=assessment,
        families=families,
        evidence=evidence,
        evidence_names={str(e.id): e.filename for e in evidence},
        # The buttons a person sees come from the same decisions the services enforce.
        editable=bool(policy.may_edit_answers(principal, assessment)),
        can_submit=bool(policy.may_submit(principal, assessment)),
        can_withdraw=bool(policy.may_withdraw(principal, assessment)),
        statuses=[s.value for s in AnswerStatus],
        today=dt.date.today().isoformat(),
        draft=context.pop("draft", {}),
        open_family=open_family,
        max_upload_mb=evidence_files.max_upload_bytes // 2**20,
        findings=findings,
        open_findings=[c for c, f in findings.items() if f.finding is not None and f.finding.verdict in OPEN_VERDICTS],
        threads=threads,
        can_comment=bool(policy.may_comment(principal, assessment, internal=False)),
        can_internal=bool(policy.may_comment(principal, assessment, internal=True)),
        **context,
    )
