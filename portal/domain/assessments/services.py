"""Self-assessments: open on a published catalog, answer, freeze revisions on submit, withdraw, compare."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

import controls
from attestations.canonical import canonical_json, sha256_hex
from portal.clock import now
from portal.db import atomic
from portal.domain.assessments import repo
from portal.domain.assessments.repo import AnswerRecord, AssessmentRecord
from portal.domain.assessments.revisions import diff_documents, revision_document
from portal.domain.assessments.rules import answer_problems
from portal.domain.assessments.schemas import (
    TITLE_MAX,
    AnswerIn,
    AnswerOut,
    AnswerStatus,
    AssessmentOut,
    AssessmentSummary,
    CatalogRef,
    ControlItem,
    FamilyProgress,
    NewAssessment,
    Progress,
    RevisionDiff,
    RevisionOut,
    RevisionRef,
    Scope,
    StateOut,
    SubmitOut,
)
from portal.domain.assessments.states import SUBMITTABLE, State
from portal.domain.audit.services import record
from portal.domain.catalogs.services import CatalogService
from portal.domain.context import Caller
from portal.domain.evidence import repo as evidence_repo
from portal.domain.organisations import repo as organisations_repo
from portal.errors import Conflict, InvalidInput, Message, NotFound, PreconditionRequired
from portal.security import policy


def catalog_ref(row: AssessmentRecord) -> CatalogRef:
    return CatalogRef(id=row.catalog_id, version=row.catalog_version, sha256=row.catalog_digest)


def answer_out(row: AnswerRecord) -> AnswerOut:
    return AnswerOut(
        status=AnswerStatus(row.status),
        narrative=row.narrative,
        justification=row.justification,
        planned_date=row.planned_date,
        evidence_ids=[uuid.UUID(e) for e in row.evidence_ids],
        version=row.version,
        updated_at=row.updated_at,
    )


def _default_title(title: str) -> str:
    """A title made from names (an organisation's may be 200 characters) fits the column, cut with an ellipsis."""
    return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…"


def missing_answers(
    applicable: list[controls.Control], answers: dict[str, AnswerRecord], today: dt.date, known_evidence: set[str]
) -> list[str]:
    """What stops a submit: unanswered controls, answers that break a rule, links to evidence that is gone."""
    missing = []
    for control in applicable:
        answer = answers.get(control.id)
        if answer is None:
            missing.append(f"{control.id}: not answered")
            continue
        for field, problem in answer_problems(
            AnswerStatus(answer.status), answer.narrative, answer.justification, answer.planned_date, today
        ):
            missing.append(f"{control.id}: {field}: {problem}")
        for gone in sorted(set(answer.evidence_ids) - known_evidence):
            missing.append(f"{control.id}: evidence_ids: evidence {gone} no longer exists; link it again")
    return missing


def _audit_values(values: dict[str, Any]) -> dict[str, Any]:
    planned = values.get("planned_date")
    return {
        "status": values["status"],
        "planned_date": planned.isoformat() if planned else None,
        "evidence": len(values["evidence_ids"]),
    }


def _audit_answer(row: AnswerRecord | None) -> dict[str, Any] | None:
    if row is None:
        return None
    values = {"status": row.status, "planned_date": row.planned_date, "evidence_ids": row.evidence_ids}
    return {"control": row.control_id, "version": row.version, **_audit_values(values)}


class AssessmentService:
    def __init__(self, catalogs: CatalogService) -> None:
        self.catalogs = catalogs

    async def visible(self, caller: Caller, assessment_id: uuid.UUID) -> AssessmentRecord:
        """The assessment if the caller may see it; another tenant's answers 404 (audited) as if absent."""
        row = await repo.get(assessment_id)
        if row is None:
            raise NotFound("no such assessment")
        await policy.require(
            caller,
            policy.may_view_assessment(caller.principal, row),
            object_type="assessment",
            object_id=assessment_id,
            missing="no such assessment",
        )
        return row

    async def applicable(self, row: AssessmentRecord) -> tuple[controls.Catalog, list[controls.Control]]:
        catalog = await self.catalogs.catalog_for_row(row.catalog_row_id)
        category = controls.ProviderCategory(row.organisation_category or "")
        return catalog, controls.applicable_controls(catalog, category)

    async def open_assessment(self, caller: Caller, data: NewAssessment) -> AssessmentOut:
        principal = caller.actor
        await policy.require(caller, policy.may_open_assessment(principal), object_type="assessment")
        catalog_row_id, catalog = await self.catalogs.published_catalog(data.catalog_id, data.catalog_version)
        org = await organisations_repo.get(principal.organisation_id)
        assert org is not None and org.category is not None
        category = controls.ProviderCategory(org.category)
        if not controls.applicable_controls(catalog, category):
            raise InvalidInput(
                f"catalog {catalog.id} {catalog.version} has no controls for {category}", field="catalog_id"
            )
        async with atomic():
            assessment_id = await repo.insert(
                organisation=principal.organisation_id,
                catalog=catalog_row_id,
                title=data.title.strip() or _default_title(f"{catalog.title} — {org.name}"),
                scope=msgspec.to_builtins(data.scope),
                state=State.DRAFT,
                revision=0,
                created_by=principal.user_id,
                created_at=now(),
                updated_at=now(),
            )
            await record(
                caller,
                "assessment.opened",
                object_type="assessment",
                object_id=assessment_id,
                after={"catalog": f"{catalog.id}@{catalog.version}", "state": State.DRAFT},
            )
        return await self.get_assessment(caller, assessment_id)

    async def list_assessments(self, caller: Caller) -> list[AssessmentSummary]:
        principal = caller.actor
        if policy.sees_every_submitted_filing(principal):
            rows = await repo.listing(organisation_id=None, submitted_only=True)
        else:
            rows = await repo.listing(organisation_id=principal.organisation_id, submitted_only=False)
        answered = await repo.answered_counts([row.id for row in rows])
        out = []
        for row in rows:
            _, applicable = await self.applicable(row)
            out.append(
                AssessmentSummary(
                    id=row.id,
                    organisation_id=row.organisation_id,
                    organisation_name=row.organisation_name,
                    title=row.title,
                    catalog=catalog_ref(row),
                    state=row.state,
                    revision=row.revision,
                    applicable=len(applicable),
                    answered=min(answered.get(row.id, 0), len(applicable)),
                    created_at=row.created_at,
                    updated_at=row.updated_at,
                )
            )
        return out

    async def get_assessment(
        self, caller: Caller, assessment_id: uuid.UUID, *, language: str | None = None
    ) -> AssessmentOut:
        """The assessment with its controls; their text in ``language`` where the catalog has it (pages)."""
        row = await self.visible(caller, assessment_id)
        catalog, applicable = await self.applicable(row)
        text_language = catalog.language
        if language is not None:
            text_language = controls.shown_language(catalog, language)
            catalog = controls.localized(catalog, language)
            applicable = [catalog.control(c.id) for c in applicable]
        answers = await repo.answers(assessment_id)
        evidence = {str(e.id) for e in await evidence_repo.items(assessment_id)}
        families = []
        for family in catalog.families:
            in_family = [c for c in applicable if c.family == family.id]
            if in_family:
                families.append(
                    FamilyProgress(
                        family=family.id,
                        title=family.title,
                        applicable=len(in_family),
                        answered=sum(1 for c in in_family if c.id in answers),
                    )
                )
        items = [
            ControlItem(
                control_id=c.id,
                family=c.family,
                pillar=c.pillar,
                title=c.title,
                statement=c.statement,
                answer=answer_out(answers[c.id]) if c.id in answers else None,
            )
            for c in applicable
        ]
        return AssessmentOut(
            id=row.id,
            organisation_id=row.organisation_id,
            title=row.title,
            catalog=catalog_ref(row),
            scope=msgspec.convert(row.scope, Scope),
            state=row.state,
            revision=row.revision,
            progress=Progress(
                applicable=len(applicable), answered=sum(f.answered for f in families), families=families
            ),
            controls=items,
            missing=missing_answers(applicable, answers, dt.date.today(), evidence),
            revisions=[RevisionRef(number=r.number, sha256=r.sha256) for r in await repo.revisions(assessment_id)],
            created_at=row.created_at,
            updated_at=row.updated_at,
            text_language=text_language,
        )

    async def editable(self, caller: Caller, assessment_id: uuid.UUID) -> AssessmentRecord:
        """The assessment if the caller may change its answers and evidence now."""
        row = await self.visible(caller, assessment_id)
        await policy.require(
            caller, policy.may_edit_answers(caller.principal, row), object_type="assessment", object_id=assessment_id
        )
        return row

    async def still_editable(self, assessment_id: uuid.UUID) -> None:
        """Inside a write transaction: lock the assessment while it may still change, else 409."""
        if not await repo.touch_if_editable(assessment_id, now()):
            raise Conflict("the assessment was submitted or withdrawn meanwhile; reload it")

    async def answer_control(
        self, caller: Caller, assessment_id: uuid.UUID, control_id: str, data: AnswerIn, if_match: int | None
    ) -> AnswerOut:
        """Save one answer. A changed answer must name the version it replaces; a stale one gets 409."""
        row = await self.editable(caller, assessment_id)
        _, applicable = await self.applicable(row)
        if control_id not in {c.id for c in applicable}:
            raise InvalidInput(
                Message("control %(control)s is not part of this assessment", control=control_id), field="control_id"
            )
        problems = answer_problems(data.status, data.narrative, data.justification, data.planned_date, dt.date.today())
        if problems:
            field, problem = problems[0]
            raise InvalidInput(problem, field=field, problems=[{"field": f, "message": p} for f, p in problems])
        evidence_ids = sorted({str(e) for e in data.evidence_ids})
        expected = data.version if data.version is not None else if_match
        values: dict[str, Any] = {
            "status": data.status.value,
            "narrative": data.narrative,
            "justification": data.justification,
            "planned_date": data.planned_date,
            "evidence_ids": evidence_ids,
        }
        principal = caller.actor
        async with atomic():
            await self.still_editable(assessment_id)
            # Checked under the assessment's lock, so a racing evidence delete cannot leave a dangling link.
            unknown = set(evidence_ids) - await evidence_repo.owned(assessment_id, evidence_ids)
            if unknown:
                raise InvalidInput(
                    Message("evidence %(id)s does not belong to this assessment", id=sorted(unknown)[0]),
                    field="evidence_ids",
                )
            current = await repo.answer(assessment_id, control_id)
            if current is None:
                if expected not in (None, 0):
                    raise Conflict("this answer was removed or never saved; reload it", current_version=0)
                await repo.insert_answer(assessment_id, control_id, values, by=principal.user_id, at=now())
            else:
                if expected is None:
                    raise PreconditionRequired(
                        "send If-Match (or version) with the answer version you are replacing",
                        current_version=current.version,
                    )
                if not await repo.replace_answer(current.id, expected, values, by=principal.user_id, at=now()):
                    raise Conflict(
                        "someone else changed this answer; reload it and apply your change again",
                        current_version=current.version,
                    )
            await record(
                caller,
                "answer.saved",
                object_type="assessment",
                object_id=assessment_id,
                before=_audit_answer(current),
                after={"control": control_id, **_audit_values(values)},
            )
        saved = await repo.answer(assessment_id, control_id)
        assert saved is not None
        return answer_out(saved)

    async def submit(self, caller: Caller, assessment_id: uuid.UUID) -> SubmitOut:
        """Check completeness, then freeze revision n+1 (canonical JSON and its SHA-256). Provider admins only."""
        principal = caller.actor
        row = await self.visible(caller, assessment_id)
        await policy.require(
            caller, policy.may_submit(principal, row), object_type="assessment", object_id=assessment_id
        )
        catalog, applicable = await self.applicable(row)
        number = row.revision + 1
        async with atomic():
            # Move the state first: this takes the assessment's row lock (PostgreSQL) or the write lock (SQLite),
            # so no answer or upload can land between the completeness check, the snapshot and the freeze.
            moved = await repo.move(
                assessment_id,
                SUBMITTABLE,
                State.SUBMITTED,
                at=now(),
                revision=row.revision,
                values={"revision": number, "submitted_at": now()},
            )
            if not moved:
                raise Conflict("the assessment changed while it was being submitted; reload it")
            answers = await repo.answers(assessment_id)
            evidence = {str(e.id): e for e in await evidence_repo.items(assessment_id)}
            missing = missing_answers(applicable, answers, dt.date.today(), set(evidence))
            if missing:  # raising rolls the state change back
                raise InvalidInput(
                    Message("the assessment is not complete: %(count)s problem(s)", count=len(missing)), missing=missing
                )
            org = await organisations_repo.get(row.organisation_id)
            assert org is not None
            document = revision_document(
                row=row,
                organisation=org,
                catalog=catalog,
                applicable=applicable,
                answers=answers,
                evidence=evidence,
                number=number,
                submitted_by=principal.user_id,
                at=now(),
            )
            body = canonical_json(document)
            digest = sha256_hex(body)
            await repo.insert_revision(assessment_id, number, body, digest, by=principal.user_id, at=now())
            await evidence_repo.freeze(sorted({e for answer in answers.values() for e in answer.evidence_ids}))
            await record(
                caller,
                "assessment.submitted",
                object_type="assessment",
                object_id=assessment_id,
                before={"state": row.state, "revision": row.revision},
                after={"state": State.SUBMITTED, "revision": number, "sha256": digest},
            )
        return SubmitOut(state=State.SUBMITTED, revision=RevisionRef(number=number, sha256=digest))

    async def withdraw(self, caller: Caller, assessment_id: uuid.UUID) -> StateOut:
        row = await self.visible(caller, assessment_id)
        await policy.require(
            caller, policy.may_withdraw(caller.principal, row), object_type="assessment", object_id=assessment_id
        )
        async with atomic():
            if not await repo.move(assessment_id, [row.state], State.WITHDRAWN, at=now()):
                raise Conflict("the assessment changed meanwhile; reload it")
            await record(
                caller,
                "assessment.withdrawn",
                object_type="assessment",
                object_id=assessment_id,
                before={"state": row.state},
                after={"state": State.WITHDRAWN},
            )
        return StateOut(id=assessment_id, state=State.WITHDRAWN)

    async def get_revision(self, caller: Caller, assessment_id: uuid.UUID, number: int) -> RevisionOut:
        await self.visible(caller, assessment_id)
        revision = await repo.revision(assessment_id, number)
        if revision is None:
            raise NotFound(Message("this assessment has no revision %(number)s", number=number))
        return RevisionOut(
            number=number,
            sha256=revision.sha256,
            created_at=revision.created_at,
            document=msgspec.json.decode(revision.document),
        )

    async def diff_revisions(self, caller: Caller, assessment_id: uuid.UUID, number: int, against: int) -> RevisionDiff:
        new = await self.get_revision(caller, assessment_id, number)
        old = await self.get_revision(caller, assessment_id, against)
        return diff_documents(new.document, old.document, number, against)
