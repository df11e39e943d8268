"""Review: the queue, claims, findings per control and revision, threads, requests for changes, recommendations.

Every decision is a predicate in :mod:`portal.security.policy`; every state change is a compare-and-set through
:func:`portal.domain.assessments.repo.move`, audited in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import msgspec

import controls
from portal.clock import now
from portal.db import atomic
from portal.domain.accounts import repo as accounts_repo
from portal.domain.assessments import repo as assessments_repo
from portal.domain.assessments.repo import AssessmentRecord
from portal.domain.assessments.revisions import diff_documents
from portal.domain.assessments.services import AssessmentService, catalog_ref
from portal.domain.assessments.states import State
from portal.domain.audit.services import record
from portal.domain.context import Caller
from portal.domain.evidence import repo as evidence_repo
from portal.domain.reviews import repo
from portal.domain.reviews.repo import CommentRecord, FindingRecord, RecommendationRecord
from portal.domain.reviews.rules import Standing, recommendation_problems, rejection_reasons, standings
from portal.domain.reviews.schemas import (
    OPEN_VERDICTS,
    Allowed,
    AssignIn,
    ClaimOut,
    CommentIn,
    CommentOut,
    ConditionOut,
    ControlFinding,
    ControlStatus,
    Decision,
    EvidenceLink,
    FamilyReview,
    FindingIn,
    FindingOut,
    FindingsOut,
    Level,
    Person,
    QueueFilter,
    QueueItem,
    QueueOut,
    ReasonOut,
    RecommendationOut,
    RecommendIn,
    RecommendOut,
    RequestChangesIn,
    RequestChangesOut,
    ReviewControl,
    ReviewOut,
    ReviewProgress,
    Thread,
    Verdict,
)
from portal.errors import Conflict, InvalidInput, Message, NotFound
from portal.security import policy
from portal.security.principal import Role

QUEUE_STATES = (State.SUBMITTED, State.IN_REVIEW)
COUNTED_STATES = (State.SUBMITTED, State.IN_REVIEW, State.CHANGES_REQUESTED, State.RECOMMENDED)


def _person(user_id: uuid.UUID | None, names: dict[uuid.UUID, str]) -> Person | None:
    return None if user_id is None else Person(id=user_id, name=names.get(user_id, "former user"))


def _finding_out(found: FindingRecord | None, names: dict[uuid.UUID, str]) -> FindingOut | None:
    if found is None:
        return None
    author = _person(found.author, names)
    assert author is not None
    return FindingOut(
        control_id=found.control_id,
        revision=found.revision,
        verdict=Verdict(found.verdict),
        comment=found.comment,
        author=author,
        at=found.at,
    )


def _comment_out(row: CommentRecord) -> CommentOut:
    return CommentOut(
        id=row.id,
        control_id=row.control_id or None,
        parent_id=row.parent,
        body=row.body,
        internal=row.internal,
        author=Person(id=row.author, name=row.author_name),
        author_role=row.author_role,
        revision=row.revision,
        at=row.at,
    )


def threads_of(rows: Iterable[CommentRecord]) -> list[Thread]:
    """Comments grouped into threads (a first comment and its replies), oldest thread first."""
    threads: dict[uuid.UUID, Thread] = {}
    for row in rows:
        root = row.parent or row.id
        if root not in threads:
            threads[root] = Thread(id=root, control_id=row.control_id or None, comments=[])
        threads[root].comments.append(_comment_out(row))
    return list(threads.values())


def _recommendation_out(row: RecommendationRecord | None, names: dict[uuid.UUID, str]) -> RecommendationOut | None:
    if row is None:
        return None
    by = _person(row.recommended_by, names)
    assert by is not None
    return RecommendationOut(
        revision=row.revision,
        decision=Decision(row.decision),
        rationale=row.rationale,
        level=Level(row.level) if row.level else None,
        conditions=[msgspec.convert(c, ConditionOut) for c in row.conditions],
        reasons=[msgspec.convert(r, ReasonOut) for r in row.reasons],
        recommended_by=by,
        at=row.at,
    )


def _text(value: str, field: str) -> str:
    """Free text with its surrounding blanks removed; blank text is refused."""
    if not value.strip():
        raise InvalidInput(f"{field} must not be blank", field=field)
    return value.strip()


def days_waiting(since: dt.datetime | None, at: dt.datetime) -> int:
    return max(0, (at - since).days) if since else 0


class ReviewService:
    def __init__(self, assessments: AssessmentService) -> None:
        self.assessments = assessments

    # --- reading ---------------------------------------------------------------------------------------------

    async def _filing(self, assessment_id: uuid.UUID) -> AssessmentRecord:
        row = await assessments_repo.get(assessment_id)
        if row is None:
            raise NotFound("no such assessment")
        return row

    async def _require(self, caller: Caller, verdict: policy.Verdict, assessment_id: uuid.UUID) -> None:
        await policy.require(
            caller, verdict, object_type="assessment", object_id=assessment_id, missing="no such assessment"
        )

    async def _frozen(self, assessment_id: uuid.UUID, number: int) -> dict[str, dict[str, Any]]:
        """One frozen revision's answers by control id: the controls that apply to it."""
        revision = await assessments_repo.revision(assessment_id, number)
        if revision is None:
            return {}
        return {a["control_id"]: a for a in msgspec.json.decode(revision.document)["answers"]}

    async def _answers(self, assessment_id: uuid.UUID, upto: int) -> dict[int, dict[str, dict[str, Any]]]:
        """Every frozen revision's answers by control id (revisions are few and small)."""
        out = {}
        for number in range(1, upto + 1):
            revision = await assessments_repo.revision(assessment_id, number)
            if revision is not None:
                document = msgspec.json.decode(revision.document)
                out[number] = {a["control_id"]: a for a in document["answers"]}
        return out

    async def standings_of(self, row: AssessmentRecord) -> tuple[dict[str, Standing], list[FindingRecord]]:
        answers = await self._answers(row.id, row.revision)
        found = await repo.findings(row.id)
        return standings(list(answers.get(row.revision, {})), row.revision, found, answers), found

    async def queue(self, caller: Caller, wanted: QueueFilter) -> QueueOut:
        principal = caller.actor
        await policy.require(caller, policy.may_review_queue(principal), object_type="review-queue")
        rows = await assessments_repo.in_states(COUNTED_STATES)
        claims = await repo.reviews([r.id for r in rows])
        counts = {str(state): sum(1 for r in rows if r.state == state) for state in COUNTED_STATES}

        def wanted_row(row: AssessmentRecord) -> bool:
            claim = claims.get(row.id)
            if wanted == QueueFilter.MINE:
                return row.state == State.IN_REVIEW and claim is not None and claim.claimed_by == principal.user_id
            if wanted == QueueFilter.UNCLAIMED:
                return row.state == State.SUBMITTED
            if wanted == QueueFilter.CHANGES_REQUESTED:
                return row.state == State.CHANGES_REQUESTED
            return row.state in QUEUE_STATES

        chosen = [r for r in rows if wanted_row(r)]
        names = await repo.names(c.claimed_by for c in claims.values())
        at = now()
        items = []
        for row in chosen:
            claim = claims.get(row.id)
            claimed = claim.claimed_by if claim is not None and row.state == State.IN_REVIEW else None
            items.append(
                QueueItem(
                    id=row.id,
                    title=row.title,
                    provider=row.organisation_name,
                    organisation_id=row.organisation_id,
                    catalog=catalog_ref(row),
                    state=row.state,
                    revision=row.revision,
                    resubmission=row.revision > 1,
                    submitted_at=row.submitted_at,
                    days_waiting=days_waiting(row.submitted_at, at),
                    claimed_by=_person(claimed, names),
                    claimed_at=claim.claimed_at if claim is not None and claimed else None,
                    last_reviewed_revision=(claim.last_reviewed_revision or None) if claim else None,
                )
            )
        return QueueOut(filter=wanted, items=items, counts=counts)

    async def review(self, caller: Caller, assessment_id: uuid.UUID) -> ReviewOut:
        """The reviewer's screen: every control of the current revision with its answer, evidence, standing
        and threads; changed controls first, with the diff against the revision last reviewed."""
        principal = caller.actor
        row = await self._filing(assessment_id)
        await self._require(caller, policy.may_see_review(principal, row), assessment_id)
        catalog, applicable = await self.assessments.applicable(row)
        answers = await self._answers(assessment_id, row.revision)
        found = await repo.findings(assessment_id)
        claim = await repo.review(assessment_id)
        current = answers.get(row.revision, {})
        standing = standings(list(current), row.revision, found, answers)
        against = claim.last_reviewed_revision if claim and 0 < claim.last_reviewed_revision < row.revision else None
        scope_changes, control_changes = [], []
        if against is not None:
            new = await assessments_repo.revision(assessment_id, row.revision)
            old = await assessments_repo.revision(assessment_id, against)
            assert new is not None and old is not None
            diff = diff_documents(
                msgspec.json.decode(new.document), msgspec.json.decode(old.document), row.revision, against
            )
            scope_changes, control_changes = diff.scope, diff.controls
        changed = {c.control_id: c for c in control_changes}
        evidence = {(e.sha256, e.filename): e.id for e in await evidence_repo.items(assessment_id)}
        comments = await repo.comments([assessment_id], internal=policy.may_see_internal(principal))
        threads = threads_of(comments)
        recommendation = await repo.latest_recommendation(assessment_id)
        names = await repo.names(
            [f.author for f in found]
            + ([claim.claimed_by, claim.assigned_by] if claim else [])
            + ([recommendation.recommended_by] if recommendation else [])
        )
        by_control = {c.id: c for c in applicable}
        items = []
        for control_id, answer in current.items():
            control = by_control.get(control_id)
            stands = standing[control_id]
            items.append(
                ReviewControl(
                    control_id=control_id,
                    family=control.family if control else "",
                    title=control.title if control else control_id,
                    statement=control.statement if control else "",
                    changed=control_id in changed,
                    changes=changed[control_id].fields if control_id in changed else [],
                    answer={k: v for k, v in answer.items() if k != "control_id"},
                    evidence=[
                        EvidenceLink(id=evidence.get((e["sha256"], e["filename"])), **e) for e in answer["evidence"]
                    ],
                    status=stands.status,
                    finding=_finding_out(stands.finding, names),
                    previous=_finding_out(stands.previous, names),
                    threads=[t for t in threads if t.control_id == control_id],
                )
            )
        # Changed controls first (in catalog order), then the rest: the reviewer starts where the work is.
        items.sort(key=lambda item: not item.changed)
        claimed_by = claim.claimed_by if claim and row.state == State.IN_REVIEW else None
        return ReviewOut(
            id=row.id,
            title=row.title,
            provider=row.organisation_name,
            organisation_id=row.organisation_id,
            catalog=catalog_ref(row),
            state=row.state,
            revision=row.revision,
            submitted_at=row.submitted_at,
            claimed_by=_person(claimed_by, names),
            claimed_at=claim.claimed_at if claimed_by and claim else None,
            last_reviewed_revision=(claim.last_reviewed_revision or None) if claim else None,
            against=against,
            scope_changes=scope_changes,
            control_changes=control_changes,
            controls=items,
            progress=_progress(catalog, items, standing),
            threads=[t for t in threads if t.control_id is None],
            recommendation=_recommendation_out(recommendation, names),
            allowed=Allowed(
                claim=bool(policy.may_claim(principal, row)),
                release=bool(policy.may_release(principal, row, claimed_by)),
                assign=bool(policy.may_assign(principal, row)),
                record_findings=bool(policy.may_record_finding(principal, row, claimed_by)),
                request_changes=bool(policy.may_request_changes(principal, row, claimed_by)),
                recommend=bool(policy.may_recommend(principal, row, claimed_by)),
                comment=bool(policy.may_comment(principal, row, internal=False)),
                internal_notes=bool(policy.may_comment(principal, row, internal=True)),
            ),
        )

    async def findings(self, caller: Caller, assessment_id: uuid.UUID) -> FindingsOut:
        """Each control's standing on the current revision; the provider sees it once the review is returned."""
        row = await self._filing(assessment_id)
        await self._require(caller, policy.may_see_findings(caller.actor, row), assessment_id)
        standing, found = await self.standings_of(row)
        names = await repo.names(f.author for f in found)
        return FindingsOut(
            revision=row.revision,
            state=row.state,
            findings=[
                ControlFinding(
                    control_id=s.control_id,
                    status=s.status,
                    finding=_finding_out(s.finding, names),
                    previous=_finding_out(s.previous, names),
                )
                for s in standing.values()
            ],
            open=[c for c, s in standing.items() if s.is_open],
        )

    async def threads(self, caller: Caller, assessment_id: uuid.UUID) -> list[Thread]:
        row = await self._filing(assessment_id)
        await self._require(caller, policy.may_read_comments(caller.principal, row), assessment_id)
        internal = policy.may_see_internal(caller.principal)
        return threads_of(await repo.comments([assessment_id], internal=internal))

    async def reviewers(self, caller: Caller) -> list[Person]:
        """The active reviewers an admin may assign (the admin's own regulator team)."""
        principal = caller.actor
        await policy.require(caller, policy.may_review_queue(principal), object_type="review-queue")
        members = await accounts_repo.members(principal.organisation_id)
        return [Person(id=m.id, name=m.display_name) for m in members if m.role == Role.REVIEWER and m.is_active]

    # --- claims ----------------------------------------------------------------------------------------------

    async def _claim_out(self, assessment_id: uuid.UUID) -> ClaimOut:
        row = await self._filing(assessment_id)
        claim = await repo.review(assessment_id)
        holder = claim.claimed_by if claim and row.state == State.IN_REVIEW else None
        names = await repo.names([holder, claim.assigned_by if claim else None])
        return ClaimOut(
            id=assessment_id,
            state=row.state,
            revision=row.revision,
            claimed_by=_person(holder, names),
            claimed_at=claim.claimed_at if holder and claim else None,
            assigned_by=_person(claim.assigned_by, names) if holder and claim else None,
        )

    async def claim(self, caller: Caller, assessment_id: uuid.UUID) -> ClaimOut:
        principal = caller.actor
        row = await self._filing(assessment_id)
        await self._require(caller, policy.may_claim(principal, row), assessment_id)
        async with atomic():
            if not await assessments_repo.move(
                assessment_id, [State.SUBMITTED], State.IN_REVIEW, at=now(), revision=row.revision
            ):
                raise Conflict("another reviewer claimed this assessment first, or it changed; reload the queue")
            await repo.set_claim(assessment_id, claimed_by=principal.user_id, assigned_by=None, at=now())
            await record(
                caller,
                "review.claimed",
                object_type="assessment",
                object_id=assessment_id,
                before={"state": row.state, "claimed_by": None},
                after={"state": State.IN_REVIEW, "claimed_by": str(principal.user_id), "revision": row.revision},
            )
        return await self._claim_out(assessment_id)

    async def release(self, caller: Caller, assessment_id: uuid.UUID) -> ClaimOut:
        principal = caller.actor
        row = await self._filing(assessment_id)
        claim = await repo.review(assessment_id)
        holder = claim.claimed_by if claim else None
        await self._require(caller, policy.may_release(principal, row, holder), assessment_id)
        async with atomic():
            if not await assessments_repo.move(
                assessment_id, [State.IN_REVIEW], State.SUBMITTED, at=now(), revision=row.revision
            ):
                raise Conflict("the assessment changed meanwhile; reload it")
            await repo.set_claim(assessment_id, claimed_by=None, assigned_by=None, at=now())
            await record(
                caller,
                "review.released",
                object_type="assessment",
                object_id=assessment_id,
                before={"state": row.state, "claimed_by": str(holder) if holder else None},
                after={"state": State.SUBMITTED, "claimed_by": None},
            )
        return await self._claim_out(assessment_id)

    async def assign(self, caller: Caller, assessment_id: uuid.UUID, data: AssignIn) -> ClaimOut:
        """A regulator admin hands the review to a named reviewer: claims it for them, or takes it over."""
        principal = caller.actor
        row = await self._filing(assessment_id)
        await self._require(caller, policy.may_assign(principal, row), assessment_id)
        reviewer = await accounts_repo.user(data.reviewer_id)
        if reviewer is None or not reviewer.is_active or reviewer.role != Role.REVIEWER:
            raise InvalidInput("reviewer_id must name an active reviewer", field="reviewer_id")
        claim = await repo.review(assessment_id)
        holder = claim.claimed_by if claim and row.state == State.IN_REVIEW else None
        async with atomic():
            if row.state == State.SUBMITTED:
                won = await assessments_repo.move(
                    assessment_id, [State.SUBMITTED], State.IN_REVIEW, at=now(), revision=row.revision
                )
                if won:
                    await repo.set_claim(assessment_id, claimed_by=reviewer.id, assigned_by=principal.user_id, at=now())
            else:
                won = await assessments_repo.touch_if(
                    assessment_id, [State.IN_REVIEW], row.revision, now()
                ) and await repo.reassign(assessment_id, current=holder, to=reviewer.id, by=principal.user_id, at=now())
            if not won:
                raise Conflict("the assessment or its claim changed meanwhile; reload it")
            await record(
                caller,
                "review.assigned",
                object_type="assessment",
                object_id=assessment_id,
                before={"state": row.state, "claimed_by": str(holder) if holder else None},
                after={"state": State.IN_REVIEW, "claimed_by": str(reviewer.id)},
            )
        return await self._claim_out(assessment_id)

    async def _held(self, assessment_id: uuid.UUID, reviewer: uuid.UUID, revision: int) -> None:
        """Inside a write transaction: lock the assessment while this reviewer still holds it at ``revision``."""
        held = await assessments_repo.touch_if(assessment_id, [State.IN_REVIEW], revision, now())
        claim = await repo.review(assessment_id)
        if not held or claim is None or claim.claimed_by != reviewer:
            raise Conflict("the review was released, reassigned or handed back meanwhile; reload it")

    # --- findings --------------------------------------------------------------------------------------------

    async def record_finding(
        self, caller: Caller, assessment_id: uuid.UUID, control_id: str, data: FindingIn
    ) -> FindingOut:
        principal = caller.actor
        row = await self._filing(assessment_id)
        claim = await repo.review(assessment_id)
        await self._require(
            caller, policy.may_record_finding(principal, row, claim.claimed_by if claim else None), assessment_id
        )
        if control_id not in await self._frozen(assessment_id, row.revision):
            raise InvalidInput(
                Message("control %(control)s does not apply to this assessment", control=control_id), field="control_id"
            )
        comment = data.comment.strip()
        if data.verdict != Verdict.SATISFIED and not comment:
            raise InvalidInput(
                Message("a “%(verdict)s” finding needs a comment saying why", verdict=data.verdict), field="comment"
            )
        async with atomic():
            await self._held(assessment_id, principal.user_id, row.revision)
            before = await repo.finding(assessment_id, row.revision, control_id)
            await repo.save_finding(
                assessment_id,
                row.revision,
                control_id,
                verdict=data.verdict,
                comment=comment,
                author=principal.user_id,
                at=now(),
            )
            await record(
                caller,
                "review.finding",
                object_type="assessment",
                object_id=assessment_id,
                before={"control": control_id, "revision": row.revision, "verdict": before.verdict} if before else None,
                after={"control": control_id, "revision": row.revision, "verdict": data.verdict},
            )
        saved = await repo.finding(assessment_id, row.revision, control_id)
        out = _finding_out(saved, {principal.user_id: principal.display_name})
        assert out is not None
        return out

    # --- comments --------------------------------------------------------------------------------------------

    async def comment(self, caller: Caller, assessment_id: uuid.UUID, data: CommentIn) -> CommentOut:
        principal = caller.actor
        row = await self._filing(assessment_id)
        await self._require(caller, policy.may_comment(principal, row, internal=data.internal), assessment_id)
        control_id = data.control_id or ""
        internal = data.internal
        parent: uuid.UUID | None = None
        if data.parent_id is not None:
            found = await repo.comment(data.parent_id)
            if (
                found is None
                or found.assessment != assessment_id
                or (found.internal and not policy.may_see_internal(principal))
            ):
                raise InvalidInput("parent_id names no comment of this assessment", field="parent_id")
            if data.control_id is not None and data.control_id != found.control_id:
                raise InvalidInput("a reply stays in its thread's control", field="control_id")
            parent, control_id = found.parent or found.id, found.control_id
            # A reply to an internal note stays internal, so a thread never leaks to the provider.
            internal = internal or found.internal
        if control_id and control_id not in await self._frozen(assessment_id, row.revision):
            raise InvalidInput(
                Message("control %(control)s does not apply to this assessment", control=control_id), field="control_id"
            )
        body = _text(data.body, "body")
        async with atomic():
            comment_id = await repo.insert_comment(
                assessment=assessment_id,
                control_id=control_id,
                parent=parent,
                body=body,
                internal=internal,
                author=principal.user_id,
                author_name=principal.display_name,
                author_role=principal.role,
                revision=row.revision,
                at=now(),
            )
            await record(
                caller,
                "review.comment",
                object_type="assessment",
                object_id=assessment_id,
                after={
                    "comment": str(comment_id),
                    "control": control_id or None,
                    "parent": str(parent) if parent else None,
                    "internal": internal,
                },
            )
        saved = await repo.comment(comment_id)
        assert saved is not None
        return _comment_out(saved)

    # --- handing back and recommending -----------------------------------------------------------------------

    async def request_changes(
        self, caller: Caller, assessment_id: uuid.UUID, data: RequestChangesIn
    ) -> RequestChangesOut:
        principal = caller.actor
        row = await self._filing(assessment_id)
        claim = await repo.review(assessment_id)
        await self._require(
            caller, policy.may_request_changes(principal, row, claim.claimed_by if claim else None), assessment_id
        )
        standing, found = await self.standings_of(row)
        open_ = [s for s in standing.values() if s.is_open]
        if not open_:
            raise InvalidInput(
                "request changes needs at least one open finding (not_satisfied or needs_clarification)",
                field="findings",
            )
        message = _text(data.message, "message")
        async with atomic():
            await self._held(assessment_id, principal.user_id, row.revision)
            if not await assessments_repo.move(
                assessment_id, [State.IN_REVIEW], State.CHANGES_REQUESTED, at=now(), revision=row.revision
            ):
                raise Conflict("the assessment changed meanwhile; reload it")
            await repo.mark_reviewed(
                assessment_id, revision=row.revision, reviewer=principal.user_id, keep_claim=False, at=now()
            )
            # The message opens a thread the provider sees and answers.
            await repo.insert_comment(
                assessment=assessment_id,
                control_id="",
                parent=None,
                body=message,
                internal=False,
                author=principal.user_id,
                author_name=principal.display_name,
                author_role=principal.role,
                revision=row.revision,
                at=now(),
            )
            await record(
                caller,
                "review.changes_requested",
                object_type="assessment",
                object_id=assessment_id,
                before={"state": row.state, "revision": row.revision},
                after={
                    "state": State.CHANGES_REQUESTED,
                    "revision": row.revision,
                    "open_findings": [s.control_id for s in open_],
                },
            )
        names = await repo.names(f.author for f in found)
        return RequestChangesOut(
            id=assessment_id,
            state=State.CHANGES_REQUESTED,
            revision=row.revision,
            message=message,
            open_findings=[f for s in open_ if (f := _finding_out(s.finding, names)) is not None],
        )

    async def recommend(self, caller: Caller, assessment_id: uuid.UUID, data: RecommendIn) -> RecommendOut:
        principal = caller.actor
        row = await self._filing(assessment_id)
        claim = await repo.review(assessment_id)
        await self._require(
            caller, policy.may_recommend(principal, row, claim.claimed_by if claim else None), assessment_id
        )
        standing, _ = await self.standings_of(row)
        problems, named = recommendation_problems(data, standing, dt.date.today())
        if problems:
            raise InvalidInput(
                f"the recommendation breaks the rules: {'; '.join(problems)}",
                field="decision",
                controls=named,
                problems=problems,
            )
        approve = data.decision == Decision.APPROVE
        values: dict[str, Any] = {
            "decision": data.decision.value,
            "rationale": _text(data.rationale, "rationale"),
            "level": (data.level or Level.FULL).value if approve else "",
            "conditions": [
                {"control_id": c.control_id, "text": c.text, "due_date": c.due_date.isoformat()}
                for c in data.conditions
            ],
            "reasons": [] if approve else rejection_reasons(data, standing),
        }
        async with atomic():
            await self._held(assessment_id, principal.user_id, row.revision)
            if not await assessments_repo.move(
                assessment_id, [State.IN_REVIEW], State.RECOMMENDED, at=now(), revision=row.revision
            ):
                raise Conflict("the assessment changed meanwhile; reload it")
            await repo.insert_recommendation(
                assessment_id, row.revision, recommended_by=principal.user_id, at=now(), **values
            )
            await repo.mark_reviewed(
                assessment_id, revision=row.revision, reviewer=principal.user_id, keep_claim=True, at=now()
            )
            await record(
                caller,
                "review.recommended",
                object_type="assessment",
                object_id=assessment_id,
                before={"state": row.state, "revision": row.revision},
                after={
                    "state": State.RECOMMENDED,
                    "revision": row.revision,
                    "decision": values["decision"],
                    "level": values["level"] or None,
                    "conditions": [c["control_id"] for c in values["conditions"]],
                    "reasons": [r["control_id"] for r in values["reasons"]],
                },
            )
        saved = _recommendation_out(
            await repo.latest_recommendation(assessment_id), {principal.user_id: principal.display_name}
        )
        assert saved is not None
        return RecommendOut(id=assessment_id, state=State.RECOMMENDED, recommendation=saved)


def _progress(catalog: controls.Catalog, items: list[ReviewControl], standing: dict[str, Standing]) -> ReviewProgress:
    families = []
    for family in catalog.families:
        in_family = [i for i in items if i.family == family.id]
        if in_family:
            families.append(
                FamilyReview(
                    family=family.id,
                    title=family.title,
                    applicable=len(in_family),
                    reviewed=sum(1 for i in in_family if standing[i.control_id].finding is not None),
                    open=sum(1 for i in in_family if standing[i.control_id].is_open),
                )
            )
    return ReviewProgress(
        applicable=len(items),
        reviewed=sum(1 for s in standing.values() if s.finding is not None),
        satisfied=sum(1 for s in standing.values() if s.verdict == Verdict.SATISFIED),
        open=sum(1 for s in standing.values() if s.verdict in OPEN_VERDICTS),
        to_recheck=sum(1 for s in standing.values() if s.status == ControlStatus.TO_RECHECK),
        families=families,
    )
