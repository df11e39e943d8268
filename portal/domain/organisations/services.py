"""Organisations: regulators verify or reject the providers that registered themselves."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from portal.db import atomic
from portal.db.tables import Organisation
from portal.domain.audit.services import record
from portal.domain.context import Caller
from portal.domain.organisations.schemas import OrganisationOut
from portal.errors import Conflict, Forbidden, NotFound
from portal.security.permissions import (
    REGULATOR_ROLES,
    OrganisationKind,
    OrganisationStatus,
    Role,
    can_view_organisation,
    require_role,
)


def organisation_out(row: dict[str, Any]) -> OrganisationOut:
    return OrganisationOut(**{name: row[name] for name in OrganisationOut.__struct_fields__})


async def list_organisations(caller: Caller, status: OrganisationStatus | None) -> list[OrganisationOut]:
    require_role(caller.actor, *REGULATOR_ROLES)
    query = Organisation.select().where(Organisation.kind == OrganisationKind.PROVIDER)
    if status is not None:
        query = query.where(Organisation.status == status)
    return [organisation_out(row) for row in await query.order_by(Organisation.created_at)]


async def get_organisation(caller: Caller, organisation_id: uuid.UUID) -> OrganisationOut:
    if not can_view_organisation(caller.actor, organisation_id):
        raise Forbidden("you cannot see this organisation")
    row = await Organisation.select().where(Organisation.id == organisation_id).first()
    if row is None:
        raise NotFound("no such organisation")
    return organisation_out(row)


async def decide(
    caller: Caller, organisation_id: uuid.UUID, status: OrganisationStatus, reason: str
) -> OrganisationOut:
    """Verify or reject a pending provider. Only a regulator admin decides, and a decision is recorded."""
    principal = caller.actor
    require_role(principal, Role.REGULATOR_ADMIN)
    async with atomic():
        row = await Organisation.select().where(Organisation.id == organisation_id).first()
        if row is None or row["kind"] != OrganisationKind.PROVIDER:
            raise NotFound("no such provider organisation")
        if row["status"] != OrganisationStatus.PENDING:
            raise Conflict(f"this organisation is already {row['status']}")
        changes: dict[Any, Any] = {Organisation.status: status, Organisation.status_reason: reason}
        if status == OrganisationStatus.VERIFIED:
            changes |= {
                Organisation.verified_at: dt.datetime.now(dt.UTC),
                Organisation.verified_by: principal.user_id,
            }
        await Organisation.update(changes).where(Organisation.id == organisation_id)
        await record(
            caller,
            f"organisation.{'verified' if status == OrganisationStatus.VERIFIED else 'rejected'}",
            object_type="organisation",
            object_id=organisation_id,
            before={"status": row["status"]},
            after={"status": status, "reason": reason},
        )
    return await get_organisation(caller, organisation_id)


async def regulator_organisation(name: str = "National Regulatory Authority", country: str = "BH") -> uuid.UUID:
    """The regulator's own organisation, created on first use (a fresh installation has none)."""
    async with atomic():
        row = await Organisation.select(Organisation.id).where(Organisation.kind == OrganisationKind.REGULATOR).first()
        if row:
            return uuid.UUID(str(row["id"]))
        organisation = Organisation(
            kind=OrganisationKind.REGULATOR,
            name=name,
            legal_name=name,
            category=None,
            country=country,
            registration_number="-",
            website="https://regulator.invalid",
            contact_email="regulator@regulator.invalid",
            status=OrganisationStatus.VERIFIED,
            created_at=dt.datetime.now(dt.UTC),
        )
        await organisation.save()
        await record(
            Caller(principal=None, client="system"),
            "organisation.created",
            object_type="organisation",
            object_id=organisation.id,
            after={"kind": "regulator", "name": name},
        )
        return organisation.id
