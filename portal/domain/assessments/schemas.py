"""Assessment, answer, evidence and revision bodies."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated, Any

import msgspec

from portal.domain.assessments.states import State
from portal.structs import NO_NUL, Strict

Text = Annotated[str, msgspec.Meta(max_length=20_000, pattern=NO_NUL)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]


class AnswerStatus(enum.StrEnum):
    IMPLEMENTED = "implemented"
    PARTIALLY_IMPLEMENTED = "partially_implemented"
    PLANNED = "planned"
    NOT_IMPLEMENTED = "not_implemented"
    NOT_APPLICABLE = "not_applicable"


NEEDS_DATE = frozenset({AnswerStatus.PLANNED, AnswerStatus.PARTIALLY_IMPLEMENTED})


class Product(Strict):
    name: Short
    model: Annotated[str, msgspec.Meta(max_length=200, pattern=NO_NUL)] = ""
    version: Annotated[str, msgspec.Meta(max_length=100, pattern=NO_NUL)] = ""


class Scope(Strict):
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=NO_NUL)]
    services: Annotated[list[Short], msgspec.Meta(max_length=200)] = []
    products: Annotated[list[Product], msgspec.Meta(max_length=200)] = []
    sites: Annotated[list[Short], msgspec.Meta(max_length=200)] = []


TITLE_MAX = 200  # the assessment table's title column


class NewAssessment(Strict):
    catalog_id: Short
    catalog_version: Short
    scope: Scope
    title: Annotated[str, msgspec.Meta(max_length=TITLE_MAX, pattern=NO_NUL)] = ""


class AnswerIn(Strict):
    status: AnswerStatus
    narrative: Text = ""
    justification: Text = ""
    planned_date: dt.date | None = None
    evidence_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=50)] = []
    # The answer version being replaced (or send If-Match).
    version: Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)] | None = None


class AnswerOut(msgspec.Struct, kw_only=True):
    status: AnswerStatus
    narrative: str
    justification: str
    planned_date: dt.date | None
    evidence_ids: list[uuid.UUID]
    version: int
    updated_at: dt.datetime


class ControlItem(msgspec.Struct, kw_only=True):
    control_id: str
    family: str
    pillar: str
    title: str
    statement: str
    answer: AnswerOut | None


class FamilyProgress(msgspec.Struct, kw_only=True):
    family: str
    title: str
    applicable: int
    answered: int


class Progress(msgspec.Struct, kw_only=True):
    applicable: int
    answered: int
    families: list[FamilyProgress]


class CatalogRef(msgspec.Struct, kw_only=True):
    id: str
    version: str
    sha256: str


class RevisionRef(msgspec.Struct, kw_only=True):
    number: int
    sha256: str


class AssessmentSummary(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    organisation_id: uuid.UUID
    organisation_name: str
    title: str
    catalog: CatalogRef
    state: State
    revision: int
    applicable: int
    answered: int
    created_at: dt.datetime
    updated_at: dt.datetime


class AssessmentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    organisation_id: uuid.UUID
    title: str
    catalog: CatalogRef
    scope: Scope
    state: State
    revision: int
    progress: Progress
    controls: list[ControlItem]
    missing: list[str]  # what stops a submit now, one line per problem
    revisions: list[RevisionRef]
    created_at: dt.datetime
    updated_at: dt.datetime
    # The language of the controls' titles and statements (and family titles) in this answer.
    text_language: str = "en"


class EvidenceOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    sha256: str
    size: int
    media_type: str
    filename: str
    frozen: bool = False
    created_at: dt.datetime | None = None


class SubmitOut(msgspec.Struct, kw_only=True):
    state: State
    revision: RevisionRef


class StateOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    state: State


class RevisionOut(msgspec.Struct, kw_only=True):
    number: int
    sha256: str
    created_at: dt.datetime
    document: dict[str, Any]


class FieldDiff(msgspec.Struct, kw_only=True):
    field: str
    old: Any
    new: Any


class ControlDiff(msgspec.Struct, kw_only=True):
    control_id: str
    change: str  # added | removed | changed
    fields: list[FieldDiff] = []


class RevisionDiff(msgspec.Struct, kw_only=True):
    number: int
    against: int
    scope: list[FieldDiff]
    controls: list[ControlDiff]
