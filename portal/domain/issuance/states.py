"""An attestation's statuses and the one table of moves between them (DESIGN section 3)."""

from __future__ import annotations

import enum

from attestations.status_list import TokenStatus
from portal.domain.states import StateMachine


class Status(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


LIFECYCLE = StateMachine[Status](
    "attestation",
    {
        Status.ACTIVE: {Status.SUSPENDED, Status.REVOKED, Status.EXPIRED, Status.SUPERSEDED},
        Status.SUSPENDED: {Status.ACTIVE, Status.REVOKED, Status.EXPIRED, Status.SUPERSEDED},
        Status.REVOKED: set(),
        Status.EXPIRED: set(),
        Status.SUPERSEDED: set(),
    },
)

# What the public status list says for each status. Expiry is in the token itself (exp); a superseded
# attestation is no longer valid, so its entry is set like a revoked one.
LIST_VALUE = {
    Status.ACTIVE: TokenStatus.VALID,
    Status.SUSPENDED: TokenStatus.SUSPENDED,
    Status.REVOKED: TokenStatus.INVALID,
    Status.EXPIRED: TokenStatus.INVALID,
    Status.SUPERSEDED: TokenStatus.INVALID,
}


class RevocationReason(enum.StrEnum):
    NON_CONFORMITY = "non_conformity"
    PROVIDER_REQUEST = "provider_request"
    MISREPRESENTATION = "misrepresentation"
    SCOPE_CHANGE = "scope_change"
    OTHER = "other"
