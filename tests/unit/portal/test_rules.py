"""The pure rules: answer problems, revision differences, the audit chain's event digest."""

from __future__ import annotations

import datetime as dt

import pytest

from attestations.canonical import canonical_digest
from portal.domain.assessments.revisions import diff_documents
from portal.domain.assessments.rules import answer_problems
from portal.domain.assessments.schemas import AnswerStatus
from portal.domain.audit.services import GENESIS, event_digest

TODAY = dt.date(2026, 12, 1)
LATER = dt.date(2027, 3, 1)


@pytest.mark.parametrize(
    ("status", "narrative", "justification", "planned", "problems"),
    [
        (AnswerStatus.IMPLEMENTED, "MFA for all admins", "", None, []),
        (AnswerStatus.IMPLEMENTED, "  ", "", None, [("narrative", "describe how the control is (or will be) met")]),
        (AnswerStatus.NOT_APPLICABLE, "", "no radio network", None, []),
        (
            AnswerStatus.NOT_APPLICABLE,
            "anything",
            " ",
            None,
            [("justification", "a justification is required for not_applicable")],
        ),
        (AnswerStatus.PLANNED, "rolling out", "", LATER, []),
        (
            AnswerStatus.PLANNED,
            "rolling out",
            "",
            None,
            [("planned_date", "a planned date is required for planned")],
        ),
        (
            AnswerStatus.PARTIALLY_IMPLEMENTED,
            "half",
            "",
            TODAY,
            [("planned_date", "the planned date must be in the future")],
        ),
        (
            AnswerStatus.IMPLEMENTED,
            "done",
            "",
            LATER,
            [("planned_date", "a planned date is only for planned or partially_implemented")],
        ),
        (
            AnswerStatus.PLANNED,
            "",
            "",
            None,
            [
                ("narrative", "describe how the control is (or will be) met"),
                ("planned_date", "a planned date is required for planned"),
            ],
        ),
    ],
)
def test_answer_problems(status, narrative, justification, planned, problems) -> None:
    assert answer_problems(status, narrative, justification, planned, TODAY) == problems


def _doc(scope: dict, answers: list[dict]) -> dict:
    return {"scope": scope, "answers": answers}


def _answer(control_id: str, status: str = "implemented", narrative: str = "ok", evidence: list | None = None) -> dict:
    return {
        "control_id": control_id,
        "status": status,
        "narrative": narrative,
        "justification": "",
        "planned_date": None,
        "evidence": evidence or [],
    }


def test_diff_names_scope_fields_and_each_changed_control() -> None:
    old = _doc({"summary": "core", "sites": ["A"]}, [_answer("GOV-01"), _answer("IAM-01"), _answer("OLD-01")])
    new = _doc(
        {"summary": "core", "sites": ["A", "B"], "services": ["5G"]},
        [_answer("GOV-01"), _answer("IAM-01", "planned", "later"), _answer("NEW-01")],
    )
    diff = diff_documents(new, old, 2, 1)
    assert (diff.number, diff.against) == (2, 1)
    assert [(f.field, f.old, f.new) for f in diff.scope] == [("services", None, ["5G"]), ("sites", ["A"], ["A", "B"])]
    assert [(c.control_id, c.change) for c in diff.controls] == [
        ("IAM-01", "changed"),
        ("NEW-01", "added"),
        ("OLD-01", "removed"),
    ]
    changed = diff.controls[0]
    assert [(f.field, f.old, f.new) for f in changed.fields] == [
        ("status", "implemented", "planned"),
        ("narrative", "ok", "later"),
    ]


def test_diff_of_identical_documents_is_empty() -> None:
    doc = _doc({"summary": "x"}, [_answer("GOV-01")])
    diff = diff_documents(doc, doc, 1, 1)
    assert diff.scope == [] and diff.controls == []


def _event(**changes) -> dict:
    row = {
        "at": dt.datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=dt.UTC),
        "action": "assessment.submitted",
        "outcome": "success",
        "actor_id": "u1",
        "actor_label": "admin@example.org",
        "actor_org": "o1",
        "client": "127.0.0.1",
        "object_type": "assessment",
        "object_id": "a1",
        "before": {"state": "draft"},
        "after": {"state": "submitted"},
    }
    return row | changes


def test_event_digest_is_the_canonical_hash_of_every_column_and_the_predecessor() -> None:
    row = _event()
    expected = canonical_digest(
        {
            "prev_hash": GENESIS,
            "at": "2026-12-01T12:00:00.123456Z",
            **{k: v for k, v in row.items() if k != "at"},
        }
    )
    assert event_digest(row, GENESIS) == expected
    assert len(expected) == 64


@pytest.mark.parametrize(
    "change",
    [
        {"action": "assessment.withdrawn"},
        {"client": "10.0.0.1"},
        {"after": {"state": "attested"}},
        {"at": dt.datetime(2026, 12, 1, 12, 0, 0, 123457, tzinfo=dt.UTC)},
    ],
)
def test_any_edit_or_another_predecessor_changes_the_digest(change) -> None:
    original = event_digest(_event(), GENESIS)
    assert event_digest(_event(**change), GENESIS) != original
    assert event_digest(_event(), "1" * 64) != original
