"""The public rate limiter on both of its stores: exactly the limit per window, per group and address, then a
refusal with the seconds to the window's end; a new window starts afresh."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest

from portal.errors import TooManyRequests
from portal.security.ratelimit import RateLimiter
from portal.security.throttle import Counters, MemoryCounters, RedisCounters

_REDIS_DB = 14 if os.environ.get("PORTAL_TEST_DATABASE") == "postgres" else 15
REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{_REDIS_DB}")


@pytest.fixture(params=["memory", "redis"])
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[Counters]:
    if request.param == "memory":
        yield MemoryCounters()
        return
    redis = RedisCounters(REDIS_URL, namespace=f"portal-rate-test-{uuid.uuid4().hex}")
    try:
        await redis._redis.ping()
    except OSError as exc:  # redis' ConnectionError is an OSError
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    yield redis
    await redis._redis.aclose()


async def test_the_limit_per_window_group_and_address(counters: Counters) -> None:
    limiter = RateLimiter(counters, window=60, default=3, groups={"verify": 1})
    start = 6_000_000.0  # a window boundary (a multiple of 60)
    for _ in range(3):
        await limiter.hit("log", "198.51.100.7", now=start + 10)
    with pytest.raises(TooManyRequests) as refused:
        await limiter.hit("log", "198.51.100.7", now=start + 10.5)
    assert refused.value.retry_after == 50  # the seconds left in the window, rounded up
    await limiter.hit("log", "198.51.100.8", now=start + 11)  # another address
    await limiter.hit("jwks", "198.51.100.7", now=start + 11)  # another group
    await limiter.hit("verify", "198.51.100.7", now=start + 11)
    with pytest.raises(TooManyRequests):
        await limiter.hit("verify", "198.51.100.7", now=start + 12)
    for _ in range(3):  # the next window
        await limiter.hit("log", "198.51.100.7", now=start + 60)


def test_the_memory_store_forgets_old_windows() -> None:
    import asyncio

    store = MemoryCounters(sweep_above=5)
    limiter = RateLimiter(store, window=1, default=100)
    for second in range(20):
        asyncio.run(limiter.hit("log", "203.0.113.1", now=1000.0 + second))
    assert len(store._states) <= 6
