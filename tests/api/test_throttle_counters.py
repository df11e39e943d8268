"""The throttle's two shared counters (the database's and Redis's) take the same steps."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest

from portal.security.throttle import ACCOUNT, CLIENT, Counters, DatabaseCounters, RedisCounters

# One Redis database per pass: make test runs the SQLite and PostgreSQL passes at the same time.
_REDIS_DB = 14 if os.environ.get("PORTAL_TEST_DATABASE") == "postgres" else 15
REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{_REDIS_DB}")


@pytest.fixture(params=["database", "redis"])
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[Counters]:
    if request.param == "database":
        yield DatabaseCounters()
        return
    redis = RedisCounters(REDIS_URL, namespace=f"portal-test-{uuid.uuid4().hex}")
    try:
        await redis._redis.ping()
    except OSError as exc:  # redis' ConnectionError is an OSError
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    yield redis
    await redis._redis.aclose()


async def test_the_account_waits_after_five_failures_doubling(counters: Counters) -> None:
    now = 1_000_000.0
    assert [await counters.reserve("a", ACCOUNT, now) for _ in range(5)] == [0, 0, 0, 0, 0]
    assert await counters.reserve("a", ACCOUNT, now + 1) == 29.0
    assert await counters.reserve("other", ACCOUNT, now + 1) == 0  # keys are independent
    assert await counters.reserve("a", ACCOUNT, now + 30) == 0  # the sixth attempt, after 30 s ...
    assert await counters.reserve("a", ACCOUNT, now + 30) == 60.0  # ... starts a 60 s wait
    await counters.release("a")  # ... unless it was right
    assert await counters.reserve("a", ACCOUNT, now + 31) == 0
    await counters.clear("a", now + 31)
    assert [await counters.reserve("a", ACCOUNT, now + 32) for _ in range(5)] == [0, 0, 0, 0, 0]
    assert await counters.reserve("a", ACCOUNT, now + 32) == 30.0


async def test_the_client_limit_and_forgetting(counters: Counters) -> None:
    now = 2_000_000.0
    assert {await counters.reserve("ip", CLIENT, now) for _ in range(CLIENT.free)} == {0}
    assert await counters.reserve("ip", CLIENT, now) == 15 * 60
    assert await counters.reserve("ip", CLIENT, now + 15 * 60) == 0


async def test_a_key_idle_past_its_time_starts_afresh(counters: Counters) -> None:
    if isinstance(counters, RedisCounters):
        pytest.skip("Redis forgets by EXPIRE on its own clock")
    now = 3_000_000.0
    for _ in range(4):
        await counters.reserve("a", ACCOUNT, now)
    later = now + ACCOUNT.forget_after + 1
    assert [await counters.reserve("a", ACCOUNT, later) for _ in range(5)] == [0, 0, 0, 0, 0]
