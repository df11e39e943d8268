"""Request and response bodies for accounts, sessions, members and API tokens."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated

import msgspec

from controls.models import ProviderCategory
from portal.security.principal import OrganisationKind, OrganisationStatus, Role
from portal.structs import NO_NUL, Strict

Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s\x00]{1,64}@[^@\s\x00]+\.[A-Za-z]{2,}$", max_length=320)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256, pattern=NO_NUL)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
Country = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]
Url = Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s\x00]+$", max_length=300)]
TotpCode = Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")]


ArabicName = Annotated[str, msgspec.Meta(max_length=200, pattern=NO_NUL)]


class NewOrganisation(Strict):
    name: Name
    legal_name: Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=NO_NUL)]
    category: ProviderCategory
    country: Country
    registration_number: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NO_NUL)]
    website: Url
    contact_email: Email
    name_ar: ArabicName = ""  # optional: the organisation's name in Arabic


class NewAccount(Strict):
    email: Email
    password: Password
    display_name: Name


class Registration(Strict):
    organisation: NewOrganisation
    user: NewAccount


class RegistrationAccepted(msgspec.Struct, kw_only=True):
    """The answer to every registration: a link is on its way to ``email`` (or, if the address already has an
    account, a notice is), so the answer never tells who has an account."""

    status: str = "confirmation-sent"
    email: str
    expires_at: dt.datetime


class Confirmation(Strict):
    code: Annotated[str, msgspec.Meta(min_length=16, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


class Login(Strict):
    email: Annotated[str, msgspec.Meta(min_length=1, max_length=320, pattern=NO_NUL)]
    password: Password
    totp: TotpCode | None = None


class MemberState(enum.StrEnum):
    ACTIVE = "active"
    INVITED = "invited"  # has not accepted the invitation yet
    DEACTIVATED = "deactivated"  # switched off by an admin; can be reactivated


class UserOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    email: str
    display_name: str
    role: Role
    organisation_id: uuid.UUID
    organisation_name: str
    organisation_kind: OrganisationKind
    organisation_status: OrganisationStatus
    is_active: bool = True
    state: MemberState = MemberState.ACTIVE
    totp_enrolled: bool = False  # regulators: whether a second factor is set up (else it is at the next login)


class LoginOut(msgspec.Struct, kw_only=True):
    token: str
    expires_at: dt.datetime
    user: UserOut


class NewMember(Strict):
    email: Email
    display_name: Name
    role: Role


class InvitationState(enum.StrEnum):
    PENDING = "pending"  # mailed, waiting for the invitee
    EXPIRED = "expired"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"  # withdrawn by an admin, or replaced by a newer invitation to the same address


class InvitationOut(msgspec.Struct, kw_only=True):
    """An invitation: what the admin's list shows, and what the invitee sees before choosing a password.
    The link itself goes only to the invited address."""

    id: uuid.UUID
    email: str
    display_name: str
    role: Role
    organisation_id: uuid.UUID
    organisation_name: str
    created_at: dt.datetime
    expires_at: dt.datetime
    state: InvitationState


class AcceptInvitation(Strict):
    password: Password


InvitationSecret = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


class InvitationAcceptance(Strict):
    invitation: InvitationSecret  # the part of the invitation link after '#'
    password: Password


class InvitationAccepted(msgspec.Struct, kw_only=True):
    user: UserOut
    # Regulators: no seed here. The first password login offers a new one, confirmed by a code before a session.
    totp_enrolment_required: bool = False


class RoleChange(Strict):
    role: Role


class TotpEnrolmentConfirm(Strict):
    enrolment: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    totp: TotpCode


class NewApiToken(Strict):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NO_NUL)]
    role: Role = Role.PROVIDER_EDITOR
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=366)] = 90


class ApiTokenOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    role: Role
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiTokenCreated(ApiTokenOut, kw_only=True):
    token: str  # shown once; only its hash is stored
