"""Login throttling, per account and per client address: every attempt is reserved before any hashing.

A reservation is one atomic step on a shared counter: refused while the key is blocked, otherwise counted as a
failure at once (so a concurrent burst sees it) and, once the key reaches its limit, the block starts in the
same step. An attempt that turns out right gives its reservation back; a completed login clears the account.

An account that keeps failing waits longer each time (30 s doubling up to 15 min), never for good, so an
attacker can slow the real owner down but not lock them out. The counters live in Redis when PORTAL_REDIS_URL
is set (a Lua script: one atomic step), otherwise in the database (a row locked for the step: BEGIN IMMEDIATE
on SQLite, SELECT ... FOR UPDATE on PostgreSQL), so every worker process shares them either way.
"""

from __future__ import annotations

import hashlib
import time
from typing import Protocol

import msgspec

from portal.domain.accounts import repo
from portal.domain.accounts.repo import CounterRecord
from portal.errors import TooManyRequests


class Limit(msgspec.Struct, frozen=True, kw_only=True):
    free: int  # failures judged before the first wait
    first_wait: int  # seconds blocked once `free` failures are counted
    max_wait: int  # the wait doubles with each further failure, up to this
    forget_after: int  # a key with no failure for this long starts afresh


ACCOUNT = Limit(free=5, first_wait=30, max_wait=15 * 60, forget_after=30 * 60)
CLIENT = Limit(free=50, first_wait=15 * 60, max_wait=15 * 60, forget_after=15 * 60)


def counted(state: CounterRecord, now: float, limit: Limit) -> tuple[CounterRecord, float]:
    """One reservation on ``state``: the new state and, when refused, the seconds left to wait (else 0)."""
    if state.forget_at <= now:
        state = CounterRecord(failures=0, blocked_until=0.0, forget_at=0.0)
    if state.blocked_until > now:
        return state, state.blocked_until - now
    failures = state.failures + 1
    blocked_until = 0.0
    if failures >= limit.free:
        blocked_until = now + min(limit.first_wait * 2 ** (failures - limit.free), limit.max_wait)
    return CounterRecord(failures=failures, blocked_until=blocked_until, forget_at=now + limit.forget_after), 0.0


def given_back(state: CounterRecord) -> CounterRecord:
    """A reservation returned: one failure fewer. A block in force was started by this reservation or by one
    counted with it (a block refuses every later one), so it ends; the count stays exact, and the next
    reservation over the limit starts it again."""
    return CounterRecord(failures=max(state.failures - 1, 0), blocked_until=0.0, forget_at=state.forget_at)


class Counters(Protocol):
    async def reserve(self, key: str, limit: Limit, now: float) -> float:
        """Count one attempt unless ``key`` is blocked; return 0, or the seconds left to wait."""

    async def release(self, key: str) -> None: ...

    async def clear(self, key: str, now: float) -> None: ...


class DatabaseCounters:
    """Counters in the ``throttle_counter`` table, shared by every worker that uses the same database."""

    async def reserve(self, key: str, limit: Limit, now: float) -> float:
        wait = 0.0

        def change(state: CounterRecord) -> CounterRecord:
            nonlocal wait
            state, wait = counted(state, now, limit)
            return state

        await repo.change_counter(key, change)
        return wait

    async def release(self, key: str) -> None:
        await repo.change_counter(key, given_back)

    async def clear(self, key: str, now: float) -> None:
        await repo.delete_counter(key, forgotten_before=now)


class MemoryCounters:
    """Counters in this process only: for the public rate limits without Redis (never for logins, whose
    counters every worker must share). Keys past their ``forget_at`` are swept as the table grows."""

    def __init__(self, sweep_above: int = 10_000) -> None:
        self._states: dict[str, CounterRecord] = {}
        self._sweep_above = sweep_above

    async def reserve(self, key: str, limit: Limit, now: float) -> float:
        if len(self._states) > self._sweep_above:
            self._states = {k: v for k, v in self._states.items() if v.forget_at > now}
        state = self._states.get(key, CounterRecord(failures=0, blocked_until=0.0, forget_at=0.0))
        self._states[key], wait = counted(state, now, limit)
        return wait

    async def release(self, key: str) -> None:
        if key in self._states:
            self._states[key] = given_back(self._states[key])

    async def clear(self, key: str, now: float) -> None:
        self._states.pop(key, None)


