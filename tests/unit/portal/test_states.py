"""The assessment's transition table, pinned: every allowed move, and a refusal for every other."""

from __future__ import annotations

import itertools

import pytest

from portal.domain.assessments.states import ASSESSMENT, EDITABLE, SUBMITTABLE, WITHDRAWABLE, State
from portal.domain.states import IllegalTransition

ALLOWED = {
    (State.DRAFT, State.SUBMITTED),
    (State.DRAFT, State.WITHDRAWN),
    (State.SUBMITTED, State.IN_REVIEW),
    (State.SUBMITTED, State.WITHDRAWN),
    (State.IN_REVIEW, State.SUBMITTED),
    (State.IN_REVIEW, State.CHANGES_REQUESTED),
    (State.IN_REVIEW, State.RECOMMENDED),
    (State.CHANGES_REQUESTED, State.SUBMITTED),
    (State.CHANGES_REQUESTED, State.WITHDRAWN),
    (State.RECOMMENDED, State.ATTESTED),
    (State.RECOMMENDED, State.REJECTED),
}


@pytest.mark.parametrize(("source", "target"), list(itertools.product(State, State)))
def test_the_table_allows_exactly_the_designed_moves(source: State, target: State) -> None:
    assert ASSESSMENT.allows(source, target) is ((source, target) in ALLOWED)
    if (source, target) in ALLOWED:
        assert ASSESSMENT.check([source], target) == [source]
    else:
        with pytest.raises(IllegalTransition, match=f"assessment: {source} -> {target} is not an allowed transition"):
            ASSESSMENT.check([source], target)


def test_final_states_have_no_way_out() -> None:
    for final in (State.ATTESTED, State.REJECTED, State.WITHDRAWN):
        assert not any(ASSESSMENT.allows(final, target) for target in State)


def test_derived_sets() -> None:
    assert frozenset({State.DRAFT, State.CHANGES_REQUESTED}) == EDITABLE == SUBMITTABLE
    assert frozenset({State.DRAFT, State.SUBMITTED, State.CHANGES_REQUESTED}) == WITHDRAWABLE


def test_a_move_needs_a_source() -> None:
    with pytest.raises(IllegalTransition, match="needs at least one source"):
        ASSESSMENT.check([], State.SUBMITTED)
