"""Assessments API: open, read, answer, submit, withdraw, revisions and their differences."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody

from portal.deps import Assessments, CallerDep, EvidenceFiles
from portal.domain.assessments.schemas import (
    AnswerIn,
    AnswerOut,
    AssessmentOut,
    AssessmentSummary,
    EvidenceOut,
    NewAssessment,
    RevisionDiff,
    RevisionOut,
    StateOut,
    SubmitOut,
)
from portal.domain.evidence.multipart import StreamedFile
from portal.errors import InvalidInput
from portal.security.auth import requires_login

VERSION_TAG = re.compile(r"[0-9]{1,9}")  # ASCII digits only: str.isdigit() also accepts '²'


def parse_if_match(value: str | None) -> int | None:
    if not value:
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    if not VERSION_TAG.fullmatch(tag):
        raise InvalidInput('If-Match must be the answer\'s ETag, e.g. "3"', field="If-Match")
    return int(tag)


@dataclass
class UploadOperation(Operation):
    """The upload streams its body past Litestar's parser, so its request body is documented here."""

    def __post_init__(self) -> None:
        file = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
        form = Schema(type=OpenAPIType.OBJECT, properties={"file": file}, required=["file"])
        self.request_body = RequestBody(
            content={RequestEncodingType.MULTI_PART: OpenAPIMediaType(schema=form)}, required=True
        )


class AssessmentsController(Controller):
    path = "/api/v1/assessments"
    tags = ["assessments"]
    guards = [requires_login]

    @post("/", status_code=201, problems=[404, 409, 422], summary="Open an assessment on a published catalog version")
    async def open(self, assessments: Assessments, caller: CallerDep, data: JSONBody[NewAssessment]) -> AssessmentOut:
        return await assessments.open_assessment(caller, data)

    @get("/", summary="Assessments: a provider's own; for regulators, those submitted")
    async def list_all(self, assessments: Assessments, caller: CallerDep) -> list[AssessmentSummary]:
        return await assessments.list_assessments(caller)

    @get("/{assessment_id:uuid}", summary="One assessment with every applicable control and its answer")
    async def detail(
        self, assessments: Assessments, caller: CallerDep, assessment_id: FromPath[uuid.UUID]
    ) -> AssessmentOut:
        return await assessments.get_assessment(caller, assessment_id)

    @put(
        "/{assessment_id:uuid}/answers/{control_id:str}",
        problems=[409, 422, 428],
        summary="Answer a control (If-Match to replace)",
    )
    async def answer(
        self,
        assessments: Assessments,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        control_id: FromPath[str],
        data: JSONBody[AnswerIn],
        if_match: Annotated[str | None, HeaderParameter(name="if-match")] = None,
    ) -> Response[AnswerOut]:
        saved = await assessments.answer_control(caller, assessment_id, control_id, data, parse_if_match(if_match))
        return Response(saved, headers={"ETag": f'"{saved.version}"'})

    @post(
        "/{assessment_id:uuid}/submit",
        status_code=200,
        problems=[409, 422],
        summary="Check completeness and freeze a revision",
    )
    async def submit(
        self, assessments: Assessments, caller: CallerDep, assessment_id: FromPath[uuid.UUID]
    ) -> SubmitOut:
        return await assessments.submit(caller, assessment_id)

    @post("/{assessment_id:uuid}/withdraw", status_code=200, problems=[409], summary="Withdraw before a decision")
    async def withdraw(
        self, assessments: Assessments, caller: CallerDep, assessment_id: FromPath[uuid.UUID]
    ) -> StateOut:
        return await assessments.withdraw(caller, assessment_id)

    @get("/{assessment_id:uuid}/revisions/{number:int}", summary="A frozen revision and its SHA-256")
    async def revision(
        self, assessments: Assessments, caller: CallerDep, assessment_id: FromPath[uuid.UUID], number: FromPath[int]
    ) -> RevisionOut:
        return await assessments.get_revision(caller, assessment_id, number)

    @get("/{assessment_id:uuid}/revisions/{number:int}/diff", summary="What changed between two revisions")
    async def diff(
        self,
        assessments: Assessments,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        number: FromPath[int],
        against: FromQuery[int],
    ) -> RevisionDiff:
        return await assessments.diff_revisions(caller, assessment_id, number, against)

    @get("/{assessment_id:uuid}/evidence", summary="Evidence uploaded to an assessment")
    async def evidence_list(
        self, evidence: EvidenceFiles, caller: CallerDep, assessment_id: FromPath[uuid.UUID]
    ) -> list[EvidenceOut]:
        return await evidence.list_evidence(caller, assessment_id)

    @post(
        "/{assessment_id:uuid}/evidence",
        status_code=201,
        request_max_body_size=None,
        operation_class=UploadOperation,
        responses={200: ResponseSpec(EvidenceOut, description="The assessment already has these bytes: that record")},
        problems=[409, 413, 422],
        summary="Upload evidence (multipart field 'file'; PDF, PNG, JPEG, text, CSV or JSON)",
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        evidence: EvidenceFiles,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
    ) -> Response[EvidenceOut]:
        # Permission first; the size limit is enforced while streaming (the app-wide 1 MB limit is lifted here).
        assessment = await evidence.authorise_upload(caller, assessment_id)
        incoming = StreamedFile(
            request.headers.get("content-type", ""), request.stream(), limit=evidence.max_body_bytes
        )
        filename = await incoming.open()
        stored, created = await evidence.store_upload(caller, assessment, filename, incoming)
        return Response(stored, status_code=201 if created else 200)
