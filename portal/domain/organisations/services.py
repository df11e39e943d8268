"""Organisations: regulators verify or reject the providers that registered themselves."""

from __future__ import annotations

import uuid

import msgspec

from portal.clock import now
from portal.db import atomic
from portal.domain.audit.services import record
from portal.domain.context import SYSTEM, Caller
from portal.domain.organisations import repo
from portal.domain.organisations.repo import OrganisationRecord
from portal.domain.organisations.schemas import OrganisationOut
from portal.domain.registry import repo as registry_repo
from portal.errors import Conflict, Message, NotFound
from portal.security import policy
from portal.security.principal import OrganisationKind, OrganisationStatus


def organisation_out(row: OrganisationRecord) -> OrganisationOut:
    return msgspec.convert(row, OrganisationOut, from_attributes=True)


class OrganisationService:
    async def list_organisations(self, caller: Caller, status: OrganisationStatus | None) -> list[OrganisationOut]:
        await policy.require(caller, policy.may_list_organisations(caller.principal), object_type="organisation")
        return [organisation_out(row) for row in await repo.providers(status)]

    async def get_organisation(self, caller: Caller, organisation_id: uuid.UUID) -> OrganisationOut:
        await policy.require(
            caller,
            policy.may_view_organisation(caller.principal, organisation_id),
            object_type="organisation",
            object_id=organisation_id,
        )
        row = await repo.get(organisation_id)
        if row is None:
            raise NotFound("no such organisation")
        return organisation_out(row)

    async def decide(
        self, caller: Caller, organisation_id: uuid.UUID, status: OrganisationStatus, reason: str
    ) -> OrganisationOut:
        """Verify or reject a pending provider. Only a regulator admin decides, and a decision is recorded."""
        await policy.require(
            caller,
            policy.may_decide_organisation(caller.principal),
            object_type="organisation",
            object_id=organisation_id,
        )
        async with atomic():
            row = await repo.get(organisation_id)
            if row is None or row.kind != OrganisationKind.PROVIDER:
                raise NotFound("no such provider organisation")
            if row.status != OrganisationStatus.PENDING or not await repo.decide(
                organisation_id, status, reason, by=caller.actor.user_id, at=now()
            ):
                raise Conflict(Message("this organisation is already %(status)s", status=row.status))
            await record(
                caller,
                f"organisation.{'verified' if status == OrganisationStatus.VERIFIED else 'rejected'}",
                object_type="organisation",
                object_id=organisation_id,
                before={"status": row.status},
                after={"status": status, "reason": reason},
            )
        return await self.get_organisation(caller, organisation_id)

    async def set_arabic_name(self, caller: Caller, organisation_id: uuid.UUID, name_ar: str) -> OrganisationOut:
        """A regulator admin gives or corrects a provider's Arabic name (certificates and the registry show it)."""
        await policy.require(
            caller,
            policy.may_rename_organisation(caller.principal),
            object_type="organisation",
            object_id=organisation_id,
        )
        name_ar = " ".join(name_ar.split())
        async with atomic():
            row = await repo.get(organisation_id)
            if row is None or row.kind != OrganisationKind.PROVIDER:
                raise NotFound("no such provider organisation")
            if row.name_ar != name_ar:
                await repo.set_arabic_name(organisation_id, name_ar)
                await registry_repo.rename(organisation_id, now())
                await record(
                    caller,
                    "organisation.renamed",
                    object_type="organisation",
                    object_id=organisation_id,
                    before={"name_ar": row.name_ar},
                    after={"name_ar": name_ar},
                )
        return await self.get_organisation(caller, organisation_id)

    async def regulator_organisation(
        self, name: str = "National Regulatory Authority", country: str = "BH"
    ) -> uuid.UUID:
        """The regulator's own organisation, created on first use (a fresh installation has none)."""
        async with atomic():
            existing = await repo.regulator_id()
            if existing:
                return existing
            organisation_id = await repo.insert(
                kind=OrganisationKind.REGULATOR,
                name=name,
                legal_name=name,
                category=None,
                country=country,
                registration_number="-",
                website="https://regulator.invalid",
                contact_email="regulator@regulator.invalid",
                status=OrganisationStatus.VERIFIED,
                created_at=now(),
            )
            await record(
                SYSTEM,
                "organisation.created",
                object_type="organisation",
                object_id=organisation_id,
                after={"kind": "regulator", "name": name},
            )
            return organisation_id
