"""Rate limits on public routes, per client address and route group, on the login throttle's counters.

Each group (``attestations``, ``verify``, ``log``, ...) allows ``limit`` requests per client address in each fixed
window of ``window`` seconds; the request over it is refused with a 429 problem whose ``Retry-After`` says when the
window ends. The count is the throttle's own reservation step (``portal.security.throttle.counted``, a block that
starts once ``free`` requests are counted) on a key made of the group, the address and the window's number, so a
new window starts afresh. The counters are Redis when ``PORTAL_REDIS_URL`` is set (every worker and host shares
them); otherwise they live in the process (:class:`MemoryCounters`): a public read never becomes a database write,
and a portal of N workers without Redis allows up to N times the limit.

Attach it to a controller or handler as middleware: ``middleware=[RateLimited("registry")]`` (a guard would cost
a copy of the route handler per request, which Litestar makes for every guard call: 8 % of a status lookup).
Limits come from settings: ``PORTAL_RATE_LIMIT_WINDOW`` (seconds), ``PORTAL_RATE_LIMIT_VERIFY`` for ``verify`` (it
parses uploads), and ``PORTAL_RATE_LIMIT_PUBLIC`` for every other group.
"""

from __future__ import annotations

import math
import time

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from portal.errors import TooManyRequests
from portal.security.throttle import Counters, Limit, hashed_key


class RateLimiter:
    def __init__(self, counters: Counters, *, window: int, default: int, groups: dict[str, int] | None = None) -> None:
        self.counters = counters
        self.window = window
        self.default = default
        self.groups = dict(groups or {})

    def limit(self, group: str) -> int:
        return self.groups.get(group, self.default)

    async def hit(self, group: str, client: str, now: float | None = None) -> None:
        """Count one request of ``client`` to ``group``; raise :class:`TooManyRequests` over the limit."""
        moment = time.time() if now is None else now
        number = int(moment // self.window)
        allowed = self.limit(group)
        rule = Limit(free=allowed, first_wait=self.window, max_wait=self.window, forget_after=self.window)
        wait = await self.counters.reserve(hashed_key(f"rate:{group}:{number}", client), rule, moment)
        if wait:
            retry = max(1, math.ceil((number + 1) * self.window - moment))
            raise TooManyRequests(
                f"more than {allowed} requests in {self.window} s from this address; try again in {retry} s",
                retry_after=retry,
            )


class RateLimited:
    """Route middleware: one request counted against ``group`` for the client's address, before the handler."""

    def __init__(self, group: str) -> None:
        self.group = group

    def __call__(self, app: ASGIApp) -> ASGIApp:
        group = self.group

        async def limited(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == ScopeType.HTTP:
                limiter: RateLimiter = scope["litestar_app"].state.runtime.rate_limiter
                client = scope.get("client")
                await limiter.hit(group, client[0] if client else "")
            await app(scope, receive, send)

        return limited

    def __repr__(self) -> str:
        return f"RateLimited({self.group!r})"
