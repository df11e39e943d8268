"""Accounts: registration, login with a second factor for regulators, sessions, members and API tokens."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import secrets
import uuid
from typing import Any

from portal.db import atomic
from portal.db.tables import ApiToken, Invitation, Organisation, User, UserSession
from portal.domain.accounts import repo
from portal.domain.accounts.schemas import (
    ApiTokenCreated,
    ApiTokenOut,
    MemberOut,
    NewApiToken,
    NewMember,
    Registration,
    UserOut,
)
from portal.domain.audit.services import record
from portal.domain.context import Caller
from portal.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound, TooManyRequests, TotpRequired
from portal.runtime import Runtime
from portal.security import totp
from portal.security.passwords import PasswordPolicyError, check_policy
from portal.security.permissions import (
    PROVIDER_ROLES,
    OrganisationKind,
    OrganisationStatus,
    Role,
    assignable_roles,
    require_member,
    requires_totp,
)

API_TOKEN_PREFIX = "pap_"  # noqa: S105 - a public prefix, not a secret
INVITATION_DAYS = 7


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def user_out(row: dict[str, Any]) -> UserOut:
    return UserOut(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        organisation_id=row["org_id"],
        organisation_name=row["org_name"],
        organisation_kind=OrganisationKind(row["org_kind"]),
        organisation_status=OrganisationStatus(row["org_status"]),
        is_active=row["is_active"],
    )


async def _hash_password(runtime: Runtime, password: str, email: str, field: str) -> str:
    try:
        check_policy(password, email=email)
    except PasswordPolicyError as exc:
        raise InvalidInput(str(exc), field=field) from exc
    return await asyncio.to_thread(runtime.passwords.hash, password)


async def _email_free(email: str) -> None:
    if await User.exists().where(User.email == email):
        raise Conflict("an account with this email address already exists", field="email")


async def register(runtime: Runtime, caller: Caller, data: Registration) -> UserOut:
    """A provider organisation registers itself (pending until a regulator verifies it) and its first admin."""
    email = normalise_email(data.user.email)
    password_hash = await _hash_password(runtime, data.user.password, email, "user.password")
    org = data.organisation
    async with atomic():
        await _email_free(email)
        duplicate = await Organisation.exists().where(
            (Organisation.country == org.country) & (Organisation.registration_number == org.registration_number)
        )
        if duplicate:
            raise Conflict(
                "an organisation with this registration number is already registered in this country",
                field="organisation.registration_number",
            )
        organisation = Organisation(
            kind=OrganisationKind.PROVIDER,
            name=org.name,
            legal_name=org.legal_name,
            category=org.category,
            country=org.country,
            registration_number=org.registration_number,
            website=org.website,
            contact_email=normalise_email(org.contact_email),
            status=OrganisationStatus.PENDING,
            created_at=now(),
        )
        await organisation.save()
        user = User(
            organisation=organisation.id,
            email=email,
            display_name=data.user.display_name,
            role=Role.PROVIDER_ADMIN,
            password_hash=password_hash,
            created_at=now(),
        )
        await user.save()
        await record(
            caller,
            "organisation.registered",
            object_type="organisation",
            object_id=organisation.id,
            after={"name": org.name, "status": "pending", "admin": email},
        )
    row = await repo.user_row(user.id)
    assert row is not None
    return user_out(row)


async def authenticate(runtime: Runtime, caller: Caller, email: str, password: str) -> dict[str, Any]:
    """Check a password, throttled per account and per client before any hashing. Returns the user row."""
    email = normalise_email(email)
    try:
        await runtime.throttle.check(email, caller.client)
    except TooManyRequests:
        await record(
            caller,
            "auth.login",
            outcome="failure",
            object_type="user",
            object_id=email,
            after={"reason": "throttled"},
        )
        raise
    user = await repo.user_by_email(email)
    ok = await asyncio.to_thread(runtime.passwords.verify, user["password_hash"] if user else None, password)
    if not ok or user is None or not user["is_active"]:
        await runtime.throttle.failed(email, caller.client)
        await record(
            caller,
            "auth.login",
            outcome="failure",
            object_type="user",
            object_id=email,
            after={"reason": "bad credentials"},
        )
        raise NotAuthenticated("the email address or password is wrong")
    if runtime.passwords.needs_rehash(user["password_hash"]):
        new_hash = await asyncio.to_thread(runtime.passwords.hash, password)
        await User.update({User.password_hash: new_hash}).where(User.id == user["id"])
    return user


async def second_factor(runtime: Runtime, caller: Caller, user: dict[str, Any], code: str | None) -> None:
    """Regulator roles must present a TOTP code; each code is accepted once."""
    if not requires_totp(user["role"]):
        return
    if not user["totp_secret"]:
        raise Forbidden("this regulator account has no second factor enrolled; ask a regulator admin")
    if not code:
        raise TotpRequired("enter the 6-digit code from your authenticator app", field="totp")
    # Wrong codes count against the account like wrong passwords, on the API and the page alike.
    await runtime.throttle.check(user["email"], caller.client)
    secret = runtime.totp_box.open(user["totp_secret"])
    fresh = await User.select(User.totp_last_step).where(User.id == user["id"]).first()
    step = totp.accepted_step(secret, code, fresh["totp_last_step"] if fresh else 0)
    # The conditional update makes a code single-use even when two logins race with it.
    used = step is not None and await User.update({User.totp_last_step: step}).where(
        (User.id == user["id"]) & (User.totp_last_step < step)
    ).returning(User.id)
    if not used:
        await runtime.throttle.failed(user["email"], caller.client)
        await record(
            caller,
            "auth.login",
            outcome="failure",
            object_type="user",
            object_id=user["email"],
            after={"reason": "bad one-time code"},
        )
        raise NotAuthenticated("the one-time code is wrong or has already been used", field="totp")


async def open_session(runtime: Runtime, caller: Caller, user: dict[str, Any]) -> tuple[str, dt.datetime]:
    await runtime.throttle.succeeded(user["email"])
    session_id = secrets.token_urlsafe(24)
    expires_at = now() + dt.timedelta(minutes=runtime.settings.session_minutes)
    async with atomic():
        await UserSession.insert(
            UserSession(
                id=session_id,
                user=user["id"],
                created_at=now(),
                expires_at=expires_at,
                client=caller.client[:64],
            )
        ).run()
        principal = repo.principal_from_row(user, via="session", session_id=session_id)
        await record(
            Caller(principal=principal, client=caller.client),
            "auth.login",
            object_type="user",
            object_id=user["id"],
        )
    return session_id, expires_at


async def logout(caller: Caller) -> None:
    principal = caller.actor
    if principal.session_id is None:
        raise InvalidInput("API tokens are revoked, not logged out")
    async with atomic():
        await UserSession.update({UserSession.revoked_at: now()}).where(UserSession.id == principal.session_id)
        await record(caller, "auth.logout", object_type="user", object_id=principal.user_id)


async def create_user(
    runtime: Runtime,
    caller: Caller,
    *,
    email: str,
    role: Role,
    organisation_id: uuid.UUID,
    password: str,
    display_name: str = "",
) -> tuple[UserOut, str | None]:
    """Create an active user directly (the CLI and the demo). Returns the user and, for regulators, the TOTP seed."""
    email = normalise_email(email)
    organisation = await repo.organisation_row(organisation_id)
    if organisation is None:
        raise NotFound("no such organisation")
    _check_role_fits(role, organisation["kind"])
    password_hash = await _hash_password(runtime, password, email, "password")
    seed = totp.new_secret() if requires_totp(role) else None
    async with atomic():
        await _email_free(email)
        user = User(
            organisation=organisation_id,
            email=email,
            display_name=display_name or email.split("@")[0],
            role=role,
            password_hash=password_hash,
            created_at=now(),
            totp_secret=runtime.totp_box.seal(seed) if seed else None,
        )
        await user.save()
        await record(
            caller,
            "user.created",
            object_type="user",
            object_id=user.id,
            after={"email": email, "role": role, "organisation": str(organisation_id)},
        )
    row = await repo.user_row(user.id)
    assert row is not None
    return user_out(row), seed


def _check_role_fits(role: Role, organisation_kind: str) -> None:
    if (role in PROVIDER_ROLES) != (organisation_kind == OrganisationKind.PROVIDER):
        raise InvalidInput(f"role {role} does not fit a {organisation_kind} organisation", field="role")


async def invite_member(runtime: Runtime, caller: Caller, organisation_id: uuid.UUID, data: NewMember) -> MemberOut:
    """An organisation admin adds a member; the member sets a password through a one-time invitation link."""
    principal = caller.actor
    require_member(principal, organisation_id, Role.PROVIDER_ADMIN, Role.REGULATOR_ADMIN)
    if principal.via != "session":
        raise Forbidden("members are invited from a logged-in session, not with an API token")
    if data.role not in assignable_roles(principal):
        raise Forbidden(f"you cannot give the role {data.role}", field="role")
    email = normalise_email(data.email)
    secret = secrets.token_urlsafe(32)
    expires_at = now() + dt.timedelta(days=INVITATION_DAYS)
    async with atomic():
        await _email_free(email)
        user = User(
            organisation=organisation_id,
            email=email,
            display_name=data.display_name,
            role=data.role,
            password_hash=None,
            is_active=False,
            created_at=now(),
        )
        await user.save()
        await Invitation.insert(
            Invitation(user=user.id, token_hash=digest(secret), created_by=principal.user_id, expires_at=expires_at)
        ).run()
        await record(
            caller,
            "member.invited",
            object_type="user",
            object_id=user.id,
            after={"email": email, "role": data.role},
        )
    row = await repo.user_row(user.id)
    assert row is not None
    url = f"{runtime.settings.issuer}/invitations/{secret}"
    return MemberOut(user=user_out(row), invitation_url=url, invitation_expires_at=expires_at)


async def accept_invitation(runtime: Runtime, caller: Caller, secret: str, password: str) -> tuple[UserOut, str | None]:
    invitation = await repo.invitation_by_hash(digest(secret))
    if invitation is None or invitation["accepted_at"] is not None or invitation["expires_at"] <= now():
        raise NotFound("this invitation link is not valid or has expired")
    row = await repo.user_row(invitation["user"])
    assert row is not None
    password_hash = await _hash_password(runtime, password, row["email"], "password")
    seed = totp.new_secret() if requires_totp(row["role"]) else None
    async with atomic():
        taken = (
            await Invitation.update({Invitation.accepted_at: now()})
            .where((Invitation.id == invitation["id"]) & Invitation.accepted_at.is_null())
            .returning(Invitation.id)
        )
        if not taken:
            raise NotFound("this invitation link is not valid or has expired")
        await User.update(
            {
                User.password_hash: password_hash,
                User.is_active: True,
                User.totp_secret: runtime.totp_box.seal(seed) if seed else None,
            }
        ).where(User.id == row["id"])
        await record(caller, "member.joined", object_type="user", object_id=row["id"], after={"email": row["email"]})
    fresh = await repo.user_row(row["id"])
    assert fresh is not None
    return user_out(fresh), seed


async def list_members(caller: Caller, organisation_id: uuid.UUID) -> list[UserOut]:
    require_member(caller.actor, organisation_id)
    return [user_out(row) for row in await repo.members(organisation_id)]


def _token_out(row: dict[str, Any]) -> ApiTokenOut:
    return ApiTokenOut(**{k: row[k] for k in ApiTokenOut.__struct_fields__})


async def create_api_token(caller: Caller, organisation_id: uuid.UUID, data: NewApiToken) -> ApiTokenCreated:
    """Provider admins create tokens for scripts and CI. Regulator roles never get one: they need TOTP."""
    principal = caller.actor
    require_member(principal, organisation_id, Role.PROVIDER_ADMIN)
    if principal.via != "session":
        raise Forbidden("API tokens are created from a logged-in session, not with another token")
    if data.role not in PROVIDER_ROLES:
        raise InvalidInput("API tokens act as provider_editor or provider_admin", field="role")
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        organisation=organisation_id,
        created_by=principal.user_id,
        name=data.name,
        role=data.role,
        prefix=secret[:12],
        token_hash=digest(secret),
        created_at=now(),
        expires_at=now() + dt.timedelta(days=data.expires_in_days),
    )
    async with atomic():
        await token.save()
        await record(
            caller,
            "api_token.created",
            object_type="api_token",
            object_id=token.id,
            after={"name": data.name, "role": data.role, "prefix": token.prefix},
        )
    return ApiTokenCreated(
        id=token.id,
        name=token.name,
        role=data.role,
        prefix=token.prefix,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=None,
        revoked_at=None,
        token=secret,
    )


async def list_api_tokens(caller: Caller, organisation_id: uuid.UUID) -> list[ApiTokenOut]:
    require_member(caller.actor, organisation_id, Role.PROVIDER_ADMIN)
    return [_token_out(row) for row in await repo.api_tokens(organisation_id)]


async def revoke_api_token(caller: Caller, organisation_id: uuid.UUID, token_id: uuid.UUID) -> ApiTokenOut:
    require_member(caller.actor, organisation_id, Role.PROVIDER_ADMIN)
    async with atomic():
        changed = (
            await ApiToken.update({ApiToken.revoked_at: now()})
            .where(
                (ApiToken.id == token_id) & (ApiToken.organisation == organisation_id) & ApiToken.revoked_at.is_null()
            )
            .returning(ApiToken.id)
        )
        if not changed:
            raise NotFound("no active API token with this id in your organisation")
        await record(caller, "api_token.revoked", object_type="api_token", object_id=token_id)
    rows = [row for row in await repo.api_tokens(organisation_id) if row["id"] == token_id]
    return _token_out(rows[0])
