"""Provider pages: the dashboard, the assessment by family with an answer form per control, evidence upload,
the submit confirmation, and revision history with differences. Regulators get the same pages read-only."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

import controls
from portal import forms
from portal.deps import Assessments, CallerDep, Catalogs, EvidenceFiles, Reviews
from portal.domain.assessments.controllers import VERSION_TAG
from portal.domain.assessments.schemas import NEEDS_DATE, AnswerIn, AnswerStatus, ControlItem, NewAssessment
from portal.domain.assessments.services import AssessmentService
from portal.domain.catalogs.services import CatalogService
from portal.domain.context import Caller
from portal.domain.evidence.services import EvidenceService
from portal.domain.reviews.schemas import OPEN_VERDICTS
from portal.domain.reviews.services import ReviewService
from portal.errors import PortalError
from portal.i18n import current_language, gettext
from portal.pages import form_errors, parse_form, render, see_other
from portal.problems import status_of
from portal.security import policy
from portal.security.auth import requires_login
from portal.security.principal import OrganisationStatus

Form = URLEncodedBody[dict[str, Any]]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


def _products(text: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """``name | model | version`` per line; a line with more than three parts or no name is refused (never cut)."""
    products, errors = [], []
    for number, line in enumerate(_lines(text), start=1):
        parts = [part.strip() for part in line.split("|")]
        if len(parts) > 3 or not parts[0]:
            message = gettext("Line %(n)d of the products is not “name | model | version”: %(line)s")
            errors.append({"field": "products", "message": message % {"n": number, "line": line}})
            continue
        name, model, version = [*parts, "", ""][:3]
        products.append({"name": name, "model": model, "version": version})
    return products, errors


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
        products, refused_lines = _products(data.get("products", ""))
        body = {
            "catalog_id": catalog_id,
            "catalog_version": version,
            "title": data.get("title", ""),
            "scope": {
                "summary": data.get("summary", ""),
                "services": _lines(data.get("services", "")),
                "products": products,
                "sites": _lines(data.get("sites", "")),
            },
        }
        wanted, errors = parse_form(NewAssessment, body)
        if refused_lines:
            wanted, errors = None, refused_lines
        if wanted is not None:
            try:
                opened = await assessments.open_assessment(caller, wanted)
                return see_other(path=f"/assessments/{opened.id}?notice=opened")
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

    @post("/{assessment_id:uuid}")
    async def answer(
        self,
        request: Request[Any, Any, Any],
        assessments: Assessments,
        evidence: EvidenceFiles,
        reviews: Reviews,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Any:
        """An answer form posts to the assessment's own address (its control in the form, its anchor in the
        action), so an error shows the page, at that address, scrolled to the control with what was typed."""
        control_id = str(data.get("control_id", ""))
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
                return see_other(
                    path=f"/assessments/{assessment_id}?notice=saved&open={control_id}#control-{control_id}"
                )
            except PortalError as exc:
                errors, status = form_errors(exc), status_of(exc)
        else:
            status = 422
        errors = [{**e, "control": control_id} for e in errors]
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
            focus=control_id,
        )

    @get("/{assessment_id:uuid}/submit")
    async def confirm_submit(
        self,
        request: Request[Any, Any, Any],
        assessments: Assessments,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
    ) -> Template:
        return await _confirm(assessments, request, caller, assessment_id, "submit")

    @post("/{assessment_id:uuid}/submit")
    async def submit(
        self,
        request: Request[Any, Any, Any],
        assessments: Assessments,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Any:
        if data.get("confirm") != "yes":
            errors = forms.error("confirm", forms.FIELD_MESSAGES["confirm"])
            return await _confirm(assessments, request, caller, assessment_id, "submit", errors, 422)
        try:
            done = await assessments.submit(caller, assessment_id)
        except PortalError as exc:
            return await _confirm(
                assessments, request, caller, assessment_id, "submit", form_errors(exc), status_of(exc)
            )
        return see_other(path=f"/assessments/{assessment_id}/revisions/{done.revision.number}?notice=submitted")

    @get("/{assessment_id:uuid}/evidence/{evidence_id:uuid}/delete")
    async def remove_evidence_reloaded(self, assessment_id: FromPath[uuid.UUID]) -> Redirect:
        """The remove button's address reloaded after an error is the assessment's evidence, never 405."""
        return see_other(path=f"/assessments/{assessment_id}#evidence")

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
        return see_other(path=f"/assessments/{assessment_id}?notice=evidence-removed#evidence")

    @get("/{assessment_id:uuid}/withdraw")
    async def confirm_withdraw(
        self,
        request: Request[Any, Any, Any],
        assessments: Assessments,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
    ) -> Template:
        """The confirmation step: what withdrawing does; nothing changes until its form is posted."""
        return await _confirm(assessments, request, caller, assessment_id, "withdraw")

    @post("/{assessment_id:uuid}/withdraw")
    async def withdraw(
        self,
        request: Request[Any, Any, Any],
        assessments: Assessments,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
    ) -> Any:
        try:
            await assessments.withdraw(caller, assessment_id)
        except PortalError as exc:
            return await _confirm(
                assessments, request, caller, assessment_id, "withdraw", form_errors(exc), status_of(exc)
            )
        return see_other(path=f"/assessments/{assessment_id}?notice=withdrawn")

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


CONFIRMS = {
    "submit": ("assessments/submit.html", policy.may_submit),
    "withdraw": ("assessments/withdraw.html", policy.may_withdraw),
}


async def _confirm(
    assessments: AssessmentService,
    request: Request[Any, Any, Any],
    caller: Caller,
    assessment_id: uuid.UUID,
    action: str,
    errors: list[dict[str, str]] | None = None,
    status_code: int | None = None,
) -> Template:
    """A confirmation page offers its button only when the change can succeed; otherwise it says why, with
    the status the change itself would answer."""
    template, predicate = CONFIRMS[action]
    assessment = await assessments.get_assessment(caller, assessment_id)
    verdict = predicate(caller.actor, assessment)
    if not verdict and not errors:
        errors = [{"field": "", "message": gettext(verdict.reason)}]
    refused = 409 if verdict.refusal == policy.Refusal.CONFLICT else 403
    return render(
        request,
        template,
        status_code=status_code or (200 if verdict else refused),
        assessment=assessment,
        allowed=bool(verdict),
        errors=errors or [],
    )


# The assessment page's filters (?show=...): every control, the unanswered ones, or those of one status.
SHOW_FILTERS = ["", "unanswered", *(s.value for s in AnswerStatus)]


def _shown(item: ControlItem, show: str) -> bool:
    if show == "unanswered":
        return item.answer is None
    return not show or (item.answer is not None and item.answer.status == show)


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
        can_prepare=bool(policy.may_prepare_assessments(principal)),
        can_open=bool(policy.may_open_assessment(principal)),
        pending=principal.organisation_status == OrganisationStatus.PENDING,
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
    show = request.query_params.get("show", "")
    if show not in SHOW_FILTERS:
        show = ""
    families = [
        (family, [item for item in assessment.controls if item.family == family.family and _shown(item, show)])
        for family in assessment.progress.families
    ]
    families = [(family, items) for family, items in families if items or not show]
    # The catalog's own text of each control: guidance, expected evidence, framework mappings.
    stored = await assessments.catalogs.stored_catalog(assessment.catalog.id, assessment.catalog.version)
    catalog = controls.localized(stored.catalog, current_language.get())
    # The family of the control just saved stays open, so the page lands on it.
    focus = request.query_params.get("open", "") or context.pop("focus", "")
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
        pending=principal.organisation_status == OrganisationStatus.PENDING,
        show=show,
        show_filters=SHOW_FILTERS,
        details={c.id: c for c in catalog.controls},
        needs_date=sorted(NEEDS_DATE),
        needs_justification=[AnswerStatus.NOT_APPLICABLE.value],
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
