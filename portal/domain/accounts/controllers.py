"""Accounts API: register, log in and out, who am I, members, invitations, API tokens."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from portal.deps import CallerDep, RuntimeDep
from portal.domain.accounts import repo, services
from portal.domain.accounts.schemas import (
    AcceptInvitation,
    ApiTokenCreated,
    ApiTokenOut,
    Login,
    LoginOut,
    MemberOut,
    NewApiToken,
    NewMember,
    Registration,
    UserOut,
)
from portal.runtime import Runtime
from portal.security.auth import requires_login
from portal.security.csrf import requires_json


def session_cookie(
    runtime: Runtime, row: dict[str, Any], session_id: str, expires_at: dt.datetime
) -> tuple[str, Cookie]:
    """A fresh session JWT at every login: an HttpOnly cookie for browsers, the same token for scripts."""
    auth = runtime.session_auth
    lifetime = expires_at - dt.datetime.now(dt.UTC)
    token = auth.create_token(identifier=str(row["id"]), token_unique_jwt_id=session_id, token_expiration=lifetime)
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
        status_code=201,
        exclude_from_csrf=True,
        guards=[requires_json],
        summary="Register a provider organisation and its first admin",
    )
    async def register(self, runtime: RuntimeDep, caller: CallerDep, data: JSONBody[Registration]) -> UserOut:
        return await services.register(runtime, caller, data)

    @post(
        "/login",
        exclude_from_csrf=True,
        guards=[requires_json],
        summary="Log in with email, password and (regulators) a TOTP code",
    )
    async def login(self, runtime: RuntimeDep, caller: CallerDep, data: JSONBody[Login]) -> Response[Any]:
        row = await services.authenticate(runtime, caller, data.email, data.password)
        await services.second_factor(runtime, caller, row, data.totp)
        session_id, expires_at = await services.open_session(runtime, caller, row)
        token, cookie = session_cookie(runtime, row, session_id, expires_at)
        body = LoginOut(token=token, expires_at=expires_at, user=services.user_out(row))
        return Response(body, status_code=HTTP_200_OK, cookies=[cookie])

    @post("/logout", guards=[requires_login], status_code=204, summary="End this session")
    async def logout(self, runtime: RuntimeDep, caller: CallerDep) -> Response[None]:
        await services.logout(caller)
        response: Response[None] = Response(None, status_code=204)
        response.delete_cookie(runtime.session_auth.key)
        return response


class MeController(Controller):
    path = "/api/v1"
    tags = ["accounts"]

    @get("/me", guards=[requires_login], summary="The logged-in user")
    async def me(self, caller: CallerDep) -> UserOut:
        row = await repo.user_row(caller.actor.user_id)
        assert row is not None
        # With an API token the caller acts in the token's role, not its creator's.
        return msgspec.structs.replace(services.user_out(row), role=caller.actor.role)

    @post("/invitations/{secret:str}/accept", status_code=200, summary="Accept an invitation and set a password")
    async def accept(
        self, runtime: RuntimeDep, caller: CallerDep, secret: FromPath[str], data: JSONBody[AcceptInvitation]
    ) -> dict[str, Any]:
        user, seed = await services.accept_invitation(runtime, caller, secret, data.password)
        out: dict[str, Any] = {"user": user}
        if seed:
            out["totp_secret"] = seed
        return out


class MembersController(Controller):
    path = "/api/v1/organisations/{organisation_id:uuid}"
    tags = ["organisations"]
    guards = [requires_login]

    @get("/members", summary="Members of an organisation")
    async def members(self, caller: CallerDep, organisation_id: FromPath[uuid.UUID]) -> list[UserOut]:
        return await services.list_members(caller, organisation_id)

    @post("/members", status_code=201, summary="Invite a member with a role")
    async def invite(
        self,
        runtime: RuntimeDep,
        caller: CallerDep,
        organisation_id: FromPath[uuid.UUID],
        data: JSONBody[NewMember],
    ) -> MemberOut:
        return await services.invite_member(runtime, caller, organisation_id, data)

    @get("/api-tokens", summary="API tokens of an organisation")
    async def tokens(self, caller: CallerDep, organisation_id: FromPath[uuid.UUID]) -> list[ApiTokenOut]:
        return await services.list_api_tokens(caller, organisation_id)

    @post("/api-tokens", status_code=201, summary="Create an API token (shown once)")
    async def create_token(
        self, caller: CallerDep, organisation_id: FromPath[uuid.UUID], data: JSONBody[NewApiToken]
    ) -> ApiTokenCreated:
        return await services.create_api_token(caller, organisation_id, data)

    @post("/api-tokens/{token_id:uuid}/revoke", status_code=200, summary="Revoke an API token")
    async def revoke_token(
        self, caller: CallerDep, organisation_id: FromPath[uuid.UUID], token_id: FromPath[uuid.UUID]
    ) -> ApiTokenOut:
        return await services.revoke_api_token(caller, organisation_id, token_id)
