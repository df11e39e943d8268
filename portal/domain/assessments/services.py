"""Self-assessments: open on a published catalog, answer, freeze revisions on submit, withdraw, compare."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

import controls
from attestations.canonical import canonical_json, sha256_hex
from portal.db import atomic
from portal.db.tables import Answer, Assessment, Evidence, Revision
from portal.domain.assessments import repo
from portal.domain.assessments.revisions import diff_documents, revision_document
from portal.domain.assessments.rules import answer_problems
from portal.domain.assessments.schemas import (
    EDITABLE,
    WITHDRAWABLE,
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
    State,
    StateOut,
    SubmitOut,
)
from portal.domain.audit.services import record
from portal.domain.catalogs.services import catalog_for_row, published_catalog
from portal.domain.context import Caller
from portal.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionRequired
from portal.security.permissions import (
    OrganisationStatus,
    Principal,
    Role,
    require_member,
    require_role,
)

EDITORS = (Role.PROVIDER_ADMIN, Role.PROVIDER_EDITOR)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _require_verified(principal: Principal) -> None:
    if principal.organisation_status != OrganisationStatus.VERIFIED:
        raise Forbidden(f"only verified organisations can file; yours is {principal.organisation_status}")


def can_view(principal: Principal, row: dict[str, Any]) -> bool:
    """Members see their organisation's assessments; regulators see those submitted at least once."""
    if principal.organisation_id == row["organisation"]:
        return True
    return principal.is_regulator and row["revision"] > 0


async def _visible(caller: Caller, assessment_id: uuid.UUID) -> dict[str, Any]:
    row = await repo.assessment(assessment_id)
    if row is None or not can_view(caller.actor, row):
        if row is not None:  # another tenant's assessment: answer as if absent, but keep the attempt on record
            await record(
                caller,
                "permission.denied",
                outcome="denied",
                object_type="assessment",
                object_id=assessment_id,
                after={"detail": "not visible to this organisation"},
            )
        raise NotFound("no such assessment")
    return row


async def _editable(caller: Caller, assessment_id: uuid.UUID) -> dict[str, Any]:
    row = await _visible(caller, assessment_id)
    require_member(caller.actor, row["organisation"], *EDITORS)
    if row["state"] not in EDITABLE:
        raise Conflict(f"the assessment is {row['state']}; answers can change only in draft or changes_requested")
    return row


async def still_editable(assessment_id: uuid.UUID) -> None:
    """Inside a write transaction: touch the assessment if it may still change, else 409.

    The update takes the row's lock (PostgreSQL) or the database's write lock (SQLite), so it serialises
    with ``submit`` and ``withdraw``: nothing is written to an assessment that has just been frozen.
    """
    touched = (
        await Assessment.update({Assessment.updated_at: now()})
        .where((Assessment.id == assessment_id) & Assessment.state.is_in(list(EDITABLE)))
        .returning(Assessment.id)
    )
    if not touched:
        raise Conflict("the assessment was submitted or withdrawn meanwhile; reload it")


async def _applicable(row: dict[str, Any]) -> tuple[controls.Catalog, list[controls.Control]]:
    catalog = await catalog_for_row(row["catalog"])
    category = controls.ProviderCategory(row["organisation_category"])
    return catalog, controls.applicable_controls(catalog, category)


def _catalog_ref(row: dict[str, Any]) -> CatalogRef:
    return CatalogRef(id=row["catalog_id"], version=row["catalog_version"], sha256=row["catalog_digest"])


def _answer_out(row: dict[str, Any]) -> AnswerOut:
    return AnswerOut(
        status=AnswerStatus(row["status"]),
        narrative=row["narrative"],
        justification=row["justification"],
        planned_date=row["planned_date"],
        evidence_ids=[uuid.UUID(e) for e in row["evidence_ids"]],
        version=row["version"],
        updated_at=row["updated_at"],
    )


async def open_assessment(caller: Caller, data: NewAssessment) -> AssessmentOut:
    principal = caller.actor
    require_role(principal, *EDITORS)
    _require_verified(principal)
    catalog_row_id, catalog = await published_catalog(data.catalog_id, data.catalog_version)
    org = await repo.organisation(principal.organisation_id)
    assert org is not None
    category = controls.ProviderCategory(org["category"])
    if not controls.applicable_controls(catalog, category):
        raise InvalidInput(f"catalog {catalog.id} {catalog.version} has no controls for {category}", field="catalog_id")
    assessment = Assessment(
        organisation=principal.organisation_id,
        catalog=catalog_row_id,
        title=data.title.strip() or f"{catalog.title} — {org['name']}",
        scope=msgspec.to_builtins(data.scope),
        state=State.DRAFT,
        revision=0,
        created_by=principal.user_id,
        created_at=now(),
        updated_at=now(),
    )
    async with atomic():
        await assessment.save()
        await record(
            caller,
            "assessment.opened",
            object_type="assessment",
            object_id=assessment.id,
            after={"catalog": f"{catalog.id}@{catalog.version}", "state": State.DRAFT},
        )
    return await get_assessment(caller, assessment.id)


