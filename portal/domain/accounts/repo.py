"""Queries for users, sessions, invitations and API tokens."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from piccolo.engine.postgres import PostgresEngine

from portal.db import atomic
from portal.db.tables import (
    ApiToken,
    LoginStep,
    MemberInvitation,
    Organisation,
    PendingRegistration,
    ThrottleCounter,
    TotpEnrolment,
    User,
    UserSession,
)
from portal.security import policy
from portal.security.principal import OrganisationKind, OrganisationStatus, Principal, Role


class UserRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    email: str
    display_name: str
    role: Role
    is_active: bool
    organisation_id: uuid.UUID
    organisation_kind: OrganisationKind
    organisation_status: OrganisationStatus
    organisation_name: str = ""
    # Read by user(), members() and login_record(); the session lookup on every request leaves them out.
    deactivated_at: dt.datetime | None = None
    joined: bool = True  # has set a password (accepted the invitation)
    totp_enrolled: bool = False


class LoginRecord(UserRecord, frozen=True, kw_only=True):
    """A user with what a login checks."""

    password_hash: str | None
    totp_secret: str | None
    totp_last_step: int


class InvitationRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    organisation_id: uuid.UUID
    organisation_name: str
    email: str
    display_name: str
    role: Role
    created_at: dt.datetime
    expires_at: dt.datetime
    accepted_at: dt.datetime | None
    cancelled_at: dt.datetime | None


class CounterRecord(msgspec.Struct, frozen=True, kw_only=True):
    failures: int
    blocked_until: float
    forget_at: float


R = TypeVar("R", bound=UserRecord)


class EnrolmentRecord(msgspec.Struct, frozen=True, kw_only=True):
    user: uuid.UUID
    secret: str  # sealed


class ApiTokenRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    name: str
    role: Role
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


_USER_COLUMNS = (
    User.id,
    User.email,
    User.display_name,
    User.role,
    User.is_active,
    User.organisation.id.as_alias("organisation_id"),
    User.organisation.kind.as_alias("organisation_kind"),
    User.organisation.status.as_alias("organisation_status"),
    User.organisation.name.as_alias("organisation_name"),
    User.deactivated_at,
    User.password_hash,
    User.totp_secret,
)
_TOKEN_COLUMNS = (
    ApiToken.id,
    ApiToken.name,
    ApiToken.role,
    ApiToken.prefix,
    ApiToken.created_at,
    ApiToken.expires_at,
    ApiToken.last_used_at,
    ApiToken.revoked_at,
)


def principal_of(user: UserRecord, *, via: str, role: Role | None = None, **extra: Any) -> Principal:
    return Principal(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=role or user.role,
        organisation_id=user.organisation_id,
        organisation_kind=user.organisation_kind,
        organisation_status=user.organisation_status,
        via=via,
        **extra,
    )


# --- users ---------------------------------------------------------------------------------------------------


def _user_record(row: dict[str, Any], kind: type[R]) -> R:
    # The password hash and the sealed seed become two flags; only a LoginRecord keeps them.
    flags = {"joined": row["password_hash"] is not None, "totp_enrolled": row["totp_secret"] is not None}
    return msgspec.convert({**row, **flags}, kind)


async def login_record(email: str) -> LoginRecord | None:
    row = await User.select(*_USER_COLUMNS, User.totp_last_step).where(User.email == email).first()
    return None if row is None else _user_record(row, LoginRecord)


async def login_record_by_id(user_id: uuid.UUID) -> LoginRecord | None:
    row = await User.select(*_USER_COLUMNS, User.totp_last_step).where(User.id == user_id).first()
    return None if row is None else _user_record(row, LoginRecord)


async def user(user_id: uuid.UUID) -> UserRecord | None:
    row = await User.select(*_USER_COLUMNS).where(User.id == user_id).first()
    return None if row is None else _user_record(row, UserRecord)


async def user_by_email(email: str) -> UserRecord | None:
    row = await User.select(*_USER_COLUMNS).where(User.email == email).first()
    return None if row is None else _user_record(row, UserRecord)


async def members(organisation_id: uuid.UUID) -> list[UserRecord]:
    rows = await User.select(*_USER_COLUMNS).where(User.organisation == organisation_id).order_by(User.email)
    return [_user_record(row, UserRecord) for row in rows]


async def all_users(organisation_id: uuid.UUID | None = None) -> list[UserRecord]:
    query = User.select(*_USER_COLUMNS).order_by(User.organisation.name).order_by(User.email)
    if organisation_id is not None:
        query = query.where(User.organisation == organisation_id)
    return [_user_record(row, UserRecord) for row in await query]


async def email_taken(email: str) -> bool:
    return await User.exists().where(User.email == email)


async def insert_user(**values: Any) -> uuid.UUID:
    row = User(**values)
    await row.save()
    return uuid.UUID(str(row.id))


async def set_password_hash(user_id: uuid.UUID, password_hash: str) -> None:
    await User.update({User.password_hash: password_hash}).where(User.id == user_id)


async def lock_members(organisation_id: uuid.UUID) -> None:
    """Inside a write transaction: hold the organisation's row, so two admins cannot both remove the last admin.
    SQLite's IMMEDIATE write lock already serialises writers."""
    if isinstance(User._meta.db, PostgresEngine):
        await Organisation.select(Organisation.id).where(Organisation.id == organisation_id).lock_rows("UPDATE")


