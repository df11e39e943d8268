"""Issuance bodies: the decision, the lifecycle actions, and the attestation as DESIGN section 5 fixes it."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated, Any

import msgspec

from portal.domain.issuance.states import RevocationReason, Status
from portal.structs import Strict

Reason = Annotated[str, msgspec.Meta(min_length=3, max_length=2000, pattern=r"^[^\x00]*$")]


class DecisionKind(enum.StrEnum):
    ISSUE = "issue"
    REJECT = "reject"


class DecideIn(Strict):
    decision: DecisionKind
    valid_days: Annotated[int, msgspec.Meta(ge=1, le=1095)] = 365
    reason: Annotated[str, msgspec.Meta(max_length=2000, pattern=r"^[^\x00]*$")] = ""


class SuspendIn(Strict):
    reason: Reason
    until: dt.datetime | None = None  # at most 180 days ahead; 180 days when not given


class ReinstateIn(Strict):
    reason: Reason


class RevokeIn(Strict):
    reason: RevocationReason
    detail: Reason


class ConditionMetIn(Strict):
    note: Reason


class EventOut(msgspec.Struct, kw_only=True):
    event: str
    at: dt.datetime
    log_index: int | None = None


class AttestationOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    serial: str
    status: Status
    token: str
    provider: dict[str, Any]
    scope: dict[str, Any]
    catalog: dict[str, Any]
    revision: dict[str, Any]
    level: str
    result: dict[str, dict[str, int]]
    conditions: list[dict[str, Any]]
    valid_from: dt.datetime
    expires_at: dt.datetime
    events: list[EventOut]
    superseded_by: str | None = None
    suspended_until: dt.datetime | None = None


class RejectionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    state: str
    reason: str


class PendingDecision(msgspec.Struct, kw_only=True):
    """A recommendation waiting for a signing officer, with what the decision page shows."""

    assessment_id: uuid.UUID
    title: str
    provider: str
    revision: int
    revision_sha256: str
    catalog: str
    recommendation: str  # approve | reject
    level: str
    rationale: str
    conditions: list[dict[str, Any]]
    reasons: list[dict[str, Any]]
    recommended_by: str
    recommended_at: dt.datetime
    reviewers: list[str]
    findings: dict[str, int]  # verdict -> count, on the recommended revision
    may_decide: bool
    refusal: str = ""


class AttestationSummary(msgspec.Struct, kw_only=True):
    serial: str
    status: Status
    organisation_id: uuid.UUID
    provider_name: str
    level: str
    valid_from: dt.datetime
    expires_at: dt.datetime
    overdue: bool  # suspended past its end date, or a condition past its due date


class StatusOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """``GET /api/v1/attestations/{serial}/status`` (DESIGN section 5): the answer the status list gives."""

    serial: str
    status: Status
    expires_at: dt.datetime
    checked_at: dt.datetime  # when this answer was last confirmed against the database
    superseded_by: str | None = None
