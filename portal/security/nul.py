"""A NUL character in a request's path or query is refused with 400 before any handler or query sees it: no
route or parameter of the portal takes one, and PostgreSQL text cannot hold it. (Bodies are refused by
their schemas, `portal.structs.NO_NUL`.)"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.exceptions import ClientException
from litestar.types import ASGIApp, Receive, Scope, Send


class RefuseNul:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and ("\x00" in scope["path"] or b"%00" in scope["query_string"]):
            raise ClientException("the path or query contains a NUL character")
        await self.app(scope, receive, send)
