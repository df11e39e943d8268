"""Queries for organisations."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

from portal.db.tables import Organisation
from portal.domain.states import StateMachine
from portal.security.principal import OrganisationKind, OrganisationStatus

# A provider's registration is decided once: verified or rejected, never back to pending.
VERIFICATION = StateMachine[OrganisationStatus](
    "organisation",
    {
        OrganisationStatus.PENDING: {OrganisationStatus.VERIFIED, OrganisationStatus.REJECTED},
        OrganisationStatus.VERIFIED: set(),
        OrganisationStatus.REJECTED: set(),
    },
)


class OrganisationRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    kind: OrganisationKind
    name: str
    name_ar: str = ""
    legal_name: str
    category: str | None
    country: str
    registration_number: str
    website: str
    contact_email: str
    status: OrganisationStatus
    status_reason: str
    verified_at: dt.datetime | None
    verified_by: uuid.UUID | None
    created_at: dt.datetime


def _record(row: dict[str, Any] | None) -> OrganisationRecord | None:
    return None if row is None else msgspec.convert(row, OrganisationRecord)


async def get(organisation_id: uuid.UUID) -> OrganisationRecord | None:
    return _record(await Organisation.select().where(Organisation.id == organisation_id).first())


async def providers(status: OrganisationStatus | None) -> list[OrganisationRecord]:
    query = Organisation.select().where(Organisation.kind == OrganisationKind.PROVIDER)
    if status is not None:
        query = query.where(Organisation.status == status)
    return [msgspec.convert(row, OrganisationRecord) for row in await query.order_by(Organisation.created_at)]


async def regulator_id() -> uuid.UUID | None:
    row = await Organisation.select(Organisation.id).where(Organisation.kind == OrganisationKind.REGULATOR).first()
    return uuid.UUID(str(row["id"])) if row else None


async def registered(country: str, registration_number: str) -> bool:
    return await Organisation.exists().where(
        (Organisation.country == country) & (Organisation.registration_number == registration_number)
    )


async def any_exists() -> bool:
    return bool(await Organisation.count() > 0)


async def insert(**values: Any) -> uuid.UUID:
    organisation = Organisation(**values)
    await organisation.save()
    return uuid.UUID(str(organisation.id))


async def set_arabic_name(organisation_id: uuid.UUID, name_ar: str) -> None:
    await Organisation.update({Organisation.name_ar: name_ar}).where(Organisation.id == organisation_id)


async def decide(
    organisation_id: uuid.UUID, status: OrganisationStatus, reason: str, *, by: uuid.UUID, at: dt.datetime
) -> bool:
    """Move a pending provider to ``status``; False when it is no longer pending (someone decided first)."""
    VERIFICATION.check([OrganisationStatus.PENDING], status)
    changes: dict[Any, Any] = {Organisation.status: status, Organisation.status_reason: reason}
    if status == OrganisationStatus.VERIFIED:
        changes |= {Organisation.verified_at: at, Organisation.verified_by: by}
    moved = (
        await Organisation.update(changes)
        .where((Organisation.id == organisation_id) & (Organisation.status == OrganisationStatus.PENDING))
        .returning(Organisation.id)
    )
    return bool(moved)
