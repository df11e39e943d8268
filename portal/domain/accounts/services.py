"""Accounts: registration, login with a second factor for regulators, sessions, members and API tokens."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import secrets
import uuid

import msgspec

from portal.clock import now
from portal.db import atomic
from portal.domain.accounts import repo
from portal.domain.accounts.repo import ApiTokenRecord, LoginRecord, UserRecord
from portal.domain.accounts.schemas import (
    ApiTokenCreated,
    ApiTokenOut,
    MemberState,
    NewApiToken,
    UserOut,
)
from portal.domain.audit.services import record
from portal.domain.context import Caller
from portal.domain.organisations import repo as organisations_repo
from portal.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    TooManyRequests,
    TotpEnrolmentRequired,
    TotpRequired,
)
from portal.security import policy, totp
from portal.security.auth import API_TOKEN_PREFIX
from portal.security.passwords import PasswordHashing, PasswordPolicyError, check_policy
from portal.security.principal import PROVIDER_ROLES, OrganisationKind, Role, requires_totp
from portal.security.sealed import SealedBox
from portal.security.throttle import LoginThrottle, Reservation

ENROLMENT_MINUTES = 10
ENROLMENT_ATTEMPTS = 5


class TotpEnrolment(msgspec.Struct, kw_only=True):
    enrolment: str  # the random id that confirms it (only its hash is stored)
    totp_secret: str
    otpauth_uri: str
    expires_at: dt.datetime


LOGIN_STEP_MINUTES = 5
LOGIN_STEP_ATTEMPTS = 5


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def member_state(user: UserRecord) -> MemberState:
    if user.deactivated_at is not None:
        return MemberState.DEACTIVATED
    return MemberState.ACTIVE if user.is_active else MemberState.INVITED


def user_out(user: UserRecord) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        organisation_id=user.organisation_id,
        organisation_name=user.organisation_name,
        organisation_kind=user.organisation_kind,
        organisation_status=user.organisation_status,
        is_active=user.is_active,
        state=member_state(user),
        totp_enrolled=user.totp_enrolled,
    )


def token_out(token: ApiTokenRecord) -> ApiTokenOut:
    return ApiTokenOut(**{name: getattr(token, name) for name in ApiTokenOut.__struct_fields__})


def _check_role_fits(role: Role, organisation_kind: str) -> None:
    if (role in PROVIDER_ROLES) != (organisation_kind == OrganisationKind.PROVIDER):
        raise InvalidInput(f"role {role} does not fit a {organisation_kind} organisation", field="role")


async def _email_free(email: str) -> None:
    if await repo.email_taken(email):
        raise Conflict("an account with this email address already exists", field="email")


class AccountService:
    def __init__(
        self,
        *,
        passwords: PasswordHashing,
        totp_box: SealedBox,
        throttle: LoginThrottle,
        issuer: str,
        session_minutes: int,
    ) -> None:
        self.passwords = passwords
        self.totp_box = totp_box
        self.throttle = throttle
        self.issuer = issuer
        self.session_minutes = session_minutes

    async def hash_password(self, password: str, email: str, field: str) -> str:
        try:
            check_policy(password, email=email)
        except PasswordPolicyError as exc:
            raise InvalidInput(exc.args[0] if exc.args else str(exc), field=field) from exc  # a Message stays one
        return await asyncio.to_thread(self.passwords.hash, password)

    async def _login_failed(self, caller: Caller, email: str, reason: str) -> None:
        await record(
            caller, "auth.login", outcome="failure", object_type="user", object_id=email, after={"reason": reason}
        )

    async def _user(self, user_id: uuid.UUID) -> UserRecord:
        found = await repo.user(user_id)
        if found is None:
            raise NotFound("no such user")
        return found

    async def authenticate(self, caller: Caller, email: str, password: str) -> LoginRecord:
        """Check a password; the attempt is reserved against the throttle before any hashing. Returns the user."""
        email = normalise_email(email)
        reservation = await self._reserve(caller, email)
        user = await repo.login_record(email)
        ok = await asyncio.to_thread(self.passwords.verify, user.password_hash if user else None, password)
        if not ok or user is None or not user.is_active or user.password_hash is None:
            await self._login_failed(caller, email, "bad credentials")
            raise NotAuthenticated("the email address or password is wrong")
        await self.throttle.release(reservation)
        if self.passwords.needs_rehash(user.password_hash):
            await repo.set_password_hash(user.id, await asyncio.to_thread(self.passwords.hash, password))
        return user

    async def _reserve(self, caller: Caller, email: str) -> Reservation:
        try:
            return await self.throttle.reserve(email, caller.client)
        except TooManyRequests:
            await self._login_failed(caller, email, "throttled")
            raise

    async def second_factor(self, caller: Caller, user: LoginRecord, code: str | None) -> None:
        """Regulator roles must present a TOTP code; each code is accepted once."""
        if not requires_totp(user.role):
            return
        if not user.totp_secret:
            # New, or reset by an admin: the password holder gets a new seed, once, and confirms it with a code.
            enrolment = await self.start_totp_enrolment(caller, user)
            raise TotpEnrolmentRequired(
                "set up your second factor: add totp_secret to an authenticator app, then send a code from it "
                "with this enrolment to POST /api/v1/auth/totp-enrolment",
                **msgspec.to_builtins(enrolment),
            )
        if not code:
            raise TotpRequired("enter the 6-digit code from your authenticator app", field="totp")
        # Wrong codes count against the account like wrong passwords, on the API and the page alike.
        reservation = await self._reserve(caller, user.email)
        secret = self.totp_box.open(user.totp_secret)
        step = totp.accepted_step(secret, code, await repo.last_totp_step(user.id))
        # The conditional update makes a code single-use even when two logins race with it.
        used = step is not None and await repo.use_totp_step(user.id, step)
        if not used:
            await self._login_failed(caller, user.email, "bad one-time code")
            raise NotAuthenticated("the one-time code is wrong or has already been used", field="totp")
        await self.throttle.release(reservation)

    async def start_second_factor(self, user: LoginRecord) -> str:
        """The password was right and a code is owed: a server-side step, single-use, for a few minutes and
        attempts. Returns its random id (the browser holds it; only its hash is stored)."""
        step_id = secrets.token_urlsafe(32)
        at = now()
        await repo.insert_login_step(
            digest(step_id), user.id, at=at, expires_at=at + dt.timedelta(minutes=LOGIN_STEP_MINUTES)
        )
        return step_id

    async def finish_second_factor(self, caller: Caller, step_id: str, code: str | None) -> LoginRecord:
        """Check the code owed by a step; the step is used up by success and after its last attempt."""
        expired = NotAuthenticated("the login step expired; enter your password again")
        user_id = await repo.attempt_login_step(digest(step_id), now(), max_attempts=LOGIN_STEP_ATTEMPTS)
        user = await repo.login_record_by_id(user_id) if user_id else None
        if user is None or not user.is_active:
            raise expired
        await self.second_factor(caller, user, code)
        if not await repo.use_login_step(digest(step_id), now()):
            raise expired
        return user

    async def confirm_second_factor(self, caller: Caller, code: str | None) -> None:
        """A logged-in regulator proves the second factor again, for an operation that needs it now."""
        user = await repo.login_record(caller.actor.email)
        if user is None or not user.is_active:
            raise NotAuthenticated("log in first")
        await self.second_factor(caller, user, code)

    async def start_totp_enrolment(self, caller: Caller, user: LoginRecord) -> TotpEnrolment:
        """After a right password, for an account with no second factor: a new seed, kept sealed on the server
        until a code from it confirms it. Only this answer carries it; the admin who reset it never sees it."""
        if not requires_totp(user.role) or user.totp_secret:
            raise Conflict("this account needs no new second factor")
        enrolment_id, seed = secrets.token_urlsafe(32), totp.new_secret()
        expires_at = now() + dt.timedelta(minutes=ENROLMENT_MINUTES)
        async with atomic():
            await repo.insert_enrolment(
                digest(enrolment_id), user.id, self.totp_box.seal(seed), at=now(), expires_at=expires_at
            )
            # Who was offered a new factor, and from where: the trail to read if a password was stolen.
            await record(caller, "user.totp_enrolment_offered", object_type="user", object_id=user.id)
        return TotpEnrolment(
            enrolment=enrolment_id,
            totp_secret=seed,
            otpauth_uri=totp.provisioning_uri(seed, user.email),
            expires_at=expires_at,
        )

    async def finish_totp_enrolment(self, caller: Caller, enrolment_id: str, code: str) -> UserRecord:
        """One valid code from the new seed enrols it; the enrolment is single-use and allows a few attempts."""
        expired = NotAuthenticated("the enrolment has expired or was used; log in with your password again")
        found = await repo.attempt_enrolment(digest(enrolment_id), now(), max_attempts=ENROLMENT_ATTEMPTS)
        user = await repo.user(found.user) if found else None
        if found is None or user is None or not user.is_active:
            raise expired
        step = totp.accepted_step(self.totp_box.open(found.secret), code, 0)
        if step is None:
            await self._login_failed(caller, user.email, "bad enrolment code")
            raise NotAuthenticated(
                "the one-time code is wrong; enter the current code from the new entry", field="totp"
            )
        async with atomic():
            if not await repo.use_enrolment(digest(enrolment_id), now()):
                raise expired
            if not await repo.enrol_totp(user.id, found.secret, step):
                raise Conflict("a second factor is already enrolled for this account")
            await record(
                caller,
                "user.totp_enrolled",
                object_type="user",
                object_id=user.id,
                before={"totp_enrolled": False},
                after={"totp_enrolled": True},
            )
        return await self._user(user.id)

    async def open_session(self, caller: Caller, user: UserRecord) -> tuple[str, dt.datetime]:
        await self.throttle.succeeded(user.email)
        session_id = secrets.token_urlsafe(24)
        expires_at = now() + dt.timedelta(minutes=self.session_minutes)
        async with atomic():
            await repo.insert_session(session_id, user.id, at=now(), expires_at=expires_at, client=caller.client)
            principal = repo.principal_of(user, via="session", session_id=session_id)
            await record(
                Caller(principal=principal, client=caller.client), "auth.login", object_type="user", object_id=user.id
            )
        return session_id, expires_at

    async def logout(self, caller: Caller) -> None:
        principal = caller.actor
        if principal.session_id is None:
            raise InvalidInput("API tokens are revoked, not logged out")
        async with atomic():
            await repo.revoke_session(principal.session_id, now())
            await record(caller, "auth.logout", object_type="user", object_id=principal.user_id)

    async def create_user(
        self,
        caller: Caller,
        *,
        email: str,
        role: Role,
        organisation_id: uuid.UUID,
        password: str,
        display_name: str = "",
    ) -> tuple[UserOut, str | None]:
        """Create an active user (the CLI and the demo). Returns the user and, for regulators, the TOTP seed."""
        email = normalise_email(email)
        organisation = await organisations_repo.get(organisation_id)
        if organisation is None:
            raise NotFound("no such organisation")
        _check_role_fits(role, organisation.kind)
        password_hash = await self.hash_password(password, email, "password")
        seed = totp.new_secret() if requires_totp(role) else None
        async with atomic():
            await _email_free(email)
            user_id = await repo.insert_user(
                organisation=organisation_id,
                email=email,
                display_name=display_name or email.split("@")[0],
                role=role,
                password_hash=password_hash,
                created_at=now(),
                totp_secret=self.totp_box.seal(seed) if seed else None,
            )
            await record(
                caller,
                "user.created",
                object_type="user",
                object_id=user_id,
                after={"email": email, "role": role, "organisation": str(organisation_id)},
            )
        return user_out(await self._user(user_id)), seed

    async def list_members(self, caller: Caller, organisation_id: uuid.UUID) -> list[UserOut]:
        await policy.require(
            caller,
            policy.may_list_members(caller.actor, organisation_id),
            object_type="organisation",
            object_id=organisation_id,
        )
        return [user_out(row) for row in await repo.members(organisation_id)]

    async def me(self, caller: Caller) -> UserOut:
        # With an API token the caller acts in the token's role, not its creator's.
        out = user_out(await self._user(caller.actor.user_id))
        out.role = caller.actor.role
        return out

    async def create_api_token(self, caller: Caller, organisation_id: uuid.UUID, data: NewApiToken) -> ApiTokenCreated:
        """Provider admins create tokens for scripts and CI. Regulator roles never get one: they need TOTP."""
        principal = caller.actor
        await policy.require(
            caller,
            policy.may_create_api_token(principal, organisation_id),
            object_type="organisation",
            object_id=organisation_id,
        )
        if data.role not in PROVIDER_ROLES:
            raise InvalidInput("API tokens act as provider_editor or provider_admin", field="role")
        secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
        async with atomic():
            token = await repo.insert_api_token(
                organisation=organisation_id,
                created_by=principal.user_id,
                name=data.name,
                role=data.role,
                prefix=secret[:12],
                token_hash=digest(secret),
                created_at=now(),
                expires_at=now() + dt.timedelta(days=data.expires_in_days),
            )
            await record(
                caller,
                "api_token.created",
                object_type="api_token",
                object_id=token.id,
                after={"name": data.name, "role": data.role, "prefix": token.prefix},
            )
        return ApiTokenCreated(**{name: getattr(token, name) for name in ApiTokenOut.__struct_fields__}, token=secret)

    async def list_api_tokens(self, caller: Caller, organisation_id: uuid.UUID) -> list[ApiTokenOut]:
        await policy.require(
            caller,
            policy.may_manage_api_tokens(caller.actor, organisation_id),
            object_type="organisation",
            object_id=organisation_id,
        )
        return [token_out(row) for row in await repo.api_tokens(organisation_id)]

    async def revoke_api_token(self, caller: Caller, organisation_id: uuid.UUID, token_id: uuid.UUID) -> ApiTokenOut:
        await policy.require(
            caller,
            policy.may_manage_api_tokens(caller.actor, organisation_id),
            object_type="organisation",
            object_id=organisation_id,
        )
        async with atomic():
            revoked = await repo.revoke_api_token(organisation_id, token_id, now())
            if revoked is None:
                raise NotFound("no active API token with this id in your organisation")
            await record(caller, "api_token.revoked", object_type="api_token", object_id=token_id)
        return token_out(revoked)
