"""Review pages: the queue, the review screen per assessment (answers, evidence, findings and threads per
control, families with progress at the side), the request-changes and recommend forms, the inbox, and the
form with which anyone on an assessment answers a thread. Every page works without JavaScript."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from portal.deps import CallerDep, Inbox, Reviews
from portal.domain.context import Caller
from portal.domain.reviews.schemas import (
    OPEN_VERDICTS,
    AssignIn,
    CommentIn,
    FindingIn,
    QueueFilter,
    RecommendIn,
    RequestChangesIn,
    ReviewOut,
    Verdict,
)
from portal.domain.reviews.services import ReviewService
from portal.errors import PortalError
from portal.i18n import gettext
from portal.pages import form_errors, parse_form, render, see_other
from portal.problems import status_of
from portal.security.auth import requires_login, requires_role
from portal.security.principal import REGULATOR_ROLES

Form = URLEncodedBody[dict[str, Any]]


def _comment_body(data: dict[str, Any], *, control_id: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"body": str(data.get("body", "")).strip(), "internal": data.get("internal") == "yes"}
    if control_id:
        body["control_id"] = control_id
    if data.get("parent_id"):
        body["parent_id"] = data["parent_id"]
    return body


def _anchor(control_id: str | None) -> str:
    return f"#control-{control_id}" if control_id else "#threads"


class ReviewPages(Controller):
    path = "/reviews"
    include_in_schema = False
    guards = [requires_role(*REGULATOR_ROLES)]

    @get("/")
    async def queue(
        self, request: Request[Any, Any, Any], reviews: Reviews, caller: CallerDep, filter: FromQuery[str] = "all"
    ) -> Template:
        wanted = QueueFilter(filter) if filter in QueueFilter.__members__.values() else QueueFilter.ALL
        queue = await reviews.queue(caller, wanted)
        return render(request, "reviews/queue.html", queue=queue, filters=[f.value for f in QueueFilter])

    @get("/{assessment_id:uuid}")
    async def review(
        self, request: Request[Any, Any, Any], reviews: Reviews, caller: CallerDep, assessment_id: FromPath[uuid.UUID]
    ) -> Template:
        return await _review_page(reviews, request, caller, assessment_id)

    @get(["/{assessment_id:uuid}/claim", "/{assessment_id:uuid}/release", "/{assessment_id:uuid}/assign"])
    async def reloaded(self, assessment_id: FromPath[uuid.UUID]) -> Redirect:
        """A form's address reloaded after an error (or bookmarked) is the review, never 405."""
        return see_other(path=f"/reviews/{assessment_id}")

    @get("/{assessment_id:uuid}/findings/{control_id:str}")
    async def finding_reloaded(self, assessment_id: FromPath[uuid.UUID], control_id: FromPath[str]) -> Redirect:
        return see_other(path=f"/reviews/{assessment_id}#control-{control_id}")

    @post("/{assessment_id:uuid}/claim")
    async def claim(
        self, request: Request[Any, Any, Any], reviews: Reviews, caller: CallerDep, assessment_id: FromPath[uuid.UUID]
    ) -> Any:
        try:
            await reviews.claim(caller, assessment_id)
        except PortalError as exc:
            return await _review_page(
                reviews, request, caller, assessment_id, errors=form_errors(exc), status_code=status_of(exc)
            )
        return see_other(path=f"/reviews/{assessment_id}?notice=claimed")

    @post("/{assessment_id:uuid}/release")
    async def release(
        self, request: Request[Any, Any, Any], reviews: Reviews, caller: CallerDep, assessment_id: FromPath[uuid.UUID]
    ) -> Any:
        try:
            await reviews.release(caller, assessment_id)
        except PortalError as exc:
            return await _review_page(
                reviews, request, caller, assessment_id, errors=form_errors(exc), status_code=status_of(exc)
            )
        return see_other(path=f"/reviews/{assessment_id}?notice=released")

    @post("/{assessment_id:uuid}/assign")
    async def assign(
        self,
        request: Request[Any, Any, Any],
        reviews: Reviews,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Any:
        wanted, errors = parse_form(AssignIn, {"reviewer_id": data.get("reviewer_id", "")})
        status = 422
        if wanted is not None:
            try:
                await reviews.assign(caller, assessment_id, wanted)
                return see_other(path=f"/reviews/{assessment_id}?notice=assigned")
            except PortalError as exc:
                errors, status = form_errors(exc), status_of(exc)
        return await _review_page(reviews, request, caller, assessment_id, errors=errors, status_code=status)

    @post("/{assessment_id:uuid}/findings/{control_id:str}")
    async def finding(
        self,
        request: Request[Any, Any, Any],
        reviews: Reviews,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        control_id: FromPath[str],
        data: Form,
    ) -> Any:
        body = {"verdict": data.get("verdict", ""), "comment": data.get("comment", "")}
        wanted, errors = parse_form(FindingIn, body)
        status = 422
        if wanted is not None:
            try:
                await reviews.record_finding(caller, assessment_id, control_id, wanted)
                return see_other(path=f"/reviews/{assessment_id}?notice=finding-saved#control-{control_id}")
            except PortalError as exc:
                errors, status = form_errors(exc), status_of(exc)
        errors = [{**e, "control": control_id} for e in errors]
        return await _review_page(
            reviews, request, caller, assessment_id, errors=errors, status_code=status, draft={control_id: body}
        )

    @get("/{assessment_id:uuid}/request-changes")
    async def confirm_request_changes(
        self, request: Request[Any, Any, Any], reviews: Reviews, caller: CallerDep, assessment_id: FromPath[uuid.UUID]
    ) -> Template:
        return await _form_page(reviews, request, caller, assessment_id, "reviews/request_changes.html")

    @post("/{assessment_id:uuid}/request-changes")
    async def request_changes(
        self,
        request: Request[Any, Any, Any],
        reviews: Reviews,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Any:
        page = "reviews/request_changes.html"
        if data.get("confirm") != "yes":
            errors = [{"field": "confirm", "message": gettext("tick the box to confirm")}]
            return await _form_page(reviews, request, caller, assessment_id, page, errors=errors, form=data)
        wanted, errors = parse_form(RequestChangesIn, {"message": str(data.get("message", "")).strip()})
        status = 422
        if wanted is not None:
            try:
                await reviews.request_changes(caller, assessment_id, wanted)
                return see_other(path=f"/reviews/{assessment_id}?notice=changes-requested")
            except PortalError as exc:
                errors, status = form_errors(exc), status_of(exc)
        return await _form_page(
            reviews, request, caller, assessment_id, page, errors=errors, form=data, status_code=status
        )

    @get("/{assessment_id:uuid}/recommend")
    async def confirm_recommend(
        self, request: Request[Any, Any, Any], reviews: Reviews, caller: CallerDep, assessment_id: FromPath[uuid.UUID]
    ) -> Template:
        return await _form_page(reviews, request, caller, assessment_id, "reviews/recommend.html")

    @post("/{assessment_id:uuid}/recommend")
    async def recommend(
        self,
        request: Request[Any, Any, Any],
        reviews: Reviews,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Any:
        page = "reviews/recommend.html"
        if data.get("confirm") != "yes":
            errors = [{"field": "confirm", "message": gettext("tick the box to confirm")}]
            return await _form_page(reviews, request, caller, assessment_id, page, errors=errors, form=data)
        view = await reviews.review(caller, assessment_id)
        wanted, errors = parse_form(RecommendIn, recommendation_body(data, view))
        status = 422
        if wanted is not None:
            try:
                await reviews.recommend(caller, assessment_id, wanted)
                return see_other(path=f"/reviews/{assessment_id}?notice=recommended")
            except PortalError as exc:
                errors, status = form_errors(exc), status_of(exc)
                errors += [{"field": "", "message": p} for p in exc.extra.get("problems", [])]
        return await _form_page(
            reviews, request, caller, assessment_id, page, errors=errors, form=data, status_code=status
        )


def recommendation_body(data: dict[str, Any], view: ReviewOut) -> dict[str, Any]:
    """The recommend form as the API's body: a condition or a reason per open control, where one is written."""
    decision = str(data.get("decision", ""))
    body: dict[str, Any] = {"decision": decision, "rationale": str(data.get("rationale", "")).strip()}
    open_controls = [c for c in view.controls if c.finding is not None and c.finding.verdict in OPEN_VERDICTS]
    if decision == "approve":
        body["level"] = data.get("level") or "full"
        conditions = []
        for control in open_controls:
            text = str(data.get(f"condition-{control.control_id}", "")).strip()
            due = str(data.get(f"due-{control.control_id}", "")).strip()
            if text or due:
                conditions.append({"control_id": control.control_id, "text": text, "due_date": due})
        body["conditions"] = conditions
    elif decision == "reject":
        reasons = []
        for control in open_controls:
            text = str(data.get(f"reason-{control.control_id}", "")).strip()
            if text and control.finding is not None and control.finding.verdict == Verdict.NOT_SATISFIED:
                reasons.append({"control_id": control.control_id, "text": text})
        body["reasons"] = reasons
    return body


class InboxPages(Controller):
    path = "/inbox"
    include_in_schema = False
    guards = [requires_login]

    @get("/")
    async def inbox(self, request: Request[Any, Any, Any], inbox: Inbox, caller: CallerDep) -> Template:
        return render(request, "inbox.html", inbox=await inbox.inbox(caller))


class ThreadPages(Controller):
    """Answering a thread from the assessment page (the provider) or the review screen (regulators)."""

    path = "/assessments/{assessment_id:uuid}/comments"
    include_in_schema = False
    guards = [requires_login]

    @get("/")
    async def reloaded(self, caller: CallerDep, assessment_id: FromPath[uuid.UUID]) -> Redirect:
        back = "/reviews" if caller.actor.is_regulator else "/assessments"
        return see_other(path=f"{back}/{assessment_id}#threads")

    @post("/")
    async def comment(
        self,
        request: Request[Any, Any, Any],
        reviews: Reviews,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Any:
        control_id = str(data.get("control_id", "")) or None
        back = "/reviews" if caller.actor.is_regulator else "/assessments"
        wanted, errors = parse_form(CommentIn, _comment_body(data, control_id=control_id))
        status = 422
        if wanted is not None:
            try:
                await reviews.comment(caller, assessment_id, wanted)
                return see_other(path=f"{back}/{assessment_id}?notice=commented{_anchor(control_id)}")
            except PortalError as exc:
                errors, status = form_errors(exc), status_of(exc)
        return render(
            request,
            "reviews/comment_error.html",
            status_code=status,
            errors=errors,
            back=f"{back}/{assessment_id}{_anchor(control_id)}",
        )


async def _review_page(
    reviews: ReviewService,
    request: Request[Any, Any, Any],
    caller: Caller,
    assessment_id: uuid.UUID,
    status_code: int = 200,
    **context: Any,
) -> Template:
    view = await reviews.review(caller, assessment_id)
    families = [(family, [c for c in view.controls if c.family == family.family]) for family in view.progress.families]
    return render(
        request,
        "reviews/review.html",
        status_code=status_code,
        review=view,
        families=families,
        changed=[c for c in view.controls if c.changed],
        verdicts=[v.value for v in Verdict],
        reviewers=await reviews.reviewers(caller) if view.allowed.assign else [],
        draft=context.pop("draft", {}),
        **context,
    )


async def _form_page(
    reviews: ReviewService,
    request: Request[Any, Any, Any],
    caller: Caller,
    assessment_id: uuid.UUID,
    template: str,
    status_code: int | None = None,
    **context: Any,
) -> Template:
    view = await reviews.review(caller, assessment_id)
    open_controls = [c for c in view.controls if c.finding is not None and c.finding.verdict in OPEN_VERDICTS]
    errors = context.get("errors")
    return render(
        request,
        template,
        status_code=status_code or (422 if errors else 200),
        review=view,
        open_controls=open_controls,
        unreviewed=[c for c in view.controls if c.finding is None],
        min_due=(dt.date.today() + dt.timedelta(days=1)).isoformat(),
        form=context.pop("form", {}),
        **context,
    )
