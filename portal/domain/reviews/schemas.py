"""Review bodies: the queue, claims, findings, comments, requests for changes, recommendations, the inbox."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated, Any

import msgspec

from portal.domain.assessments.schemas import CatalogRef, ControlDiff, FieldDiff
from portal.domain.assessments.states import State
from portal.structs import Strict

Body = Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]
Note = Annotated[str, msgspec.Meta(max_length=10_000)]
ControlId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class Verdict(enum.StrEnum):
    SATISFIED = "satisfied"
    NOT_SATISFIED = "not_satisfied"
    NEEDS_CLARIFICATION = "needs_clarification"


OPEN_VERDICTS = frozenset({Verdict.NOT_SATISFIED, Verdict.NEEDS_CLARIFICATION})


class Decision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class Level(enum.StrEnum):
    FULL = "full"
    CONDITIONAL = "conditional"


class QueueFilter(enum.StrEnum):
    ALL = "all"
    MINE = "mine"
    UNCLAIMED = "unclaimed"
    CHANGES_REQUESTED = "changes_requested"


class ControlStatus(enum.StrEnum):
    """Where a control stands in the review of the current revision."""

    UNREVIEWED = "unreviewed"
    RECORDED = "recorded"  # a finding recorded on this revision
    CARRIED = "carried"  # unchanged since the finding of an earlier revision, which it keeps
    TO_RECHECK = "to_recheck"  # changed since its last finding: the old one is shown, a new one is needed


# --- requests ------------------------------------------------------------------------------------------------


class AssignIn(Strict):
    reviewer_id: uuid.UUID


class FindingIn(Strict):
    verdict: Verdict
    comment: Note = ""


class CommentIn(Strict):
    body: Body
    control_id: ControlId | None = None
    internal: bool = False
    parent_id: uuid.UUID | None = None  # answer a thread


class RequestChangesIn(Strict):
    message: Body


class ConditionIn(Strict):
    control_id: ControlId
    text: Body
    due_date: dt.date


class ReasonIn(Strict):
    control_id: ControlId
    text: Body


class RecommendIn(Strict):
    decision: Decision
    rationale: Body
    level: Level | None = None
    conditions: Annotated[list[ConditionIn], msgspec.Meta(max_length=500)] = []
    reasons: Annotated[list[ReasonIn], msgspec.Meta(max_length=500)] = []  # reject: per control


# --- responses -----------------------------------------------------------------------------------------------


class Person(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str


class ClaimOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    state: State
    revision: int
    claimed_by: Person | None
    claimed_at: dt.datetime | None
    assigned_by: Person | None = None


class QueueItem(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    title: str
    provider: str
    organisation_id: uuid.UUID
    catalog: CatalogRef
    state: State
    revision: int
    resubmission: bool
    submitted_at: dt.datetime | None
    days_waiting: int
    claimed_by: Person | None
    claimed_at: dt.datetime | None
    last_reviewed_revision: int | None


class QueueOut(msgspec.Struct, kw_only=True):
    filter: QueueFilter
    items: list[QueueItem]
    counts: dict[str, int]


class FindingOut(msgspec.Struct, kw_only=True):
    control_id: str
    revision: int  # the revision the finding was recorded on
    verdict: Verdict
    comment: str
    author: Person
    at: dt.datetime


class ControlFinding(msgspec.Struct, kw_only=True):
    """A control's finding as it stands on the current revision."""

    control_id: str
    status: ControlStatus
    finding: FindingOut | None  # recorded here, or carried from an earlier revision unchanged
    previous: FindingOut | None  # the last finding of an earlier revision, if any


class FindingsOut(msgspec.Struct, kw_only=True):
    revision: int
    state: State
    findings: list[ControlFinding]
    open: list[str]  # controls whose finding is not_satisfied or needs_clarification


class CommentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    control_id: str | None
    parent_id: uuid.UUID | None
    body: str
    internal: bool
    author: Person
    author_role: str
    revision: int
    at: dt.datetime


class Thread(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    control_id: str | None
    comments: list[CommentOut]


class EvidenceLink(msgspec.Struct, kw_only=True):
    id: uuid.UUID | None
    filename: str
    sha256: str
    media_type: str
    size: int


class ReviewControl(msgspec.Struct, kw_only=True):
    control_id: str
    family: str
    title: str
    statement: str
    changed: bool  # since the revision last reviewed
    changes: list[FieldDiff]
    answer: dict[str, Any] | None  # as frozen in the current revision
    evidence: list[EvidenceLink]
    status: ControlStatus
    finding: FindingOut | None
    previous: FindingOut | None
    threads: list[Thread]


class FamilyReview(msgspec.Struct, kw_only=True):
    family: str
    title: str
    applicable: int
    reviewed: int
    open: int


class ReviewProgress(msgspec.Struct, kw_only=True):
    applicable: int
    reviewed: int
    satisfied: int
    open: int
    to_recheck: int
    families: list[FamilyReview]


class ConditionOut(msgspec.Struct, kw_only=True):
    control_id: str
    text: str
    due_date: dt.date


class ReasonOut(msgspec.Struct, kw_only=True):
    control_id: str
    text: str


class RecommendationOut(msgspec.Struct, kw_only=True):
    revision: int
    decision: Decision
    rationale: str
    level: Level | None
    conditions: list[ConditionOut]
    reasons: list[ReasonOut]
    recommended_by: Person
    at: dt.datetime


class Allowed(msgspec.Struct, kw_only=True):
    """What the caller may do now: the same decisions the services enforce."""

    claim: bool
    release: bool
    assign: bool
    record_findings: bool
    request_changes: bool
    recommend: bool
    comment: bool
    internal_notes: bool


class ReviewOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    title: str
    provider: str
    organisation_id: uuid.UUID
    catalog: CatalogRef
    state: State
    revision: int
    submitted_at: dt.datetime | None
    claimed_by: Person | None
    claimed_at: dt.datetime | None
    last_reviewed_revision: int | None
    against: int | None  # the revision the diff compares with (the one last reviewed)
    scope_changes: list[FieldDiff]
    control_changes: list[ControlDiff]
    controls: list[ReviewControl]  # changed controls first, then in catalog order
    progress: ReviewProgress
    threads: list[Thread]  # the assessment's own threads (not about one control)
    recommendation: RecommendationOut | None
    allowed: Allowed


class RequestChangesOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    state: State
    revision: int
    message: str
    open_findings: list[FindingOut]


class RecommendOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    state: State
    recommendation: RecommendationOut


class InboxItem(msgspec.Struct, kw_only=True):
    kind: str  # changes_requested | comment | submission | resubmission | in_review | recommendation
    assessment_id: uuid.UUID
    title: str
    provider: str
    state: State
    revision: int
    at: dt.datetime | None
    detail: str  # in English, for scripts; the page composes its own text from the fields below
    href: str
    controls: list[str] = []  # the controls concerned (open findings, a comment's control)
    decision: str | None = None  # recommendation: approve | reject
    level: str | None = None


class InboxOut(msgspec.Struct, kw_only=True):
    role: str
    items: list[InboxItem]
