"""Authentication: Litestar's JWT cookie auth for browser sessions, the same JWT or an API token as Bearer.

Requests without credentials pass through as anonymous (``request.user is None``); guards decide what needs a
login. The principal is read from the database on every request, so a role change applies at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import AuthenticationResult
from litestar.security.jwt import JWTCookieAuth, JWTCookieAuthenticationMiddleware, Token
from litestar.types import Guard

from portal.clock import now
from portal.domain.accounts import repo
from portal.errors import Forbidden, NotAuthenticated
from portal.security import policy
from portal.security.csrf import SESSION_COOKIE
from portal.security.principal import Principal, Role

API_TOKEN_PREFIX = "pap_"  # noqa: S105 - a public prefix, not a secret


class PortalAuthenticationMiddleware(JWTCookieAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        if header:
            scheme, _, credential = header.partition(" ")
            if scheme.lower() != "bearer" or not credential:
                raise NotAuthorizedException("use Authorization: Bearer <token>")
            if credential.startswith(API_TOKEN_PREFIX):
                token_hash = hashlib.sha256(credential.encode()).hexdigest()
                principal = await repo.principal_for_api_token(token_hash, now())
                if principal is None:
                    raise NotAuthorizedException("the API token is not valid, expired or revoked")
                return AuthenticationResult(user=principal, auth=None)
            return await self.authenticate_token(credential, connection)
        cookie = connection.cookies.get(self.auth_cookie_key)
        if cookie:
            try:
                return await self.authenticate_token(cookie, connection)
            except NotAuthorizedException:
                pass  # an expired or revoked cookie makes the visitor anonymous, so the login page still works
        return AuthenticationResult(user=None, auth=None)


async def retrieve_principal(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    if not token.jti:
        return None
    return await repo.principal_for_session(str(token.jti), str(token.sub), now())


def session_auth(secret: str, *, minutes: int, secure: bool) -> JWTCookieAuth[Principal, Token]:
    return JWTCookieAuth[Principal, Token](
        token_secret=secret,
        retrieve_user_handler=retrieve_principal,
        authentication_middleware_class=PortalAuthenticationMiddleware,
        key=SESSION_COOKIE,
        secure=secure,
        samesite="lax",
        default_token_expiration=dt.timedelta(minutes=minutes),
        require_claims=["exp", "sub", "jti"],
        exclude=["^/static/"],
    )


def _describes_the_route(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    # OPTIONS is Litestar's own answer (Allow, or a CORS preflight, which never carries credentials): it reads
    # and changes nothing, so authentication skips it, and the guards let it through to say so.
    return connection.scope.get("method") == "OPTIONS"


def requires_login(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if _describes_the_route(connection):
        return
    if connection.user is None:
        raise NotAuthenticated("log in to use this")


def requires_role(*roles: Role) -> Guard:
    def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        if _describes_the_route(connection):
            return
        requires_login(connection, handler)
        verdict = policy.has_role(connection.user, frozenset(roles))
        if not verdict:
            raise Forbidden(verdict.reason)

    return guard
