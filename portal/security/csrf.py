"""CSRF: Litestar's double-submit middleware for every cookie-authenticated request.

A request to /api/ that carries no session cookie, or that authenticates with an Authorization header, has no
ambient authority a forged cross-site request could borrow, so it is not subject to CSRF. A cookie-authenticated
API request must send the X-CSRFToken header. Login and registration (routes with opt exclude_from_csrf) grant
no authority of their own.
"""

from __future__ import annotations

from typing import Any

from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import Receive, Scope, Send

from portal.errors import UnsupportedMediaType

SESSION_COOKIE = "portal_session"
CSRF_COOKIE = "portal_csrf"
CSRF_HEADER = "x-csrftoken"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _cookie_names(scope: Scope) -> set[str]:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            return {part.split("=", 1)[0].strip() for part in value.decode("latin-1").split(";")}
    return set()


def _has_header(scope: Scope, wanted: bytes) -> bool:
    return any(name == wanted for name, _ in scope.get("headers", []))


class PortalCSRFMiddleware(CSRFMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if handler is not None and handler.opt.get("exclude_from_csrf"):
            await self.app(scope, receive, send)
            return
        if scope["type"] == ScopeType.HTTP and scope["path"].startswith("/api/"):
            if SESSION_COOKIE not in _cookie_names(scope) or _has_header(scope, b"authorization"):
                await self.app(scope, receive, send)
                return
            if scope.get("method") not in SAFE_METHODS and not _has_header(scope, CSRF_HEADER.encode()):
                # Refuse before any body is read: API clients send the header, never a form field.
                raise PermissionDeniedException("CSRF token missing: send the X-CSRFToken header")
        await super().__call__(scope, receive, send)


def requires_json(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard for the CSRF-exempt login and registration: a cross-site HTML form cannot send application/json
    without a CORS preflight, so insisting on it closes login CSRF through text/plain bodies."""
    if connection.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaType("send the body as application/json")


def csrf_config(secret: str, *, secure: bool) -> CSRFConfig:
    return CSRFConfig(
        secret=secret,
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=secure,
        cookie_httponly=False,  # the page script reads it to send the header on uploads
        cookie_samesite="strict",
        exclude_from_csrf_key="exclude_from_csrf",
    )
