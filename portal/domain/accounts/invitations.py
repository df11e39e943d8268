"""Invitations: an organisation's admin invites a member by email address; the link goes to that address only.

An invitation is held by address, and the account comes into being only when the invitee opens the mailed link
and chooses a password. So the admin's answer, and the list of pending invitations, are the same whether or not
the address already has an account elsewhere: that address gets a notice instead of a link (an address belongs
to one organisation), and the admin learns nothing about it. An address that is already a member of the admin's
own organisation is refused plainly: the admin sees their own members anyway.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from portal.clock import now
from portal.db import atomic
from portal.domain.accounts import repo
from portal.domain.accounts.repo import InvitationRecord
from portal.domain.accounts.schemas import InvitationOut, InvitationState, NewMember, UserOut
from portal.domain.accounts.services import AccountService, digest, normalise_email, user_out
from portal.domain.audit.services import record
from portal.domain.context import Caller
from portal.errors import Conflict, Forbidden, InvalidInput, NotFound
from portal.i18n import translations
from portal.mail import Mailer, deliverable
from portal.security import policy
from portal.security.throttle import InvitationThrottle

INVITATION_DAYS = 7
SHOWN_AFTER_EXPIRY = dt.timedelta(days=30)  # an expired invitation stays in the admin's list this long


def state_of(invitation: InvitationRecord, at: dt.datetime) -> InvitationState:
    if invitation.accepted_at is not None:
        return InvitationState.ACCEPTED
    if invitation.cancelled_at is not None:
        return InvitationState.CANCELLED
    return InvitationState.PENDING if invitation.expires_at > at else InvitationState.EXPIRED


def invitation_out(invitation: InvitationRecord, at: dt.datetime | None = None) -> InvitationOut:
    return InvitationOut(
        id=invitation.id,
        email=invitation.email,
        display_name=invitation.display_name,
        role=invitation.role,
        organisation_id=invitation.organisation_id,
        organisation_name=invitation.organisation_name,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        state=state_of(invitation, at or now()),
    )


class InvitationService:
    def __init__(self, accounts: AccountService, throttle: InvitationThrottle, mailer: Mailer) -> None:
        self.accounts = accounts
        self.throttle = throttle
        self.mailer = mailer

    async def invite(self, caller: Caller, organisation_id: uuid.UUID, data: NewMember) -> InvitationOut:
        """Invite an address; the same answer whether or not it has an account in another organisation."""
        principal = caller.actor
        await policy.require(
            caller,
            policy.may_manage_members(principal, organisation_id),
            object_type="organisation",
            object_id=organisation_id,
        )
        verdict = policy.may_give_role(principal, data.role)
        if not verdict:
            raise Forbidden(verdict.reason, field="role")
        email = normalise_email(data.email)
        if not deliverable(email):
            raise InvalidInput("this is not an email address a message can be sent to", field="email")
        # Counted before the address is looked at: an admin cannot probe many addresses.
        await self.throttle.reserve(str(principal.user_id))
        inviter = await repo.user(principal.user_id)
        assert inviter is not None
        secret = secrets.token_urlsafe(32)
        at = now()
        async with atomic():
            account = await repo.user_by_email(email)
            if account is not None and account.organisation_id == organisation_id:
                raise Conflict("this address is already a member of your organisation", field="email")
            replaced = await repo.cancel_invitations(organisation_id, email, at)
            invitation_id = await repo.insert_invitation(
                organisation=organisation_id,
                email=email,
                display_name=data.display_name,
                role=data.role,
                token_hash=digest(secret),
                invited_by=principal.user_id,
                created_at=at,
                expires_at=at + dt.timedelta(days=INVITATION_DAYS),
            )
            await record(
                caller,
                "member.invited",
                object_type="invitation",
                object_id=invitation_id,
                after={
                    "email": email,
                    "role": data.role,
                    "organisation": str(organisation_id),
                    "replaces": [str(old) for old in replaced],
                    "existing_account": account is not None,  # the operator's audit trail only
                },
            )
        invitation = await repo.invitation(organisation_id, invitation_id)
        assert invitation is not None
        if account is None:
            subject, body = _invitation_mail(self.accounts.issuer, invitation, inviter.display_name, secret)
        else:
            subject, body = _notice_mail(self.accounts.issuer, invitation, inviter.display_name)
        await self.mailer.send(email, subject, body)
        return invitation_out(invitation, at)

    async def pending(self, caller: Caller, organisation_id: uuid.UUID) -> list[InvitationOut]:
        """The organisation's invitations not yet accepted or cancelled (expired ones for 30 days)."""
        await policy.require(
            caller,
            policy.may_see_invitations(caller.actor, organisation_id),
            object_type="organisation",
            object_id=organisation_id,
        )
        at = now()
        rows = await repo.open_invitations(organisation_id, at - SHOWN_AFTER_EXPIRY)
        return [invitation_out(row, at) for row in rows]

    async def cancel(self, caller: Caller, organisation_id: uuid.UUID, invitation_id: uuid.UUID) -> InvitationOut:
        """Withdraw an invitation: its link stops working at once."""
        await policy.require(
            caller,
            policy.may_manage_members(caller.actor, organisation_id),
            object_type="organisation",
            object_id=organisation_id,
        )
        found = await repo.invitation(organisation_id, invitation_id)
        if found is None:
            raise NotFound("no such invitation")
        async with atomic():
            if not await repo.cancel_invitation(invitation_id, now()):
                raise Conflict("this invitation is already used or withdrawn")
            await record(
                caller,
                "member.invitation_cancelled",
                object_type="invitation",
                object_id=invitation_id,
                before={"state": state_of(found, now())},
                after={"state": InvitationState.CANCELLED, "email": found.email},
            )
        cancelled = await repo.invitation(organisation_id, invitation_id)
        assert cancelled is not None
        return invitation_out(cancelled)

    async def _usable(self, secret: str) -> InvitationRecord:
        """The invitation a link names, or why it cannot be used. A used, withdrawn, expired or unknown link says
        which it is: the secret is 256 random bits, so telling them apart helps the invitee and no guesser."""
        invitation = await repo.invitation_by_hash(digest(secret)) if secret else None
        if invitation is None:
            raise NotFound("this invitation link is not valid; check that you copied all of it")
        state = state_of(invitation, now())
        if state == InvitationState.ACCEPTED:
            raise NotFound("this invitation has already been used; log in with your email address and password")
        if state == InvitationState.CANCELLED:
            raise NotFound("this invitation was withdrawn; ask your organisation's administrator for a new one")
        if state == InvitationState.EXPIRED:
            raise NotFound("this invitation has expired; ask your organisation's administrator for a new one")
        return invitation

    async def preview(self, secret: str) -> InvitationOut:
        """What an invitation link is for (whom, which organisation, which role), before any password is set."""
        return invitation_out(await self._usable(secret))

    async def accept(self, caller: Caller, secret: str, password: str) -> UserOut:
        """The invitee chooses a password and the account comes into being. A regulator gets no seed here: the link
        alone is not enough to hold one; the first password login offers it and a code confirms it."""
        invitation = await self._usable(secret)
        password_hash = await self.accounts.hash_password(password, invitation.email, "password")
        async with atomic():
            if await repo.email_taken(invitation.email):
                raise Conflict("this address already has an account: log in with it", field="email")
            user_id = await repo.insert_user(
                organisation=invitation.organisation_id,
                email=invitation.email,
                display_name=invitation.display_name,
                role=invitation.role,
                password_hash=password_hash,
                created_at=now(),
            )
            if not await repo.use_invitation(invitation.id, user_id, now()):
                raise NotFound("this invitation link is not valid or has expired")
            await record(
                caller,
                "member.joined",
                object_type="user",
                object_id=user_id,
                after={"email": invitation.email, "role": invitation.role, "invitation": str(invitation.id)},
            )
        user = await repo.user(user_id)
        assert user is not None
        return user_out(user)


