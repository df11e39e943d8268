"""Bounds on how a request body arrives: a client that stalls, or trickles, is cut off with a 408.

Litestar bounds a body's size; nothing in the stack bounds the time a body takes, so three slow clients
could hold workers indefinitely. This ASGI middleware times every receive of the body (not the wait for a
disconnect once the body is complete) against an idle limit and the whole body against a total limit.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from portal.errors import RequestTimeout


class BodyTimeout:
    def __init__(self, app: ASGIApp, *, idle_seconds: float, total_seconds: float) -> None:
        self.app = app
        self.idle_seconds = idle_seconds
        self.total_seconds = total_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        deadline = time.monotonic() + self.total_seconds
        body_done = False

        async def timed_receive() -> Any:
            nonlocal body_done
            if body_done:
                return await receive()
            wait = min(self.idle_seconds, deadline - time.monotonic())
            try:
                message = await asyncio.wait_for(receive(), timeout=max(wait, 0.001))
            except TimeoutError:
                raise RequestTimeout("the request body arrived too slowly; send it again") from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await self.app(scope, timed_receive, send)
