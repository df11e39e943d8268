"""Registration: a provider organisation and its first admin, created once the admin's email is confirmed.

The answer to a registration never says whether the email address already has an account: it is always
202 "check your email". A new address gets a confirmation link; an address that has an account gets a
notice saying someone tried to register with it. Nothing exists (no organisation in the regulator's queue,
no account) until the link is used, so no one can hold an address they do not read.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

import msgspec

from portal.clock import now
from portal.db import atomic
from portal.domain.accounts import repo
from portal.domain.accounts.schemas import NewOrganisation, Registration, RegistrationAccepted, UserOut
from portal.domain.accounts.services import AccountService, digest, normalise_email, user_out
from portal.domain.audit.services import record
from portal.domain.context import Caller
from portal.domain.organisations import repo as organisations_repo
from portal.errors import Conflict, NotFound
from portal.mail import Mailer
from portal.security.principal import OrganisationKind, OrganisationStatus, Role
from portal.security.throttle import RegistrationThrottle

CONFIRMATION_HOURS = 24


class RegistrationService:
    def __init__(self, accounts: AccountService, throttle: RegistrationThrottle, mailer: Mailer) -> None:
        self.accounts = accounts
        self.throttle = throttle
        self.mailer = mailer

    async def register(self, caller: Caller, data: Registration) -> RegistrationAccepted:
        """Start a registration; the same answer whether or not the address has an account."""
        email = normalise_email(data.user.email)
        await self.throttle.reserve(email, caller.client)
        # Hashed in both cases, so the answer takes as long either way.
        password_hash = await self.accounts.hash_password(data.user.password, email, "user.password")
        org = data.organisation
        secret = secrets.token_urlsafe(32)
        expires_at = now() + dt.timedelta(hours=CONFIRMATION_HOURS)
        await repo.forget_stale_pending(now())
        async with atomic():
            if await organisations_repo.registered(org.country, org.registration_number):
                raise Conflict(
                    "an organisation with this registration number is already registered in this country",
                    field="organisation.registration_number",
                )
            taken = await repo.email_taken(email)
            if not taken:
                await repo.insert_pending(
                    id=uuid.uuid4(),
                    token_hash=digest(secret),
                    email=email,
                    password_hash=password_hash,
                    registration={
                        "organisation": msgspec.to_builtins(org),
                        "display_name": data.user.display_name,
                    },
                    created_at=now(),
                    expires_at=expires_at,
                )
            await record(
                caller,
                "registration.started",
                object_type="organisation",
                object_id=org.registration_number,
                after={"name": org.name, "email": email, "existing_account": taken},
            )
        if taken:
            await self.mailer.send(email, "Someone tried to register with your address", _already(self.accounts))
        else:
            await self.mailer.send(email, "Confirm your registration", _confirm(self.accounts, secret, org.name))
        return RegistrationAccepted(email=email, expires_at=expires_at)

    async def confirm(self, caller: Caller, secret: str) -> UserOut:
        """Use a confirmation link: the organisation (pending verification) and its admin come into being."""
        pending = await repo.pending_by_hash(digest(secret))
        if pending is None or pending.confirmed_at is not None or pending.expires_at <= now():
            raise NotFound("this confirmation link is not valid or has expired; register again")
        org = msgspec.convert(pending.registration["organisation"], NewOrganisation)
        async with atomic():
            if not await repo.confirm_pending(pending.id, now()):
                raise NotFound("this confirmation link is not valid or has expired; register again")
            if await repo.email_taken(pending.email):
                raise Conflict("this registration is already confirmed: log in", field="email")
            if await organisations_repo.registered(org.country, org.registration_number):
                raise Conflict(
                    "an organisation with this registration number is already registered in this country",
                    field="organisation.registration_number",
                )
            organisation_id = await organisations_repo.insert(
                kind=OrganisationKind.PROVIDER,
                name=org.name,
                name_ar=" ".join(org.name_ar.split()),
                legal_name=org.legal_name,
                category=org.category,
                country=org.country,
                registration_number=org.registration_number,
                website=org.website,
                contact_email=normalise_email(org.contact_email),
                status=OrganisationStatus.PENDING,
                created_at=now(),
            )
            user_id = await repo.insert_user(
                organisation=organisation_id,
                email=pending.email,
                display_name=pending.registration["display_name"],
                role=Role.PROVIDER_ADMIN,
                password_hash=pending.password_hash,
                created_at=now(),
            )
            await record(
                caller,
                "organisation.registered",
                object_type="organisation",
                object_id=organisation_id,
                after={"name": org.name, "status": "pending", "admin": pending.email},
            )
        user = await repo.user(user_id)
        assert user is not None
        return user_out(user)

    async def register_confirmed(self, caller: Caller, data: Registration) -> UserOut:
        """For the demo and the CLI, which act for the regulator: registration and confirmation in one step."""
        secret = secrets.token_urlsafe(32)
        email = normalise_email(data.user.email)
        password_hash = await self.accounts.hash_password(data.user.password, email, "user.password")
        await repo.insert_pending(
            id=uuid.uuid4(),
            token_hash=digest(secret),
            email=email,
            password_hash=password_hash,
            registration={
                "organisation": msgspec.to_builtins(data.organisation),
                "display_name": data.user.display_name,
            },
            created_at=now(),
            expires_at=now() + dt.timedelta(hours=CONFIRMATION_HOURS),
        )
        return await self.confirm(caller, secret)


def _confirm(accounts: AccountService, secret: str, name: str) -> str:
    # After '#': browsers never send the fragment, so the secret stays out of access logs and Referer headers.
    return (
        f"You registered {name} with the Provider Attestation Portal.\n\n"
        f"Confirm your email address within {CONFIRMATION_HOURS} hours by opening this link:\n\n"
        f"{accounts.issuer}/register/confirm#{secret}\n\n"
        "Your organisation then waits for the regulator to verify it; you can log in and prepare meanwhile.\n"
        "If you did not register, ignore this message: nothing is created until the link is used.\n"
    )


def _already(accounts: AccountService) -> str:
    return (
        "Someone tried to register a provider organisation with this email address, which already has an account "
        "with the Provider Attestation Portal. Nothing was changed.\n\n"
        f"If it was you, log in at {accounts.issuer}/login instead.\n"
        "If it was not, you need do nothing.\n"
    )