def _role(invitation: InvitationRecord) -> str:
    return translations("en").gettext(invitation.role)


def _invitation_mail(issuer: str, invitation: InvitationRecord, inviter: str, secret: str) -> tuple[str, str]:
    # After '#': browsers never send the fragment, so the secret stays out of access logs and Referer headers.
    subject = f"You are invited to join {invitation.organisation_name} on the Provider Attestation Portal"
    return subject, (
        f"{inviter} invited you to join {invitation.organisation_name} on the Provider Attestation Portal "
        f"as {_role(invitation)}.\n\n"
        f"Open this link before {invitation.expires_at:%Y-%m-%d %H:%M} UTC to choose your password:\n\n"
        f"{issuer}/invitations#{secret}\n\n"
        "Regulator accounts set up their second factor (an authenticator app) at the first login.\n"
        "If you did not expect this message, ignore it: no account is made until the link is used.\n"
    )


def _notice_mail(issuer: str, invitation: InvitationRecord, inviter: str) -> tuple[str, str]:
    subject = f"You are invited to join {invitation.organisation_name} on the Provider Attestation Portal"
    return subject, (
        f"{inviter} invited this address to join {invitation.organisation_name} on the Provider Attestation Portal "
        f"as {_role(invitation)}.\n\n"
        "This address already has an account with the portal, and an address belongs to one organisation, so the "
        "invitation cannot be accepted with it. Nothing was changed, and the person who invited you was not told "
        "that the address has an account.\n\n"
        f"If you are joining {invitation.organisation_name}, ask them to invite another of your addresses. "
        f"Your existing account is unchanged: log in at {issuer}/login.\n"
    )
