"""Accounts API: register, log in and out, who am I, members, invitations, API tokens."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar import Controller, Response, get, post
from litestar.datastructures import CacheControlHeader, Cookie
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from portal.clock import now
from portal.deps import Accounts, CallerDep, Invitations, Members, Registrations, RuntimeDep
from portal.domain.accounts.repo import UserRecord
from portal.domain.accounts.schemas import (
    AcceptInvitation,
    ApiTokenCreated,
    ApiTokenOut,
    Confirmation,
    InvitationAcceptance,
    InvitationAccepted,
    InvitationOut,
    Login,
    LoginOut,
    NewApiToken,
    NewMember,
    Registration,
    RegistrationAccepted,
    RoleChange,
    TotpEnrolmentConfirm,
    UserOut,
)
from portal.domain.accounts.services import user_out
from portal.runtime import Runtime
from portal.security.auth import requires_login
from portal.security.csrf import requires_json
from portal.security.principal import requires_totp

# Responses that carry a session token or a second-factor seed are never stored by a browser or a proxy.
NO_STORE = CacheControlHeader(no_store=True)


def session_cookie(runtime: Runtime, user: UserRecord, session_id: str, expires_at: dt.datetime) -> tuple[str, Cookie]:
    """A fresh session JWT at every login: an HttpOnly cookie for browsers, the same token for scripts."""
    auth = runtime.session_auth
    lifetime = expires_at - now()
    token = auth.create_token(identifier=str(user.id), token_unique_jwt_id=session_id, token_expiration=lifetime)
    cookie = Cookie(
        key=auth.key,
        value=token,
        path="/",
        httponly=True,
        secure=auth.secure,
        samesite=auth.samesite,
        max_age=int(lifetime.total_seconds()),
    )
    return token, cookie


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["accounts"]

    @post(
        "/register",
        status_code=202,
        exclude_from_csrf=True,
        guards=[requires_json],
        problems=[409, 422, 429],
        summary="Register a provider organisation and its first admin: a confirmation link goes to the email",
        description=(
            "Always 202 with the same body, whether or not the address already has an account (that address gets "
            "a notice instead of a link). Nothing is created until `POST /api/v1/auth/register/confirm`."
        ),
    )
    async def register(
        self, registrations: Registrations, caller: CallerDep, data: JSONBody[Registration]
    ) -> RegistrationAccepted:
        return await registrations.register(caller, data)

    @post(
        "/register/confirm",
        status_code=201,
        exclude_from_csrf=True,
        guards=[requires_json],
        cache_control=NO_STORE,
        problems=[404, 409],
        summary="Confirm a registration with the code from its email: the organisation and its admin are created",
    )
    async def confirm(self, registrations: Registrations, caller: CallerDep, data: JSONBody[Confirmation]) -> UserOut:
        return await registrations.confirm(caller, data.code)

    @post(
        "/login",
        status_code=HTTP_200_OK,
        exclude_from_csrf=True,
        guards=[requires_json],
        cache_control=NO_STORE,
        problems=[403, 429],
        summary="Log in with email, password and (regulators) a TOTP code",
    )
    async def login(
        self, runtime: RuntimeDep, accounts: Accounts, caller: CallerDep, data: JSONBody[Login]
    ) -> Response[Any]:
        user = await accounts.authenticate(caller, data.email, data.password)
        await accounts.second_factor(caller, user, data.totp)
        session_id, expires_at = await accounts.open_session(caller, user)
        token, cookie = session_cookie(runtime, user, session_id, expires_at)
        body = LoginOut(token=token, expires_at=expires_at, user=user_out(user))
        return Response(body, status_code=HTTP_200_OK, cookies=[cookie])

    @post(
        "/totp-enrolment",
        exclude_from_csrf=True,
        guards=[requires_json],
        summary="Confirm a new second factor with a code from it, and log in",
        description="After a login answered 401 `totp-enrolment-required` (with `enrolment` and `totp_secret`, "
        "in that response only): send the enrolment and a current code from the new authenticator entry.",
    )
    async def totp_enrolment(
        self, runtime: RuntimeDep, accounts: Accounts, caller: CallerDep, data: JSONBody[TotpEnrolmentConfirm]
    ) -> Response[Any]:
        # Exempt from CSRF like login: it grants nothing without the enrolment id, which a cross-site form lacks.
        user = await accounts.finish_totp_enrolment(caller, data.enrolment, data.totp)
        session_id, expires_at = await accounts.open_session(caller, user)
        token, cookie = session_cookie(runtime, user, session_id, expires_at)
        body = LoginOut(token=token, expires_at=expires_at, user=user_out(user))
        return Response(body, status_code=HTTP_200_OK, cookies=[cookie], headers={"Cache-Control": "no-store"})

    @post(
        "/logout",
        guards=[requires_login],
        status_code=204,
        responses={204: ResponseSpec(None, description="The session has ended")},  # no body, no media type
        problems=[422],
        summary="End this session",
    )
    async def logout(self, runtime: RuntimeDep, accounts: Accounts, caller: CallerDep) -> Response[None]:
        await accounts.logout(caller)
        response: Response[None] = Response(None, status_code=204)
        response.delete_cookie(runtime.session_auth.key)
        return response


class MeController(Controller):
    path = "/api/v1"
    tags = ["accounts"]

    @get("/me", guards=[requires_login], summary="The logged-in user")
    async def me(self, accounts: Accounts, caller: CallerDep) -> UserOut:
        return await accounts.me(caller)

    @post(
        "/invitations/accept",
        status_code=200,
        cache_control=NO_STORE,
        problems=[404, 422],
        summary="Accept an invitation and set a password",
    )
    async def accept(
        self, invitations: Invitations, caller: CallerDep, data: JSONBody[InvitationAcceptance]
    ) -> Response[InvitationAccepted]:
        return _accepted(await invitations.accept(caller, data.invitation, data.password))

    @post(
        "/invitations/{secret:str}/accept",
        status_code=200,
        cache_control=NO_STORE,
        deprecated=True,
        summary="Accept an invitation (the secret in the path; redacted in logs): use POST /invitations/accept",
    )
    async def accept_in_path(
        self, invitations: Invitations, caller: CallerDep, secret: FromPath[str], data: JSONBody[AcceptInvitation]
    ) -> Response[InvitationAccepted]:
        return _accepted(await invitations.accept(caller, secret, data.password))


def _accepted(user: UserOut) -> Response[InvitationAccepted]:
    body = InvitationAccepted(user=user, totp_enrolment_required=requires_totp(user.role) and not user.totp_enrolled)
    return Response(body, status_code=HTTP_200_OK)  # the routes send Cache-Control: no-store


class MembersController(Controller):
    path = "/api/v1/organisations/{organisation_id:uuid}"
    tags = ["organisations"]
    guards = [requires_login]

    @get("/members", problems=[403], summary="Members of an organisation")
    async def members(
        self, accounts: Accounts, caller: CallerDep, organisation_id: FromPath[uuid.UUID]
    ) -> list[UserOut]:
        return await accounts.list_members(caller, organisation_id)

    @post(
        "/members",
        status_code=201,
        problems=[409, 422, 429],
        summary="Invite a member with a role (the link is mailed to the address)",
        description="The answer is the invitation, the same whether or not the address has an account in another "
        "organisation; the invitation link goes only to the address. 409 only for an address that is already a "
        "member of this organisation. A newer invitation to the same address replaces an open one.",
    )
    async def invite(
        self,
        invitations: Invitations,
        caller: CallerDep,
        organisation_id: FromPath[uuid.UUID],
        data: JSONBody[NewMember],
    ) -> InvitationOut:
        return await invitations.invite(caller, organisation_id, data)

    @get("/invitations", problems=[403], summary="Invitations not yet accepted or cancelled (expired: 30 days)")
    async def pending_invitations(
        self, invitations: Invitations, caller: CallerDep, organisation_id: FromPath[uuid.UUID]
    ) -> list[InvitationOut]:
        return await invitations.pending(caller, organisation_id)

    @post(
        "/invitations/{invitation_id:uuid}/cancel",
        status_code=200,
        problems=[409],
        summary="Withdraw an invitation (its link stops working)",
    )
    async def cancel_invitation(
        self,
        invitations: Invitations,
        caller: CallerDep,
        organisation_id: FromPath[uuid.UUID],
        invitation_id: FromPath[uuid.UUID],
    ) -> InvitationOut:
        return await invitations.cancel(caller, organisation_id, invitation_id)

    @get("/api-tokens", problems=[403], summary="API tokens of an organisation")
    async def tokens(
        self, accounts: Accounts, caller: CallerDep, organisation_id: FromPath[uuid.UUID]
    ) -> list[ApiTokenOut]:
        return await accounts.list_api_tokens(caller, organisation_id)

    @post("/api-tokens", status_code=201, problems=[422], summary="Create an API token (shown once)")
    async def create_token(
        self, accounts: Accounts, caller: CallerDep, organisation_id: FromPath[uuid.UUID], data: JSONBody[NewApiToken]
    ) -> ApiTokenCreated:
        return await accounts.create_api_token(caller, organisation_id, data)

    @post("/api-tokens/{token_id:uuid}/revoke", status_code=200, summary="Revoke an API token")
    async def revoke_token(
        self, accounts: Accounts, caller: CallerDep, organisation_id: FromPath[uuid.UUID], token_id: FromPath[uuid.UUID]
    ) -> ApiTokenOut:
        return await accounts.revoke_api_token(caller, organisation_id, token_id)

    @post("/members/{user_id:uuid}/deactivate", status_code=200, summary="Deactivate a member (ends their access)")
    async def deactivate(
        self, members: Members, caller: CallerDep, organisation_id: FromPath[uuid.UUID], user_id: FromPath[uuid.UUID]
    ) -> UserOut:
        return await members.deactivate(caller, organisation_id, user_id)

    @post("/members/{user_id:uuid}/reactivate", status_code=200, summary="Reactivate a deactivated member")
    async def reactivate(
        self, members: Members, caller: CallerDep, organisation_id: FromPath[uuid.UUID], user_id: FromPath[uuid.UUID]
    ) -> UserOut:
        return await members.reactivate(caller, organisation_id, user_id)

    @post("/members/{user_id:uuid}/role", status_code=200, summary="Change a member's role (ends their access)")
    async def set_role(
        self,
        members: Members,
        caller: CallerDep,
        organisation_id: FromPath[uuid.UUID],
        user_id: FromPath[uuid.UUID],
        data: JSONBody[RoleChange],
    ) -> UserOut:
        return await members.set_role(caller, organisation_id, user_id, data.role)

    @post(
        "/members/{user_id:uuid}/reset-totp",
        status_code=200,
        summary="Reset a regulator's lost second factor (re-enrolled by them at their next login)",
    )
    async def reset_totp(
        self, members: Members, caller: CallerDep, organisation_id: FromPath[uuid.UUID], user_id: FromPath[uuid.UUID]
    ) -> UserOut:
        return await members.reset_second_factor(caller, organisation_id, user_id)
