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


def test_an_organisation_is_decided_once() -> None:
    from portal.domain.organisations.repo import VERIFICATION
    from portal.security.principal import OrganisationStatus as S

    allowed = {(a, b) for a in S for b in S if VERIFICATION.allows(a, b)}
    assert allowed == {(S.PENDING, S.VERIFIED), (S.PENDING, S.REJECTED)}
    with pytest.raises(IllegalTransition, match="organisation: verified -> rejected"):
        VERIFICATION.check([S.VERIFIED], S.REJECTED)


def test_a_catalog_version_moves_forward_only() -> None:
    from portal.domain.catalogs.schemas import CatalogStatus as C
    from portal.domain.catalogs.services import CATALOG_STATUS

    allowed = {(a, b) for a in C for b in C if CATALOG_STATUS.allows(a, b)}
    assert allowed == {(C.DRAFT, C.PUBLISHED), (C.PUBLISHED, C.RETIRED)}