# The same steps as `counted` and `given_back`, run atomically inside Redis.
_RESERVE = """
local now, free, first, max_wait, forget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4]), tonumber(ARGV[5])
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked_until') or '0')
if blocked > now then return tostring(blocked - now) end
failures = failures + 1
blocked = 0
if failures >= free then blocked = now + math.min(first * 2 ^ (failures - free), max_wait) end
redis.call('HSET', KEYS[1], 'failures', failures, 'blocked_until', tostring(blocked))
redis.call('EXPIRE', KEYS[1], forget)
return '0'
"""
_RELEASE = """
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '-1')
if failures < 0 then return 0 end
redis.call('HSET', KEYS[1], 'failures', math.max(failures - 1, 0), 'blocked_until', '0')
return 1
"""


class RedisCounters:
    """Counters in Redis (PORTAL_REDIS_URL), shared by every worker and every host."""

    def __init__(self, url: str, namespace: str = "portal-throttle") -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._namespace = namespace
        self._reserve = self._redis.register_script(_RESERVE)
        self._release = self._redis.register_script(_RELEASE)

    def _key(self, key: str) -> str:
        return f"{self._namespace}:{key}"

    async def reserve(self, key: str, limit: Limit, now: float) -> float:
        args: list[str | int] = [repr(now), limit.free, limit.first_wait, limit.max_wait, limit.forget_after]
        return float(await self._reserve(keys=[self._key(key)], args=args))

    async def release(self, key: str) -> None:
        await self._release(keys=[self._key(key)])

    async def clear(self, key: str, now: float) -> None:
        await self._redis.delete(self._key(key))


class Reservation(msgspec.Struct, frozen=True):
    keys: tuple[str, ...]


def hashed_key(kind: str, value: str) -> str:
    # Hashed, so neither the database nor Redis holds the email addresses (or client addresses) that were tried.
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


_key = hashed_key


class LoginThrottle:
    def __init__(self, counters: Counters) -> None:
        self.counters = counters

    async def reserve(self, email: str, client: str) -> Reservation:
        """Count one attempt for the client address and the account before it is judged; refuse when blocked."""
        keyed = [(_key("ip", client), CLIENT), (_key("acct", email), ACCOUNT)]
        return await reserve_all(self.counters, keyed, "too many failed logins; wait before trying again")

    async def release(self, reservation: Reservation) -> None:
        """The attempt was right: it is not a failure."""
        for key in reservation.keys:
            await self.counters.release(key)

    async def succeeded(self, email: str) -> None:
        """A completed login forgets the account's failures."""
        await self.counters.clear(_key("acct", email), time.time())


async def reserve_all(counters: Counters, keyed: list[tuple[str, Limit]], refusal: str) -> Reservation:
    """Count one attempt on every key, in order; when one is blocked, give back the ones counted and refuse."""
    now = time.time()
    taken: list[str] = []
    for key, limit in keyed:
        wait = await counters.reserve(key, limit, now)
        if wait:
            for earlier in taken:
                await counters.release(earlier)
            raise TooManyRequests(refusal, retry_after=int(wait) + 1)
        taken.append(key)
    return Reservation(tuple(taken))


def hourly(count: int) -> Limit:
    """``count`` a rolling hour, each one counted whatever its outcome."""
    return Limit(free=count, first_wait=3600, max_wait=3600, forget_after=3600)


class RegistrationThrottle:
    """Registrations per client address and per email address, every one counted, accepted or not.

    Each registration costs an argon2 hash and sends a mail, so a client gets ``per_hour`` of them and an
    address is written to at most three times an hour (no one can flood someone else's inbox through us).
    """

    def __init__(self, counters: Counters, per_hour: int) -> None:
        self.counters = counters
        self.client_limit = hourly(per_hour)

    async def reserve(self, email: str, client: str) -> None:
        keyed = [(_key("register-ip", client), self.client_limit), (_key("register-email", email), hourly(3))]
        await reserve_all(self.counters, keyed, "too many registrations from here; wait before trying again")


class InvitationThrottle:
    """Invitations per inviting admin: enough for any real organisation, too few to probe who has an account."""

    def __init__(self, counters: Counters, per_hour: int = 30) -> None:
        self.counters = counters
        self.limit = hourly(per_hour)

    async def reserve(self, inviter: str) -> None:
        await reserve_all(
            self.counters, [(_key("invite", inviter), self.limit)], "too many invitations; wait before sending more"
        )