async def list_assessments(caller: Caller) -> list[AssessmentSummary]:
    principal = caller.actor
    if principal.is_regulator:
        rows = await repo.assessments(organisation_id=None, submitted_only=True)
    else:
        rows = await repo.assessments(organisation_id=principal.organisation_id, submitted_only=False)
    answered = await repo.answered_counts([row["id"] for row in rows])
    out = []
    for row in rows:
        _, applicable = await _applicable(row)
        out.append(
            AssessmentSummary(
                id=row["id"],
                organisation_id=row["organisation"],
                organisation_name=row["organisation_name"],
                title=row["title"],
                catalog=_catalog_ref(row),
                state=State(row["state"]),
                revision=row["revision"],
                applicable=len(applicable),
                answered=min(answered.get(row["id"], 0), len(applicable)),
                created_at=row["created_at"],
                updated_at=row["updated_at"],
            )
        )
    return out


def _missing(applicable: list[controls.Control], answers: dict[str, dict[str, Any]], today: dt.date) -> list[str]:
    missing = []
    for control in applicable:
        answer = answers.get(control.id)
        if answer is None:
            missing.append(f"{control.id}: not answered")
            continue
        for field, problem in answer_problems(
            AnswerStatus(answer["status"]), answer["narrative"], answer["justification"], answer["planned_date"], today
        ):
            missing.append(f"{control.id}: {field}: {problem}")
    return missing


