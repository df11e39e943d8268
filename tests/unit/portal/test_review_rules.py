"""Review rules without a database: where a control stands on a revision, and what a recommendation needs."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
import pytest

from portal.domain.reviews.repo import FindingRecord
from portal.domain.reviews.rules import recommendation_problems, rejection_reasons, standings
from portal.domain.reviews.schemas import RecommendIn

AT = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
TODAY = dt.date(2026, 12, 1)
WHO = uuid.UUID(int=7)


def found(control_id: str, revision: int, verdict: str, comment: str = "why") -> FindingRecord:
    return FindingRecord(control_id=control_id, revision=revision, verdict=verdict, comment=comment, author=WHO, at=AT)


def answer(narrative: str) -> dict:
    return {"status": "implemented", "narrative": narrative, "justification": "", "planned_date": None, "evidence": []}


ANSWERS = {
    1: {"A": answer("a"), "B": answer("b"), "C": answer("c"), "D": answer("d")},
    2: {"A": answer("a"), "B": answer("b, amended"), "C": answer("c"), "D": answer("d")},
    3: {"A": answer("a"), "B": answer("b, amended"), "C": answer("c, amended"), "D": answer("d")},
}


def test_findings_carry_forward_only_to_unchanged_controls() -> None:
    history = [found("A", 1, "satisfied"), found("B", 1, "not_satisfied"), found("C", 1, "needs_clarification")]
    second = standings("ABCD", 2, history, ANSWERS)
    assert {c: s.status for c, s in second.items()} == {
        "A": "carried",
        "B": "to_recheck",
        "C": "carried",
        "D": "unreviewed",
    }
    assert second["A"].finding == history[0] and second["A"].previous == history[0]
    assert second["B"].finding is None and second["B"].previous == history[1]  # the old one stays visible
    assert second["C"].is_open and not second["B"].is_open
    # A finding on revision 2 stands; on revision 3 an answer unchanged since revision 1 still carries the first.
    history.append(found("B", 2, "satisfied"))
    third = standings("ABCD", 3, history, ANSWERS)
    assert {c: s.status for c, s in third.items()} == {
        "A": "carried",
        "B": "carried",
        "C": "to_recheck",
        "D": "unreviewed",
    }
    assert third["B"].finding.revision == 2 and third["B"].previous.revision == 2
    assert standings("B", 2, history, ANSWERS)["B"].status == "recorded"


def recommend(**body) -> RecommendIn:
    return msgspec.convert({"rationale": "because", **body}, RecommendIn)


STANDING = standings(
    "ABC",
    1,
    [found("A", 1, "satisfied"), found("B", 1, "not_satisfied", "no plan"), found("C", 1, "satisfied")],
    ANSWERS,
)


@pytest.mark.parametrize(
    ("body", "controls"),
    [
        ({"decision": "approve"}, ["B"]),
        (
            {
                "decision": "approve",
                "level": "full",
                "conditions": [{"control_id": "B", "text": "x", "due_date": "2027-01-01"}],
            },
            ["B"],
        ),
        ({"decision": "approve", "level": "conditional"}, ["B"]),
        (
            {
                "decision": "approve",
                "level": "conditional",
                "conditions": [{"control_id": "B", "text": "x", "due_date": "2026-12-01"}],
            },
            ["B"],
        ),
        (
            {
                "decision": "approve",
                "level": "conditional",
                "conditions": [{"control_id": "Z", "text": "x", "due_date": "2027-01-01"}],
            },
            ["Z", "B"],
        ),
        ({"decision": "reject", "level": "full"}, []),
        ({"decision": "reject", "reasons": [{"control_id": "A", "text": "x"}]}, ["A"]),
    ],
)
def test_recommendations_that_break_the_rules_name_the_controls(body, controls) -> None:
    problems, named = recommendation_problems(recommend(**body), STANDING, TODAY)
    assert problems and named == controls


def test_recommendations_within_the_rules() -> None:
    conditional = recommend(
        decision="approve",
        level="conditional",
        conditions=[{"control_id": "B", "text": "Adopt a plan", "due_date": "2027-01-01"}],
    )
    assert recommendation_problems(conditional, STANDING, TODAY) == ([], [])
    reject = recommend(decision="reject")
    assert recommendation_problems(reject, STANDING, TODAY) == ([], [])
    assert rejection_reasons(reject, STANDING) == [{"control_id": "B", "text": "no plan"}]
    stated = recommend(decision="reject", reasons=[{"control_id": "B", "text": "No incident plan at all"}])
    assert rejection_reasons(stated, STANDING) == [{"control_id": "B", "text": "No incident plan at all"}]
    unreviewed = standings("ABCD", 1, [found("A", 1, "satisfied")], ANSWERS)
    problems, named = recommendation_problems(recommend(decision="approve"), unreviewed, TODAY)
    assert named == ["B", "C", "D"] and problems[0] == "B: no finding on this revision"
    everything_satisfied = standings("A", 1, [found("A", 1, "satisfied")], ANSWERS)
    assert recommendation_problems(recommend(decision="approve"), everything_satisfied, TODAY) == ([], [])
    _, named = recommendation_problems(recommend(decision="approve", level="conditional"), everything_satisfied, TODAY)
    assert named == []