async def active_members_with(organisation_id: uuid.UUID, roles: frozenset[Role]) -> int:
    count: int = await User.count().where(
        (User.organisation == organisation_id) & User.is_active.eq(True) & User.role.is_in(sorted(roles))
    )
    return count


async def set_role(user_id: uuid.UUID, role: Role) -> None:
    await User.update({User.role: role}).where(User.id == user_id)


async def deactivate(user_id: uuid.UUID, at: dt.datetime) -> None:
    await User.update({User.is_active: False, User.deactivated_at: at}).where(User.id == user_id)


async def reactivate(user_id: uuid.UUID) -> None:
    await User.update({User.is_active: True, User.deactivated_at: None}).where(User.id == user_id)


async def end_access(user_id: uuid.UUID, at: dt.datetime) -> tuple[int, int]:
    """Revoke every live session and every API token of a user; returns how many of each."""
    sessions = (
        await UserSession.update({UserSession.revoked_at: at})
        .where((UserSession.user == user_id) & UserSession.revoked_at.is_null() & (UserSession.expires_at > at))
        .returning(UserSession.id)
    )
    tokens = (
        await ApiToken.update({ApiToken.revoked_at: at})
        .where((ApiToken.created_by == user_id) & ApiToken.revoked_at.is_null())
        .returning(ApiToken.id)
    )
    return len(sessions), len(tokens)


async def clear_totp(user_id: uuid.UUID) -> None:
    await User.update({User.totp_secret: None, User.totp_last_step: 0}).where(User.id == user_id)
    await TotpEnrolment.delete().where(TotpEnrolment.user == user_id)


async def last_totp_step(user_id: uuid.UUID) -> int:
    row = await User.select(User.totp_last_step).where(User.id == user_id).first()
    return int(row["totp_last_step"]) if row else 0


async def use_totp_step(user_id: uuid.UUID, step: int) -> bool:
    """Record ``step`` as used; False when it (or a later one) already was, so a code is accepted once."""
    used = (
        await User.update({User.totp_last_step: step})
        .where((User.id == user_id) & (User.totp_last_step < step))
        .returning(User.id)
    )
    return bool(used)


# --- sessions ------------------------------------------------------------------------------------------------


async def insert_session(
    session_id: str, user_id: uuid.UUID, *, at: dt.datetime, expires_at: dt.datetime, client: str
) -> None:
    await UserSession.insert(
        UserSession(id=session_id, user=user_id, created_at=at, expires_at=expires_at, client=client[:64])
    ).run()


async def revoke_session(session_id: str, at: dt.datetime) -> None:
    await UserSession.update({UserSession.revoked_at: at}).where(UserSession.id == session_id)


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
            organisation.id.as_alias("organisation_id"),
            organisation.kind.as_alias("organisation_kind"),
            organisation.status.as_alias("organisation_status"),
        )
        .where(UserSession.id == session_id)
        .first()
    )
    if not row or row["revoked_at"] is not None or row["expires_at"] <= now:
        return None
    if str(row["id"]) != user_id or not row["is_active"]:
        return None
    del row["expires_at"], row["revoked_at"]
    return principal_of(msgspec.convert(row, UserRecord), via="session", session_id=session_id)


