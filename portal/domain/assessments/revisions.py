"""Revision documents: what a submit freezes, and what changed between two of them. Pure functions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import controls
from portal.domain.assessments.repo import AnswerRecord, AssessmentRecord
from portal.domain.assessments.schemas import ControlDiff, FieldDiff, RevisionDiff
from portal.domain.evidence.repo import EvidenceRecord
from portal.domain.organisations.repo import OrganisationRecord

ANSWER_FIELDS = ("status", "narrative", "justification", "planned_date", "evidence")


def revision_document(
    *,
    row: AssessmentRecord,
    organisation: OrganisationRecord,
    catalog: controls.Catalog,
    applicable: list[controls.Control],
    answers: dict[str, AnswerRecord],
    evidence: dict[str, EvidenceRecord],
    number: int,
    submitted_by: uuid.UUID,
    at: dt.datetime,
) -> dict[str, Any]:
    """The frozen revision: what the provider attests to, and all a reviewer and a signer will refer to.

    Only strings, integers, lists and objects, so its RFC 8785 form (and so its SHA-256) is well defined.
    """
    return {
        "assessment": str(row.id),
        "revision": number,
        "organisation": {
            k: str(getattr(organisation, k))
            for k in ("id", "name", "legal_name", "category", "country", "registration_number")
        },
        "catalog": {"id": catalog.id, "version": catalog.version, "sha256": row.catalog_digest},
        "scope": row.scope,
        "answers": [_answer(answers[c.id], evidence) | {"control_id": c.id} for c in applicable],
        "submitted_at": at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "submitted_by": str(submitted_by),
    }


def _answer(answer: AnswerRecord, evidence: dict[str, EvidenceRecord]) -> dict[str, Any]:
    files = [
        {key: getattr(evidence[e], key) for key in ("sha256", "filename", "media_type", "size")}
        for e in answer.evidence_ids
    ]
    return {
        "status": answer.status,
        "narrative": answer.narrative,
        "justification": answer.justification,
        "planned_date": answer.planned_date.isoformat() if answer.planned_date else None,
        "evidence": sorted(files, key=lambda item: (item["sha256"], item["filename"])),
    }


def diff_documents(new: dict[str, Any], old: dict[str, Any], number: int, against: int) -> RevisionDiff:
    scope = [
        FieldDiff(field=k, old=old["scope"].get(k), new=new["scope"].get(k))
        for k in sorted(set(old["scope"]) | set(new["scope"]))
        if old["scope"].get(k) != new["scope"].get(k)
    ]
    before = {a["control_id"]: a for a in old["answers"]}
    after = {a["control_id"]: a for a in new["answers"]}
    changes = []
    for control_id in sorted(set(before) | set(after)):
        if control_id not in before:
            changes.append(ControlDiff(control_id=control_id, change="added"))
        elif control_id not in after:
            changes.append(ControlDiff(control_id=control_id, change="removed"))
        else:
            fields = [
                FieldDiff(field=k, old=before[control_id][k], new=after[control_id][k])
                for k in ANSWER_FIELDS
                if before[control_id][k] != after[control_id][k]
            ]
            if fields:
                changes.append(ControlDiff(control_id=control_id, change="changed", fields=fields))
    return RevisionDiff(number=number, against=against, scope=scope, controls=changes)
