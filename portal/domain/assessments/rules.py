"""The rules an answer must follow, shared by saving (per answer) and submitting (the whole assessment)."""

from __future__ import annotations

import datetime as dt

from portal.domain.assessments.schemas import NEEDS_DATE, AnswerStatus


def answer_problems(
    status: AnswerStatus, narrative: str, justification: str, planned_date: dt.date | None, today: dt.date
) -> list[tuple[str, str]]:
    """(field, problem) pairs; empty when the answer can be submitted."""
    problems: list[tuple[str, str]] = []
    if status == AnswerStatus.NOT_APPLICABLE:
        if not justification.strip():
            problems.append(("justification", "a justification is required for not_applicable"))
    elif not narrative.strip():
        problems.append(("narrative", "describe how the control is (or will be) met"))
    if status in NEEDS_DATE:
        if planned_date is None:
            problems.append(("planned_date", f"a planned date is required for {status}"))
        elif planned_date <= today:
            problems.append(("planned_date", "the planned date must be in the future"))
    elif planned_date is not None:
        problems.append(("planned_date", "a planned date is only for planned or partially_implemented"))
    return problems