# --- second-factor steps ------------------------------------------------------------------------------------


async def insert_login_step(step_hash: str, user_id: uuid.UUID, *, at: dt.datetime, expires_at: dt.datetime) -> None:
    await LoginStep.delete().where(LoginStep.expires_at <= at)  # keeps the table to the steps still open
    await LoginStep.insert(LoginStep(id=step_hash, user=user_id, expires_at=expires_at)).run()


async def attempt_login_step(step_hash: str, at: dt.datetime, *, max_attempts: int) -> uuid.UUID | None:
    """Count one attempt on an open step (a single conditional update, so a burst cannot exceed the
    attempts); the step's user, or None when it is unknown, used, expired or out of attempts."""
    rows = (
        await LoginStep.update({LoginStep.attempts: LoginStep.attempts + 1})
        .where(
            (LoginStep.id == step_hash)
            & LoginStep.used_at.is_null()
            & (LoginStep.expires_at > at)
            & (LoginStep.attempts < max_attempts)
        )
        .returning(LoginStep.user)
    )
    return uuid.UUID(str(rows[0]["user"])) if rows else None


async def use_login_step(step_hash: str, at: dt.datetime) -> bool:
    used = (
        await LoginStep.update({LoginStep.used_at: at})
        .where((LoginStep.id == step_hash) & LoginStep.used_at.is_null())
        .returning(LoginStep.id)
    )
    return bool(used)


# --- second-factor enrolment --------------------------------------------------------------------------------


async def insert_enrolment(
    enrolment_hash: str, user_id: uuid.UUID, sealed_secret: str, *, at: dt.datetime, expires_at: dt.datetime
) -> None:
    """One open enrolment per user: a new password login replaces the one before (and expired ones go)."""
    await TotpEnrolment.delete().where((TotpEnrolment.user == user_id) | (TotpEnrolment.expires_at <= at))
    await TotpEnrolment.insert(
        TotpEnrolment(id=enrolment_hash, user=user_id, secret=sealed_secret, expires_at=expires_at)
    ).run()


async def attempt_enrolment(enrolment_hash: str, at: dt.datetime, *, max_attempts: int) -> EnrolmentRecord | None:
    """Count one attempt on an open enrolment in a single conditional update, so a burst cannot exceed them."""
    rows = (
        await TotpEnrolment.update({TotpEnrolment.attempts: TotpEnrolment.attempts + 1})
        .where(
            (TotpEnrolment.id == enrolment_hash)
            & TotpEnrolment.used_at.is_null()
            & (TotpEnrolment.expires_at > at)
            & (TotpEnrolment.attempts < max_attempts)
        )
        .returning(TotpEnrolment.user, TotpEnrolment.secret)
    )
    return msgspec.convert(rows[0], EnrolmentRecord) if rows else None


async def use_enrolment(enrolment_hash: str, at: dt.datetime) -> bool:
    used = (
        await TotpEnrolment.update({TotpEnrolment.used_at: at})
        .where((TotpEnrolment.id == enrolment_hash) & TotpEnrolment.used_at.is_null())
        .returning(TotpEnrolment.id)
    )
    return bool(used)


async def enrol_totp(user_id: uuid.UUID, sealed_secret: str, step: int) -> bool:
    """Store a confirmed seed, only if none is enrolled (compare-and-set); the confirming code's step is used."""
    done = (
        await User.update({User.totp_secret: sealed_secret, User.totp_last_step: step})
        .where((User.id == user_id) & User.totp_secret.is_null())
        .returning(User.id)
    )
    return bool(done)


# --- invitations ---------------------------------------------------------------------------------------------

_INVITATION_COLUMNS = (
    MemberInvitation.id,
    MemberInvitation.organisation.as_alias("organisation_id"),
    MemberInvitation.organisation.name.as_alias("organisation_name"),
    MemberInvitation.email,
    MemberInvitation.display_name,
    MemberInvitation.role,
    MemberInvitation.created_at,
    MemberInvitation.expires_at,
    MemberInvitation.accepted_at,
    MemberInvitation.cancelled_at,
)


