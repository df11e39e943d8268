"""The start page a person lands on after logging in: where they stand and what to do next, by role.

It reads the same services as the pages it links to (the inbox of the review domain, the assessment list,
the organisation's status), so what it says waits on someone is what those pages show.
"""

from __future__ import annotations

from typing import Any

from portal.domain.assessments.services import AssessmentService
from portal.domain.assessments.states import EDITABLE
from portal.domain.context import Caller
from portal.domain.organisations.services import OrganisationService
from portal.domain.reviews.inbox import InboxService
from portal.security import policy
from portal.security.principal import OrganisationStatus, Role


async def start_context(
    caller: Caller,
    *,
    assessments: AssessmentService,
    inbox: InboxService,
    organisations: OrganisationService,
) -> dict[str, Any]:
    """What the start page shows: the organisation, open drafts with progress, the inbox, and next steps
    (each a ``(kind, count)`` the template words in the page's language, with the page to go to)."""
    principal = caller.actor
    waiting = (await inbox.inbox(caller)).items
    steps: list[dict[str, Any]] = []
    context: dict[str, Any] = {"waiting": waiting, "drafts": [], "pending_organisations": [], "org": None}
    if principal.role in (Role.PROVIDER_EDITOR, Role.PROVIDER_ADMIN):
        org = await organisations.get_organisation(caller, principal.organisation_id)
        listing = await assessments.list_assessments(caller)
        drafts = [a for a in listing if a.state in EDITABLE]
        context |= {"org": org, "drafts": drafts}
        if org.status == OrganisationStatus.PENDING:
            steps.append({"kind": "await-verification", "href": "/organisation"})
        if org.status == OrganisationStatus.REJECTED:
            steps.append({"kind": "rejected", "href": "/organisation"})
        returned = [a for a in drafts if a.state == "changes_requested"]
        if returned:
            steps.append({"kind": "answer-findings", "count": len(returned), "href": f"/assessments/{returned[0].id}"})
        unfinished = [a for a in drafts if a.answered < a.applicable]
        if unfinished:
            steps.append(
                {"kind": "answer-controls", "count": len(unfinished), "href": f"/assessments/{unfinished[0].id}"}
            )
        ready = [a for a in drafts if a.answered >= a.applicable]
        if ready and all(policy.may_submit(principal, a) for a in ready):
            steps.append({"kind": "submit", "count": len(ready), "href": f"/assessments/{ready[0].id}/submit"})
        elif ready and org.status == OrganisationStatus.VERIFIED:
            steps.append({"kind": "ask-admin", "count": len(ready), "href": f"/assessments/{ready[0].id}"})
        if not listing and policy.may_open_assessment(principal):
            steps.append({"kind": "open-first", "href": "/assessments#open"})
    elif principal.role == Role.REVIEWER:
        queue = [i for i in waiting if i.kind in ("submission", "resubmission")]
        mine = [i for i in waiting if i.kind == "in_review"]
        if mine:
            steps.append({"kind": "continue-review", "count": len(mine), "href": mine[0].href})
        if queue:
            steps.append({"kind": "claim", "count": len(queue), "href": "/reviews"})
    elif principal.role == Role.SIGNING_OFFICER:
        decisions = [i for i in waiting if i.kind == "recommendation"]
        if decisions:
            steps.append({"kind": "decide", "count": len(decisions), "href": "/decisions"})
    elif principal.role == Role.REGULATOR_ADMIN:
        pending = await organisations.list_organisations(caller, OrganisationStatus.PENDING)
        context["pending_organisations"] = pending
        if pending:
            steps.append({"kind": "verify", "count": len(pending), "href": "/regulator/organisations"})
        queue = [i for i in waiting if i.kind in ("submission", "resubmission")]
        if queue:
            steps.append({"kind": "assign", "count": len(queue), "href": "/reviews"})
    context["steps"] = steps
    return context
