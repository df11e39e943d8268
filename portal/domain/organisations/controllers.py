"""Organisations API: the regulator's verification queue and decisions."""

from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from portal.deps import CallerDep, Organisations
from portal.domain.organisations.schemas import ArabicNameChange, Decision, OrganisationOut, Rejection
from portal.security.auth import requires_login
from portal.security.principal import OrganisationStatus


class OrganisationsController(Controller):
    path = "/api/v1/organisations"
    tags = ["organisations"]
    guards = [requires_login]

    @get("/", problems=[403], summary="Provider organisations (regulators), optionally by status")
    async def list(
        self, organisations: Organisations, caller: CallerDep, status: FromQuery[OrganisationStatus | None] = None
    ) -> list[OrganisationOut]:
        return await organisations.list_organisations(caller, status)

    @get("/{organisation_id:uuid}", problems=[403], summary="One organisation (its members and regulators)")
    async def detail(
        self, organisations: Organisations, caller: CallerDep, organisation_id: FromPath[uuid.UUID]
    ) -> OrganisationOut:
        return await organisations.get_organisation(caller, organisation_id)

    @patch("/{organisation_id:uuid}", problems=[403, 404], summary="Set a provider's Arabic name (regulator admins)")
    async def rename(
        self,
        organisations: Organisations,
        caller: CallerDep,
        organisation_id: FromPath[uuid.UUID],
        data: JSONBody[ArabicNameChange],
    ) -> OrganisationOut:
        return await organisations.set_arabic_name(caller, organisation_id, data.name_ar)

    @post("/{organisation_id:uuid}/verify", status_code=200, problems=[409], summary="Verify a pending provider")
    async def verify(
        self,
        organisations: Organisations,
        caller: CallerDep,
        organisation_id: FromPath[uuid.UUID],
        data: JSONBody[Decision | None] = None,
    ) -> OrganisationOut:
        return await organisations.decide(
            caller, organisation_id, OrganisationStatus.VERIFIED, data.reason if data else ""
        )

    @post(
        "/{organisation_id:uuid}/reject",
        status_code=200,
        problems=[409],
        summary="Reject a pending provider, with a reason",
    )
    async def reject(
        self,
        organisations: Organisations,
        caller: CallerDep,
        organisation_id: FromPath[uuid.UUID],
        data: JSONBody[Rejection],
    ) -> OrganisationOut:
        return await organisations.decide(caller, organisation_id, OrganisationStatus.REJECTED, data.reason)
