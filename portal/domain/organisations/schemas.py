"""Organisation bodies."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

from portal.security.principal import OrganisationKind, OrganisationStatus
from portal.structs import NO_NUL


class OrganisationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: OrganisationKind
    name: str
    name_ar: str
    legal_name: str
    category: str | None
    country: str
    registration_number: str
    website: str
    contact_email: str
    status: OrganisationStatus
    status_reason: str
    verified_at: dt.datetime | None
    created_at: dt.datetime


class Decision(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Annotated[str, msgspec.Meta(max_length=2000, pattern=NO_NUL)] = ""


class ArabicNameChange(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The organisation's name in Arabic, as a regulator corrects it (empty clears it)."""

    name_ar: Annotated[str, msgspec.Meta(max_length=200, pattern=NO_NUL)]


class Rejection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=2000, pattern=NO_NUL)]
