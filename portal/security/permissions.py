"""Who may do what: roles, the authenticated principal, and the checks services call. The one place for it."""

from __future__ import annotations

import enum
import uuid

import msgspec

from portal.errors import Forbidden


class Role(enum.StrEnum):
    PROVIDER_EDITOR = "provider_editor"
    PROVIDER_ADMIN = "provider_admin"
    REVIEWER = "reviewer"
    SIGNING_OFFICER = "signing_officer"
    REGULATOR_ADMIN = "regulator_admin"


PROVIDER_ROLES = frozenset({Role.PROVIDER_EDITOR, Role.PROVIDER_ADMIN})
REGULATOR_ROLES = frozenset({Role.REVIEWER, Role.SIGNING_OFFICER, Role.REGULATOR_ADMIN})


class OrganisationKind(enum.StrEnum):
    PROVIDER = "provider"
    REGULATOR = "regulator"


class OrganisationStatus(enum.StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


def requires_totp(role: str) -> bool:
    return role in REGULATOR_ROLES


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is making a request, read from the database on every request so role changes apply at once."""

    user_id: uuid.UUID
    email: str
    display_name: str
    role: Role
    organisation_id: uuid.UUID
    organisation_kind: OrganisationKind
    organisation_status: OrganisationStatus
    via: str  # "session" or "api_token"
    session_id: str | None = None
    api_token_id: uuid.UUID | None = None

    @property
    def is_regulator(self) -> bool:
        return self.role in REGULATOR_ROLES

    @property
    def is_provider(self) -> bool:
        return self.role in PROVIDER_ROLES

    @property
    def label(self) -> str:
        return self.email if self.via == "session" else f"{self.email} (API token {self.api_token_id})"


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        raise Forbidden(f"this action needs one of the roles: {', '.join(sorted(roles))}")


def require_member(principal: Principal, organisation_id: uuid.UUID, *roles: Role) -> None:
    """The principal acts inside ``organisation_id`` with one of ``roles``."""
    if principal.organisation_id != organisation_id:
        raise Forbidden("you are not a member of this organisation")
    if roles:
        require_role(principal, *roles)


def can_view_organisation(principal: Principal, organisation_id: uuid.UUID) -> bool:
    return principal.is_regulator or principal.organisation_id == organisation_id


def assignable_roles(principal: Principal) -> frozenset[Role]:
    """Roles a principal may give to a new member or an API token of its own organisation."""
    if principal.role == Role.PROVIDER_ADMIN:
        return PROVIDER_ROLES
    if principal.role == Role.REGULATOR_ADMIN:
        return REGULATOR_ROLES
    return frozenset()
