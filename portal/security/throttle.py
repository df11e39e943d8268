"""Login throttling, per account and per client address, checked before any password hashing.

An account that keeps failing waits longer each time (30 s doubling up to 15 min), never for good, so an
attacker can slow the real owner down but not lock them out. Backed by a Litestar store: Redis when
PORTAL_REDIS_URL is set (shared by all workers), otherwise memory (per worker).
"""

from __future__ import annotations

import json
import time

from litestar.stores.base import Store

from portal.errors import TooManyRequests

ACCOUNT_FREE_FAILURES = 5
ACCOUNT_FIRST_DELAY = 30
ACCOUNT_MAX_DELAY = 15 * 60
CLIENT_FAILURES = 50
CLIENT_WINDOW = 15 * 60


class LoginThrottle:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def _read(self, key: str) -> dict[str, float]:
        raw = await self._store.get(key)
        return json.loads(raw) if raw else {"failures": 0, "until": 0.0}

    async def check(self, email: str, client: str) -> None:
        now = time.time()
        for key in (f"acct:{email}", f"ip:{client}"):
            state = await self._read(key)
            if state["until"] > now:
                raise TooManyRequests(
                    "too many failed logins; wait before trying again",
                    retry_after=int(state["until"] - now) + 1,
                )

    async def failed(self, email: str, client: str) -> None:
        now = time.time()
        account = await self._read(f"acct:{email}")
        account["failures"] += 1
        over = int(account["failures"]) - ACCOUNT_FREE_FAILURES
        if over >= 0:
            account["until"] = now + min(ACCOUNT_FIRST_DELAY * 2**over, ACCOUNT_MAX_DELAY)
        await self._store.set(f"acct:{email}", json.dumps(account), expires_in=ACCOUNT_MAX_DELAY * 2)

        ip = await self._read(f"ip:{client}")
        ip["failures"] += 1
        if ip["failures"] >= CLIENT_FAILURES:
            ip["until"] = now + CLIENT_WINDOW
        await self._store.set(f"ip:{client}", json.dumps(ip), expires_in=CLIENT_WINDOW)

    async def succeeded(self, email: str) -> None:
        await self._store.delete(f"acct:{email}")
