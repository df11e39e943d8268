"""Who is acting: roles, organisation kinds and statuses, the authenticated principal, and the system operator.

What each of them may do is decided in :mod:`portal.security.policy`, nowhere else.
"""

from __future__ import annotations

import enum
import uuid

import msgspec


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


class Principal(msgspec.Struct, frozen=True, kw_only=True, tag="principal"):
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
    def label(self) -> str:
        return self.email if self.via == "session" else f"{self.email} (API token {self.api_token_id})"


class SystemOperator(msgspec.Struct, frozen=True, tag="system"):
    """The operator's own commands (the CLI, start-up, the demo seed): trusted, and never an anonymous visitor."""

    name: str = "system"

    @property
    def label(self) -> str:
        return self.name


Actor = Principal | SystemOperator | None
"""Anyone a decision is about: a logged-in principal, the system operator, or ``None`` for an anonymous visitor."""