async def insert_invitation(**values: Any) -> uuid.UUID:
    invitation = MemberInvitation(**values)
    await MemberInvitation.insert(invitation).run()
    return uuid.UUID(str(invitation.id))


async def invitation_by_hash(token_hash: str) -> InvitationRecord | None:
    row = await MemberInvitation.select(*_INVITATION_COLUMNS).where(MemberInvitation.token_hash == token_hash).first()
    return None if row is None else msgspec.convert(row, InvitationRecord)


async def invitation(organisation_id: uuid.UUID, invitation_id: uuid.UUID) -> InvitationRecord | None:
    """One of the organisation's invitations (another organisation's id names none)."""
    row = (
        await MemberInvitation.select(*_INVITATION_COLUMNS)
        .where((MemberInvitation.id == invitation_id) & (MemberInvitation.organisation == organisation_id))
        .first()
    )
    return None if row is None else msgspec.convert(row, InvitationRecord)


async def open_invitations(organisation_id: uuid.UUID, since: dt.datetime) -> list[InvitationRecord]:
    """Invitations neither accepted nor cancelled, newest first: pending ones, and those expired after ``since``."""
    rows = (
        await MemberInvitation.select(*_INVITATION_COLUMNS)
        .where(
            (MemberInvitation.organisation == organisation_id)
            & MemberInvitation.accepted_at.is_null()
            & MemberInvitation.cancelled_at.is_null()
            & (MemberInvitation.expires_at > since)
        )
        .order_by(MemberInvitation.created_at, ascending=False)
    )
    return [msgspec.convert(row, InvitationRecord) for row in rows]


async def cancel_invitations(organisation_id: uuid.UUID, email: str, at: dt.datetime) -> list[uuid.UUID]:
    """Cancel the organisation's open invitations to ``email`` (a newer one replaces them); their ids."""
    rows = (
        await MemberInvitation.update({MemberInvitation.cancelled_at: at})
        .where(
            (MemberInvitation.organisation == organisation_id)
            & (MemberInvitation.email == email)
            & MemberInvitation.accepted_at.is_null()
            & MemberInvitation.cancelled_at.is_null()
        )
        .returning(MemberInvitation.id)
    )
    return [uuid.UUID(str(row["id"])) for row in rows]


async def cancel_invitation(invitation_id: uuid.UUID, at: dt.datetime) -> bool:
    done = (
        await MemberInvitation.update({MemberInvitation.cancelled_at: at})
        .where(
            (MemberInvitation.id == invitation_id)
            & MemberInvitation.accepted_at.is_null()
            & MemberInvitation.cancelled_at.is_null()
        )
        .returning(MemberInvitation.id)
    )
    return bool(done)


async def use_invitation(invitation_id: uuid.UUID, user_id: uuid.UUID, at: dt.datetime) -> bool:
    """Accept an invitation once: True for the one caller that does, while it is neither cancelled nor expired."""
    taken = (
        await MemberInvitation.update({MemberInvitation.accepted_at: at, MemberInvitation.user: user_id})
        .where(
            (MemberInvitation.id == invitation_id)
            & MemberInvitation.accepted_at.is_null()
            & MemberInvitation.cancelled_at.is_null()
            & (MemberInvitation.expires_at > at)
        )
        .returning(MemberInvitation.id)
    )
    return bool(taken)


# --- registrations waiting for their email address ----------------------------------------------------------


class PendingRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    email: str
    password_hash: str
    registration: dict[str, Any]
    expires_at: dt.datetime
    confirmed_at: dt.datetime | None


async def insert_pending(**values: Any) -> None:
    await PendingRegistration.insert(PendingRegistration(**values)).run()


async def pending_by_hash(token_hash: str) -> PendingRecord | None:
    row = (
        await PendingRegistration.select(
            PendingRegistration.id,
            PendingRegistration.email,
            PendingRegistration.password_hash,
            PendingRegistration.registration,
            PendingRegistration.expires_at,
            PendingRegistration.confirmed_at,
        )
        .where(PendingRegistration.token_hash == token_hash)
        .output(load_json=True)
        .first()
    )
    return None if row is None else msgspec.convert(row, PendingRecord)


