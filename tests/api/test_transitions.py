"""The one door for state changes: the repository's move checks the table and wins exactly once."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from portal.clock import now
from portal.db import atomic
from portal.db.tables import Assessment
from portal.domain.assessments import repo
from portal.domain.assessments.states import State
from portal.domain.states import IllegalTransition
from tests.api.test_assessments import answer_all, open_assessment

pytestmark = pytest.mark.usefixtures("baseline")


async def _submitted(actors) -> uuid.UUID:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    await answer_all(client, assessment["id"])
    assert (await client.post(f"/api/v1/assessments/{assessment['id']}/submit")).status_code == 200
    return uuid.UUID(assessment["id"])


async def _state(assessment_id: uuid.UUID) -> str:
    row = await Assessment.select(Assessment.state).where(Assessment.id == assessment_id).first()
    return row["state"]


async def test_an_illegal_move_is_refused_before_any_write(actors) -> None:
    assessment_id = await _submitted(actors)
    with pytest.raises(IllegalTransition, match="assessment: submitted -> attested is not an allowed transition"):
        await repo.move(assessment_id, [State.SUBMITTED], State.ATTESTED, at=now())
    with pytest.raises(ValueError, match="the state is written by the move itself"):
        await repo.move(assessment_id, [State.SUBMITTED], State.IN_REVIEW, at=now(), values={"state": "attested"})
    assert await _state(assessment_id) == "submitted"


async def test_a_move_from_the_wrong_state_loses_and_changes_nothing(actors) -> None:
    assessment_id = await _submitted(actors)
    assert await repo.move(assessment_id, [State.DRAFT], State.WITHDRAWN, at=now()) is False
    assert await _state(assessment_id) == "submitted"
    assert await repo.move(assessment_id, [State.SUBMITTED], State.IN_REVIEW, at=now()) is True
    assert await _state(assessment_id) == "in_review"


async def test_concurrent_moves_have_exactly_one_winner(actors) -> None:
    assessment_id = await _submitted(actors)

    async def claim() -> bool:
        async with atomic():
            return await repo.move(assessment_id, [State.SUBMITTED], State.IN_REVIEW, at=now())

    results = await asyncio.gather(*(claim() for _ in range(12)))
    assert sorted(results) == [False] * 11 + [True]
    assert await _state(assessment_id) == "in_review"
