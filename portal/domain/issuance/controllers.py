"""Issuance over HTTP: the decision, the attestation (public), its certificate (public), its lifecycle."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.types import ASGIApp, Receive, Scope, Send

from portal.deps import CallerDep, Issuance, StatusLookups
from portal.domain.issuance.lookup import parse_instant
from portal.domain.issuance.rules import SERIAL_FORM
from portal.domain.issuance.schemas import (
    AttestationOut,
    AttestationSummary,
    ConditionMetIn,
    DecideIn,
    ReinstateIn,
    RejectionOut,
    RevokeIn,
    StatusOut,
    SuspendIn,
)
from portal.errors import BadRequest
from portal.security.auth import requires_login
from portal.security.ratelimit import RateLimited

SERIAL = SERIAL_FORM
PUBLIC = RateLimited("attestations")  # the public reads (the registry's status route joins this group)
# A status read by anyone: no cache in between may keep a change hidden longer than a second.
STATUS_CACHE = "public, max-age=1"


class JsonAnswer:
    """A 200 JSON response of bytes encoded beforehand: the status lookup's answer, with no response object to
    build (the app's before-send hook still adds the security headers)."""

    __slots__ = ("body",)
    # A shared cache may keep a status answer but must ask again each time: a change is public within 1 s.
    HEADERS = ((b"content-type", b"application/json"), (b"cache-control", b"public, no-cache"))

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [*self.HEADERS, (b"content-length", str(len(self.body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


def checked(serial: str) -> str:
    if not SERIAL.fullmatch(serial):
        raise BadRequest("a serial looks like PA-2026-000123", field="serial")
    return serial


class DecisionController(Controller):
    path = "/api/v1/assessments"
    tags = ["issuance"]
    guards = [requires_login]

    @post(
        "/{assessment_id:uuid}/decide",
        summary="Issue or reject a recommended assessment (signing officer)",
        problems=[403, 409, 422],
    )
    async def decide(
        self, issuance: Issuance, caller: CallerDep, assessment_id: FromPath[uuid.UUID], data: JSONBody[DecideIn]
    ) -> Response[Any]:
        outcome = await issuance.decide(caller, assessment_id, data)
        return Response(outcome, status_code=201 if isinstance(outcome, AttestationOut) else 200)


class AttestationsController(Controller):
    path = "/api/v1/attestations"
    tags = ["attestations"]

    @get(
        "/", guards=[requires_login], summary="Attestations: a provider's own; every one for regulators", problems=[403]
    )
    async def listing(
        self, issuance: Issuance, caller: CallerDep, organisation_id: FromQuery[uuid.UUID | None] = None
    ) -> list[AttestationSummary]:
        return await issuance.listing(caller, organisation_id)

    @get(
        "/{serial:str}",
        middleware=[PUBLIC],
        summary="One attestation: what it covers, its status and its history (public)",
    )
    async def detail(self, issuance: Issuance, serial: FromPath[str]) -> Response[AttestationOut]:
        found = await issuance.get(checked(serial))
        return Response(found, headers={"Cache-Control": STATUS_CACHE})

    @get(
        "/{serial:str}/status",
        middleware=[PUBLIC],
        summary="Is it valid? The status now (the status list's answer), or at an instant with ?at= (public)",
        # Public and read-only: no session to decode, no CSRF cookie to set on the hottest route.
        opt={"exclude_from_auth": True, "exclude_from_csrf": True},
        responses={
            200: ResponseSpec(data_container=StatusOut, description="The status", media_type="application/json")
        },
    )
    async def status(
        self, status_lookup: StatusLookups, serial: FromPath[str], at: FromQuery[str | None] = None
    ) -> ASGIApp:
        checked(serial)
        if at is None:
            return JsonAnswer(await status_lookup.current(serial))
        return JsonAnswer(msgspec.json.encode(await status_lookup.at(serial, parse_instant(at))))

    @get(
        "/{serial:str}/certificate.pdf",
        middleware=[PUBLIC],
        summary="The certificate PDF, with the signed token attached (public)",
        media_type="application/pdf",
    )
    async def certificate(self, issuance: Issuance, serial: FromPath[str]) -> Response[bytes]:
        name, pdf = await issuance.certificate(checked(serial))
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{name}.pdf"',
                "Cache-Control": "public, max-age=3600",
            },
        )

    @post(
        "/{serial:str}/suspend",
        guards=[requires_login],
        status_code=200,
        summary="Suspend (up to 180 days)",
        problems=[403, 409, 422],
    )
    async def suspend(
        self, issuance: Issuance, caller: CallerDep, serial: FromPath[str], data: JSONBody[SuspendIn]
    ) -> AttestationOut:
        return await issuance.suspend(caller, checked(serial), data)

    @post(
        "/{serial:str}/reinstate",
        guards=[requires_login],
        status_code=200,
        summary="Reinstate a suspension",
        problems=[403, 409, 422],
    )
    async def reinstate(
        self, issuance: Issuance, caller: CallerDep, serial: FromPath[str], data: JSONBody[ReinstateIn]
    ) -> AttestationOut:
        return await issuance.reinstate(caller, checked(serial), data.reason)

    @post(
        "/{serial:str}/revoke",
        guards=[requires_login],
        status_code=200,
        summary="Revoke (final)",
        problems=[403, 409, 422],
    )
    async def revoke(
        self, issuance: Issuance, caller: CallerDep, serial: FromPath[str], data: JSONBody[RevokeIn]
    ) -> AttestationOut:
        return await issuance.revoke(caller, checked(serial), data)

    @post(
        "/{serial:str}/conditions/{number:int}/met",
        guards=[requires_login],
        status_code=200,
        summary="Mark a condition met",
        problems=[403, 409, 422],
    )
    async def condition_met(
        self,
        issuance: Issuance,
        caller: CallerDep,
        serial: FromPath[str],
        number: FromPath[int],
        data: JSONBody[ConditionMetIn],
    ) -> AttestationOut:
        return await issuance.condition_met(caller, checked(serial), number, data.note)


__all__ = ["AttestationsController", "DecisionController", "RejectionOut"]
