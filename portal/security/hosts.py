"""Allowed hosts: Litestar's middleware, but a refusal is an error like any other (a 400 problem document with
the security headers) rather than its own bare JSON body."""

from __future__ import annotations

from litestar.exceptions import ClientException
from litestar.middleware.allowed_hosts import AllowedHostsMiddleware
from litestar.types import Receive, Scope, Send

INVALID_HOST = "Invalid host header"  # Litestar's router refuses a malformed Host with this detail too


class AllowedHosts(AllowedHostsMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        host = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"host"), None)
        if self.allowed_hosts_regex is None or (host is not None and self.allowed_hosts_regex.fullmatch(host)):
            await self.app(scope, receive, send)
            return
        raise ClientException(INVALID_HOST)
