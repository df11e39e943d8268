"""Account lifecycle: an organisation's admin (or the operator) deactivates, reactivates, changes a role, resets
a regulator's lost second factor. Each change is audited with before and after, and deactivation, a role change
and a reset end the account's sessions and API tokens in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from portal.clock import now
from portal.db import atomic
from portal.domain.accounts import repo
from portal.domain.accounts.repo import UserRecord
from portal.domain.accounts.schemas import UserOut
from portal.domain.accounts.services import member_state, normalise_email, user_out
from portal.domain.audit.services import record
from portal.domain.context import Caller
from portal.errors import InvalidInput, NotFound
from portal.security import policy
from portal.security.principal import PROVIDER_ROLES, OrganisationKind, Role

Check = Callable[[UserRecord], policy.Verdict]


class MemberActions(msgspec.Struct, kw_only=True):
    """What the organisation page offers for one member: decided by the same predicates the changes require."""

    deactivate: bool
    reactivate: bool
    roles: list[Role]  # roles the member may be given instead of theirs
    reset_totp: bool


def _snapshot(member: UserRecord) -> dict[str, Any]:
    return {"role": member.role, "state": member_state(member), "totp_enrolled": member.totp_enrolled}


class MemberService:
    async def list_users(self, caller: Caller, organisation_id: uuid.UUID | None = None) -> list[UserOut]:
        """Every account, or one organisation's (the operator's ``portal users list``)."""
        await policy.require(caller, policy.may_list_every_user(caller.principal), object_type="user")
        return [user_out(row) for row in await repo.all_users(organisation_id)]

    async def find(self, caller: Caller, email: str) -> UserRecord:
        """The account with this email address (the operator's commands name accounts by email)."""
        await policy.require(caller, policy.may_list_every_user(caller.principal), object_type="user")
        found = await repo.user_by_email(normalise_email(email))
        if found is None:
            raise NotFound(f"no account with the email address {normalise_email(email)}")
        return found

    async def actions(self, caller: Caller, organisation_id: uuid.UUID) -> dict[uuid.UUID, MemberActions]:
        who = caller.principal
        admins = await repo.active_members_with(organisation_id, policy.ORGANISATION_ADMINS)

        def keeps(member: UserRecord, role: Role, active: bool) -> bool:
            return bool(policy.keeps_an_admin(member, role_after=role, active_after=active, active_admins=admins))

        return {
            member.id: MemberActions(
                deactivate=bool(policy.may_deactivate_member(who, member)) and keeps(member, member.role, False),
                reactivate=bool(policy.may_reactivate_member(who, member)),
                roles=sorted(
                    role
                    for role in policy.assignable_roles(who)
                    if policy.may_change_role(who, member, role) and keeps(member, role, member.is_active)
                ),
                reset_totp=bool(policy.may_reset_second_factor(who, member)),
            )
            for member in await repo.members(organisation_id)
        }

    async def deactivate(
        self, caller: Caller, organisation_id: uuid.UUID, user_id: uuid.UUID, *, dry_run: bool = False
    ) -> UserOut:
        async def change(member: UserRecord) -> None:
            await repo.deactivate(member.id, now())

        return await self._change(
            caller,
            organisation_id,
            user_id,
            dry_run=dry_run,
            action="member.deactivated",
            check=lambda member: policy.may_deactivate_member(caller.principal, member),
            change=change,
            active_after=False,
        )

    async def reactivate(
        self, caller: Caller, organisation_id: uuid.UUID, user_id: uuid.UUID, *, dry_run: bool = False
    ) -> UserOut:
        async def change(member: UserRecord) -> None:
            await repo.reactivate(member.id)

        return await self._change(
            caller,
            organisation_id,
            user_id,
            dry_run=dry_run,
            action="member.reactivated",
            check=lambda member: policy.may_reactivate_member(caller.principal, member),
            change=change,
            end_access=False,  # ended at the deactivation; the member logs in afresh
        )

    async def set_role(
        self, caller: Caller, organisation_id: uuid.UUID, user_id: uuid.UUID, role: Role, *, dry_run: bool = False
    ) -> UserOut:
        async def change(member: UserRecord) -> None:
            await repo.set_role(member.id, role)

        def check(member: UserRecord) -> policy.Verdict:
            verdict = policy.may_change_role(caller.principal, member, role)
            if verdict and (role in PROVIDER_ROLES) != (member.organisation_kind == OrganisationKind.PROVIDER):
                raise InvalidInput(f"role {role} does not fit a {member.organisation_kind} organisation", field="role")
            return verdict

        return await self._change(
            caller,
            organisation_id,
            user_id,
            dry_run=dry_run,
            action="member.role_changed",
            check=check,
            change=change,
            role_after=role,
        )

    async def reset_second_factor(
        self, caller: Caller, organisation_id: uuid.UUID, user_id: uuid.UUID, *, dry_run: bool = False
    ) -> UserOut:
        """Clear a lost TOTP seed. The next password login enrols a new one, shown only to the password holder."""

        async def change(member: UserRecord) -> None:
            await repo.clear_totp(member.id)

        return await self._change(
            caller,
            organisation_id,
            user_id,
            dry_run=dry_run,
            action="member.second_factor_reset",
            check=lambda member: policy.may_reset_second_factor(caller.principal, member),
            change=change,
        )

    async def _change(
        self,
        caller: Caller,
        organisation_id: uuid.UUID,
        user_id: uuid.UUID,
        *,
        dry_run: bool,
        action: str,
        check: Check,
        change: Callable[[UserRecord], Awaitable[None]],
        role_after: Role | None = None,
        active_after: bool | None = None,
        end_access: bool = True,
    ) -> UserOut:
        """Check, then (unless ``dry_run``: the page's confirmation step) change, end access and audit."""
        # Whether the caller administers this organisation at all comes first, before saying who is in it.
        await policy.require(
            caller,
            policy.may_administer_members(caller.principal, organisation_id),
            object_type="organisation",
            object_id=organisation_id,
        )
        if dry_run:
            return user_out(await self._checked(caller, organisation_id, user_id, check, role_after, active_after))
        async with atomic():
            await repo.lock_members(organisation_id)
            member = await self._checked(caller, organisation_id, user_id, check, role_after, active_after)
            await change(member)
            sessions, tokens = await repo.end_access(member.id, now()) if end_access else (0, 0)
            changed = await repo.user(user_id)
            assert changed is not None
            await record(
                caller,
                action,
                object_type="user",
                object_id=user_id,
                before=_snapshot(member),
                after={**_snapshot(changed), "sessions_ended": sessions, "api_tokens_revoked": tokens},
            )
        return user_out(changed)

    async def _checked(
        self,
        caller: Caller,
        organisation_id: uuid.UUID,
        user_id: uuid.UUID,
        check: Check,
        role_after: Role | None,
        active_after: bool | None,
    ) -> UserRecord:
        # Inside the change's transaction: these verdicts forbid or conflict, never conceal, so nothing is
        # audited here that a rollback could take back (a 403 is audited by the problem handler afterwards).
        member = await repo.user(user_id)
        if member is None or member.organisation_id != organisation_id:
            raise NotFound("no such member in this organisation")
        await policy.require(caller, check(member), object_type="user", object_id=user_id)
        admins = await repo.active_members_with(organisation_id, policy.ORGANISATION_ADMINS)
        await policy.require(
            caller,
            policy.keeps_an_admin(
                member,
                role_after=role_after or member.role,
                active_after=member.is_active if active_after is None else active_after,
                active_admins=admins,
            ),
            object_type="user",
            object_id=user_id,
        )
        return member
