"""An assessment's states and the one table of moves between them (DESIGN section 3)."""

from __future__ import annotations

import enum

from portal.domain.states import StateMachine


class State(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    RECOMMENDED = "recommended"
    ATTESTED = "attested"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


ASSESSMENT = StateMachine[State](
    "assessment",
    {
        State.DRAFT: {State.SUBMITTED, State.WITHDRAWN},
        State.SUBMITTED: {State.IN_REVIEW, State.WITHDRAWN},
        # A reviewer releases a claim (back to submitted), returns it, or recommends.
        State.IN_REVIEW: {State.SUBMITTED, State.CHANGES_REQUESTED, State.RECOMMENDED},
        State.CHANGES_REQUESTED: {State.SUBMITTED, State.WITHDRAWN},
        # A signing officer decides.
        State.RECOMMENDED: {State.ATTESTED, State.REJECTED},
        State.ATTESTED: set(),
        State.REJECTED: set(),
        State.WITHDRAWN: set(),
    },
)

# Answers and evidence change only while the provider holds the pen.
EDITABLE = frozenset({State.DRAFT, State.CHANGES_REQUESTED})
SUBMITTABLE = ASSESSMENT.sources(State.SUBMITTED) & EDITABLE
WITHDRAWABLE = ASSESSMENT.sources(State.WITHDRAWN)
