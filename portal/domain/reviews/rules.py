"""Review rules as pure functions: where each control stands on a revision, and what a recommendation needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from portal.domain.reviews.repo import FindingRecord
from portal.domain.reviews.schemas import OPEN_VERDICTS, ControlStatus, Decision, Level, RecommendIn, Verdict


class Standing(msgspec.Struct, frozen=True, kw_only=True):
    control_id: str
    status: ControlStatus
    finding: FindingRecord | None  # in force on the current revision (recorded on it, or carried unchanged)
    previous: FindingRecord | None  # the last one recorded on an earlier revision

    @property
    def verdict(self) -> Verdict | None:
        return Verdict(self.finding.verdict) if self.finding is not None else None

    @property
    def is_open(self) -> bool:
        return self.verdict in OPEN_VERDICTS


def standings(
    control_ids: Iterable[str],
    current: int,
    findings: Iterable[FindingRecord],
    answers: Mapping[int, Mapping[str, Any]],
) -> dict[str, Standing]:
    """Each control's standing on revision ``current``.

    A finding recorded on the revision stands. Otherwise the last finding of an earlier revision carries
    forward when the control's frozen answer is byte-for-byte the same in both revisions; when the provider
    changed it, the control is *to re-check* and the old finding is shown beside the new answer.
    ``answers`` maps a revision number to its frozen answers by control id.
    """
    latest: dict[str, FindingRecord] = {}
    earlier: dict[str, FindingRecord] = {}
    for found in sorted(findings, key=lambda f: f.revision):
        if found.revision == current:
            latest[found.control_id] = found
        elif found.revision < current:
            earlier[found.control_id] = found
    out = {}
    for control_id in control_ids:
        previous = earlier.get(control_id)
        if control_id in latest:
            out[control_id] = Standing(
                control_id=control_id, status=ControlStatus.RECORDED, finding=latest[control_id], previous=previous
            )
        elif previous is None:
            out[control_id] = Standing(
                control_id=control_id, status=ControlStatus.UNREVIEWED, finding=None, previous=None
            )
        else:
            then = answers.get(previous.revision, {}).get(control_id)
            now = answers.get(current, {}).get(control_id)
            unchanged = then is not None and then == now
            out[control_id] = Standing(
                control_id=control_id,
                status=ControlStatus.CARRIED if unchanged else ControlStatus.TO_RECHECK,
                finding=previous if unchanged else None,
                previous=previous,
            )
    return out


def recommendation_problems(
    data: RecommendIn, standing: Mapping[str, Standing], today: dt.date
) -> tuple[list[str], list[str]]:
    """What breaks the rules of a recommendation: (one line per problem, the controls they name)."""
    problems: list[str] = []
    named: list[str] = []

    def problem(text: str, control_id: str | None = None) -> None:
        problems.append(f"{control_id}: {text}" if control_id else text)
        if control_id and control_id not in named:
            named.append(control_id)

    not_reviewed = [c for c, s in standing.items() if s.finding is None]
    open_ = [c for c, s in standing.items() if s.is_open]
    if data.decision == Decision.APPROVE:
        for control_id in not_reviewed:
            problem("no finding on this revision", control_id)
        if data.reasons:
            problem("reasons per control belong to a rejection; an approval states conditions")
        level = data.level or Level.FULL
        covered = {c.control_id for c in data.conditions}
        for condition in data.conditions:
            if condition.control_id not in standing:
                problem("a condition names a control that does not apply", condition.control_id)
            elif condition.control_id not in open_:
                problem("a condition names a control that is already satisfied", condition.control_id)
            if condition.due_date <= today:
                problem("a condition's due_date must be in the future", condition.control_id)
        if level == Level.FULL:
            if data.conditions:
                problem('conditions need level "conditional"')
            for control_id in open_:
                problem("not satisfied: approve needs it satisfied, or level conditional with a condition", control_id)
        else:
            if not open_:
                problem('every control is satisfied: recommend level "full" without conditions')
            for control_id in open_:
                if control_id not in covered:
                    problem("not satisfied and no condition covers it", control_id)
    else:
        if data.level is not None or data.conditions:
            problem("a rejection has no level and no conditions")
        failed = [c for c, s in standing.items() if s.verdict == Verdict.NOT_SATISFIED]
        if not failed:
            problem("a rejection needs at least one control found not_satisfied")
        for reason in data.reasons:
            if reason.control_id not in failed:
                problem("a reason names a control that is not found not_satisfied", reason.control_id)
    return problems, named


def rejection_reasons(data: RecommendIn, standing: Mapping[str, Standing]) -> list[dict[str, str]]:
    """Every not_satisfied control with its reason: the one given, else the finding's own comment."""
    given = {r.control_id: r.text for r in data.reasons}
    reasons = []
    for control_id, stands in standing.items():
        if stands.verdict == Verdict.NOT_SATISFIED and stands.finding is not None:
            reasons.append({"control_id": control_id, "text": given.get(control_id, stands.finding.comment)})
    return reasons
