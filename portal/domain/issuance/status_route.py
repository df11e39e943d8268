"""``GET /api/v1/attestations/{serial}/status`` answered ahead of Litestar's router when the answer is kept.

The status lookup is the one public route whose cost per request decides what a regulator's servers cost
(wallets and monitors ask on every use). When its read model (:mod:`portal.domain.issuance.lookup`) already
keeps the answer, within the staleness bound, building a request, routing it, resolving dependencies and
running the route's middleware is most of the work left, so this ASGI step answers it directly: the same
bytes, the same status and the same headers as the route (the app's before-send hook adds the security
headers to both), after the same checks — the host is an allowed one, and the request counts against the
``attestations`` rate limit.

Everything else goes on to Litestar unchanged: any other path or method, a query string (``?at=``), a
request with an ``Origin`` header (the CORS middleware answers those) or with two ``Host`` headers (Litestar
reads the first), a serial not yet kept, one never issued, an expiry still to record, a stale cache, and a
client over its limit (the route counts it again and answers the 429 problem). So errors have one source,
and the route stays the definition of the answer; a test asks both for the same serial and compares the
headers and the body (all but ``checked_at``).
"""

from __future__ import annotations

import re

from litestar.config.allowed_hosts import AllowedHostsConfig
from litestar.enums import ScopeType
from litestar.middleware.allowed_hosts import AllowedHostsMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from portal.domain.issuance.controllers import AttestationsController, JsonAnswer
from portal.domain.issuance.lookup import StatusLookup
from portal.domain.issuance.rules import SERIAL_FORM
from portal.security.ratelimit import RateLimiter

PATH = re.compile(rf"{re.escape(AttestationsController.path)}/({SERIAL_FORM.pattern})/status")


async def _no_app(scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover - never called
    raise AssertionError


class StatusRoute:
    def __init__(self, app: ASGIApp, lookup: StatusLookup, limiter: RateLimiter, allowed_hosts: list[str]) -> None:
        self.app = app
        self.lookup = lookup
        self.limiter = limiter
        # Litestar's own matcher for the allowed hosts, so the two can never disagree.
        hosts = AllowedHostsMiddleware(_no_app, AllowedHostsConfig(allowed_hosts=allowed_hosts))
        self.hosts_regex = hosts.allowed_hosts_regex

    def _host_allowed(self, scope: Scope) -> bool:
        host = None
        for name, value in scope["headers"]:
            if name == b"origin":
                return False  # a cross-origin browser request: the CORS middleware answers it
            if name == b"host":
                if host is not None:
                    return False  # two Host headers: the router (which reads the first) decides
                host = value.decode("latin-1")
        if self.hosts_regex is None:
            return True
        return host is not None and self.hosts_regex.fullmatch(host) is not None

    async def _counted(self, scope: Scope) -> bool:
        client = scope.get("client")
        try:
            await self.limiter.hit("attestations", client[0] if client else "")
        except Exception:  # over the limit (or the counters failed): the route counts again and answers
            return False
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == ScopeType.HTTP
            and scope.get("method") == "GET"
            and not scope["query_string"]
            and (match := PATH.fullmatch(scope["path"]))
            and (body := self.lookup.kept(match[1])) is not None
            and self._host_allowed(scope)
        ):
            if await self._counted(scope):
                await JsonAnswer(body)(scope, receive, send)
                return
        await self.app(scope, receive, send)