async def confirm_pending(pending_id: uuid.UUID, at: dt.datetime) -> bool:
    """Use a confirmation once: True for the one caller that does."""
    taken = (
        await PendingRegistration.update({PendingRegistration.confirmed_at: at})
        .where((PendingRegistration.id == pending_id) & PendingRegistration.confirmed_at.is_null())
        .returning(PendingRegistration.id)
    )
    return bool(taken)


async def forget_stale_pending(before: dt.datetime) -> None:
    """Unconfirmed registrations past their expiry hold a password hash for nothing: remove them."""
    await PendingRegistration.delete().where(
        (PendingRegistration.expires_at < before) & PendingRegistration.confirmed_at.is_null()
    )


# --- API tokens ----------------------------------------------------------------------------------------------


async def insert_api_token(**values: Any) -> ApiTokenRecord:
    row = ApiToken(**values)
    await row.save()
    found = await ApiToken.select(*_TOKEN_COLUMNS).where(ApiToken.id == row.id).first()
    return msgspec.convert(found, ApiTokenRecord)


async def api_tokens(organisation_id: uuid.UUID) -> list[ApiTokenRecord]:
    rows = (
        await ApiToken.select(*_TOKEN_COLUMNS)
        .where(ApiToken.organisation == organisation_id)
        .order_by(ApiToken.created_at, ascending=False)
    )
    return [msgspec.convert(row, ApiTokenRecord) for row in rows]


async def revoke_api_token(organisation_id: uuid.UUID, token_id: uuid.UUID, at: dt.datetime) -> ApiTokenRecord | None:
    changed = (
        await ApiToken.update({ApiToken.revoked_at: at})
        .where((ApiToken.id == token_id) & (ApiToken.organisation == organisation_id) & ApiToken.revoked_at.is_null())
        .returning(*_TOKEN_COLUMNS)
    )
    return msgspec.convert(changed[0], ApiTokenRecord) if changed else None


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
    creator = await user(token["created_by"])
    # A token lives only while its creator is an active member of the same organisation.
    if not creator or not creator.is_active or creator.organisation_id != token["organisation"]:
        return None
    role = policy.token_role(Role(token["role"]), creator.role)
    if role is None:
        return None
    last_used = token["last_used_at"]
    if last_used is None or now - last_used > dt.timedelta(minutes=5):  # bounded writes on the read path
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == token["id"])
    return principal_of(creator, via="api_token", role=role, api_token_id=token["id"])


# --- login throttle ------------------------------------------------------------------------------------------


async def change_counter(key: str, change: Callable[[CounterRecord], CounterRecord]) -> CounterRecord:
    """Read, change and write one throttle counter as one step that every worker process waits for: the
    write transaction is BEGIN IMMEDIATE on SQLite (the database's write lock) and the row is locked with
    FOR UPDATE on PostgreSQL."""
    async with atomic():
        await ThrottleCounter.insert(
            ThrottleCounter(key=key, failures=0, blocked_until=0.0, forget_at=0.0)
        ).on_conflict(action="DO NOTHING")
        query = ThrottleCounter.select(
            ThrottleCounter.failures, ThrottleCounter.blocked_until, ThrottleCounter.forget_at
        ).where(ThrottleCounter.key == key)
        if ThrottleCounter._meta.db.engine_type != "sqlite":
            query = query.lock_rows("UPDATE")
        changed = change(msgspec.convert(await query.first(), CounterRecord))
        await ThrottleCounter.update(
            {
                ThrottleCounter.failures: changed.failures,
                ThrottleCounter.blocked_until: changed.blocked_until,
                ThrottleCounter.forget_at: changed.forget_at,
            }
        ).where(ThrottleCounter.key == key)
    return changed


async def delete_counter(key: str, *, forgotten_before: float) -> None:
    """Forget one key, and every key idle past its time while at it (so the table cannot grow for good)."""
    await ThrottleCounter.delete().where((ThrottleCounter.key == key) | (ThrottleCounter.forget_at < forgotten_before))