async def get_assessment(caller: Caller, assessment_id: uuid.UUID) -> AssessmentOut:
    row = await _visible(caller, assessment_id)
    catalog, applicable = await _applicable(row)
    answers = await repo.answers(assessment_id)
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
            answer=_answer_out(answers[c.id]) if c.id in answers else None,
        )
        for c in applicable
    ]
    return AssessmentOut(
        id=row["id"],
        organisation_id=row["organisation"],
        title=row["title"],
        catalog=_catalog_ref(row),
        scope=msgspec.convert(row["scope"], Scope),
        state=State(row["state"]),
        revision=row["revision"],
        progress=Progress(applicable=len(applicable), answered=sum(f.answered for f in families), families=families),
        controls=items,
        missing=_missing(applicable, answers, dt.date.today()),
        revisions=[RevisionRef(number=r["number"], sha256=r["sha256"]) for r in await repo.revisions(assessment_id)],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def answer_control(
    caller: Caller, assessment_id: uuid.UUID, control_id: str, data: AnswerIn, if_match: int | None
) -> AnswerOut:
    """Save one answer. A changed answer must name the version it replaces; a stale one gets 409."""
    row = await _editable(caller, assessment_id)
    _, applicable = await _applicable(row)
    if control_id not in {c.id for c in applicable}:
        raise InvalidInput(f"control {control_id} is not part of this assessment", field="control_id")
    problems = answer_problems(data.status, data.narrative, data.justification, data.planned_date, dt.date.today())
    if problems:
        field, problem = problems[0]
        raise InvalidInput(problem, field=field, problems=[{"field": f, "message": p} for f, p in problems])
    evidence_ids = sorted({str(e) for e in data.evidence_ids})
    if evidence_ids:
        owned = await Evidence.select(Evidence.id).where(
            Evidence.id.is_in(evidence_ids) & (Evidence.assessment == assessment_id)
        )
        unknown = set(evidence_ids) - {str(e["id"]) for e in owned}
        if unknown:
            raise InvalidInput(
                f"evidence {sorted(unknown)[0]} does not belong to this assessment", field="evidence_ids"
            )
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
        await still_editable(assessment_id)
        current = await repo.answer(assessment_id, control_id)
        if current is None:
            if expected not in (None, 0):
                raise Conflict("this answer was removed or never saved; reload it", current_version=0)
            await Answer.insert(
                Answer(
                    key=f"{assessment_id}:{control_id}",
                    assessment=assessment_id,
                    control_id=control_id,
                    version=1,
                    updated_by=principal.user_id,
                    updated_at=now(),
                    **values,
                )
            ).run()
        else:
            if expected is None:
                raise PreconditionRequired(
                    "send If-Match (or version) with the answer version you are replacing",
                    current_version=current["version"],
                )
            changed = (
                await Answer.update(
                    {
                        **{getattr(Answer, k): v for k, v in values.items()},
                        Answer.version: current["version"] + 1,
                        Answer.updated_by: principal.user_id,
                        Answer.updated_at: now(),
                    }
                )
                .where((Answer.id == current["id"]) & (Answer.version == expected))
                .returning(Answer.id)
            )
            if not changed:
                raise Conflict(
                    "someone else changed this answer; reload it and apply your change again",
                    current_version=current["version"],
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
    return _answer_out(saved)


def _audit_values(values: dict[str, Any]) -> dict[str, Any]:
    planned = values.get("planned_date")
    return {
        "status": values["status"],
        "planned_date": planned.isoformat() if planned else None,
        "evidence": len(values["evidence_ids"]),
    }


def _audit_answer(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else {"control": row["control_id"], "version": row["version"], **_audit_values(row)}


async def _snapshot(
    row: dict[str, Any], number: int, principal: Principal, answers: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    catalog, applicable = await _applicable(row)
    org = await repo.organisation(row["organisation"])
    assert org is not None
    return revision_document(
        row=row,
        organisation=org,
        catalog=catalog,
        applicable=applicable,
        answers=answers,
        evidence={str(e["id"]): e for e in await repo.evidence_items(row["id"])},
        number=number,
        submitted_by=principal.user_id,
        at=now(),
    )


async def submit(caller: Caller, assessment_id: uuid.UUID) -> SubmitOut:
    """Check completeness, then freeze revision n+1 (canonical JSON and its SHA-256). Provider admins only."""
    principal = caller.actor
    row = await _visible(caller, assessment_id)
    require_member(principal, row["organisation"], Role.PROVIDER_ADMIN)
    _require_verified(principal)
    if row["state"] not in EDITABLE:
        raise Conflict(f"the assessment is {row['state']}; only a draft or a returned assessment can be submitted")
    _, applicable = await _applicable(row)
    number = row["revision"] + 1
    async with atomic():
        # Move the state first: this takes the assessment's row lock (PostgreSQL) or the write lock (SQLite),
        # so no answer or upload can land between the completeness check, the snapshot and the freeze.
        moved = (
            await Assessment.update(
                {
                    Assessment.state: State.SUBMITTED,
                    Assessment.revision: number,
                    Assessment.submitted_at: now(),
                    Assessment.updated_at: now(),
                }
            )
            .where(
                (Assessment.id == assessment_id)
                & (Assessment.revision == row["revision"])
                & Assessment.state.is_in(list(EDITABLE))
            )
            .returning(Assessment.id)
        )
        if not moved:
            raise Conflict("the assessment changed while it was being submitted; reload it")
        answers = await repo.answers(assessment_id)
        missing = _missing(applicable, answers, dt.date.today())
        if missing:  # raising rolls the state change back
            raise InvalidInput(f"the assessment is not complete: {len(missing)} problem(s)", missing=missing)
        document = await _snapshot(row, number, principal, answers)
        body = canonical_json(document)
        digest = sha256_hex(body)
        evidence_ids = sorted({e for answer in answers.values() for e in answer["evidence_ids"]})
        await Revision.insert(
            Revision(
                key=f"{assessment_id}:{number}",
                assessment=assessment_id,
                number=number,
                sha256=digest,
                document=body.decode(),
                created_by=principal.user_id,
                created_at=now(),
            )
        ).run()
        if evidence_ids:
            await Evidence.update({Evidence.frozen: True}).where(Evidence.id.is_in(evidence_ids))
        await record(
            caller,
            "assessment.submitted",
            object_type="assessment",
            object_id=assessment_id,
            before={"state": row["state"], "revision": row["revision"]},
            after={"state": State.SUBMITTED, "revision": number, "sha256": digest},
        )
    return SubmitOut(state=State.SUBMITTED, revision=RevisionRef(number=number, sha256=digest))


async def withdraw(caller: Caller, assessment_id: uuid.UUID) -> StateOut:
    principal = caller.actor
    row = await _visible(caller, assessment_id)
    require_member(principal, row["organisation"], Role.PROVIDER_ADMIN)
    if row["state"] not in WITHDRAWABLE:
        raise Conflict(f"the assessment is {row['state']}; it can no longer be withdrawn")
    async with atomic():
        moved = (
            await Assessment.update({Assessment.state: State.WITHDRAWN, Assessment.updated_at: now()})
            .where((Assessment.id == assessment_id) & (Assessment.state == row["state"]))
            .returning(Assessment.id)
        )
        if not moved:
            raise Conflict("the assessment changed meanwhile; reload it")
        await record(
            caller,
            "assessment.withdrawn",
            object_type="assessment",
            object_id=assessment_id,
            before={"state": row["state"]},
            after={"state": State.WITHDRAWN},
        )
    return StateOut(id=assessment_id, state=State.WITHDRAWN)


async def get_revision(caller: Caller, assessment_id: uuid.UUID, number: int) -> RevisionOut:
    await _visible(caller, assessment_id)
    revision = await repo.revision(assessment_id, number)
    if revision is None:
        raise NotFound(f"this assessment has no revision {number}")
    return RevisionOut(
        number=number,
        sha256=revision["sha256"],
        created_at=revision["created_at"],
        document=msgspec.json.decode(revision["document"]),
    )


async def diff_revisions(caller: Caller, assessment_id: uuid.UUID, number: int, against: int) -> RevisionDiff:
    new = await get_revision(caller, assessment_id, number)
    old = await get_revision(caller, assessment_id, against)
    return diff_documents(new.document, old.document, number, against)
