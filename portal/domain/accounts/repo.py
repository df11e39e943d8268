"""Queries for users, sessions and API tokens."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from portal.db.tables import ApiToken, Invitation, Organisation, User, UserSession
from portal.security.permissions import OrganisationKind, OrganisationStatus, Principal, Role

_PRINCIPAL_COLUMNS = (
    User.id,
    User.email,
    User.display_name,
    User.role,
    User.is_active,
    User.organisation.id.as_alias("org_id"),
    User.organisation.kind.as_alias("org_kind"),
    User.organisation.status.as_alias("org_status"),
    User.organisation.name.as_alias("org_name"),
)


def principal_from_row(row: dict[str, Any], *, via: str, role: str | None = None, **extra: Any) -> Principal:
    return Principal(
        user_id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        role=Role(role or row["role"]),
        organisation_id=row["org_id"],
        organisation_kind=OrganisationKind(row["org_kind"]),
        organisation_status=OrganisationStatus(row["org_status"]),
        via=via,
        **extra,
    )


async def user_by_email(email: str) -> dict[str, Any] | None:
    return (
        await User.select(*_PRINCIPAL_COLUMNS, User.password_hash, User.totp_secret, User.totp_last_step)
        .where(User.email == email)
        .first()
    )


async def user_row(user_id: uuid.UUID) -> dict[str, Any] | None:
    return await User.select(*_PRINCIPAL_COLUMNS).where(User.id == user_id).first()


async def principal_for_session(session_id: str, user_id: str, now: dt.datetime) -> Principal | None:
    """The principal behind a live session, in one query: this runs on every authenticated request."""
    organisation: Any = UserSession.user.organisation  # piccolo types a two-hop join as a plain Column
    row = (
        await UserSession.select(
            UserSession.expires_at,
            UserSession.revoked_at,
            UserSession.user.id.as_alias("id"),
            UserSession.user.email.as_alias("email"),
            UserSession.user.display_name.as_alias("display_name"),
            UserSession.user.role.as_alias("role"),
            UserSession.user.is_active.as_alias("is_active"),
            organisation.id.as_alias("org_id"),
            organisation.kind.as_alias("org_kind"),
            organisation.status.as_alias("org_status"),
        )
        .where(UserSession.id == session_id)
        .first()
    )
    if not row or row["revoked_at"] is not None or row["expires_at"] <= now:
        return None
    if str(row["id"]) != user_id or not row["is_active"]:
        return None
    return principal_from_row(row, via="session", session_id=session_id)


async def principal_for_api_token(token_hash: str, now: dt.datetime) -> Principal | None:
    token = (
        await ApiToken.select(
            ApiToken.id,
            ApiToken.role,
            ApiToken.created_by,
            ApiToken.organisation,
            ApiToken.expires_at,
            ApiToken.revoked_at,
            ApiToken.last_used_at,
        )
        .where(ApiToken.token_hash == token_hash)
        .first()
    )
    if not token or token["revoked_at"] is not None:
        return None
    if token["expires_at"] is not None and token["expires_at"] <= now:
        return None
    row = await user_row(token["created_by"])
    # A token lives only while its creator is an active member of the same organisation.
    if not row or not row["is_active"] or row["org_id"] != token["organisation"]:
        return None
    last_used = token["last_used_at"]
    if last_used is None or now - last_used > dt.timedelta(minutes=5):  # bounded writes on the read path
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == token["id"])
    return principal_from_row(row, via="api_token", role=token["role"], api_token_id=token["id"])


async def organisation_row(organisation_id: uuid.UUID) -> dict[str, Any] | None:
    return await Organisation.select().where(Organisation.id == organisation_id).first()


async def members(organisation_id: uuid.UUID) -> list[dict[str, Any]]:
    return await User.select(*_PRINCIPAL_COLUMNS).where(User.organisation == organisation_id).order_by(User.email)


async def api_tokens(organisation_id: uuid.UUID) -> list[dict[str, Any]]:
    return (
        await ApiToken.select(
            ApiToken.id,
            ApiToken.name,
            ApiToken.role,
            ApiToken.prefix,
            ApiToken.created_at,
            ApiToken.expires_at,
            ApiToken.last_used_at,
            ApiToken.revoked_at,
        )
        .where(ApiToken.organisation == organisation_id)
        .order_by(ApiToken.created_at, ascending=False)
    )


async def invitation_by_hash(token_hash: str) -> dict[str, Any] | None:
    return await Invitation.select().where(Invitation.token_hash == token_hash).first()
