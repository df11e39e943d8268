"""The body-time middleware: idle and total limits on how a request body arrives."""

from __future__ import annotations

import asyncio

import pytest

from portal.errors import RequestTimeout
from portal.security.limits import BodyTimeout


def _app(received: list):
    async def app(scope, receive, send):
        while True:
            message = await receive()
            received.append(message)
            if not message.get("more_body"):
                return

    return app


def _trickle(pause: float, chunks: int):
    sent = 0

    async def receive():
        nonlocal sent
        await asyncio.sleep(pause)
        sent += 1
        return {"type": "http.request", "body": b"x", "more_body": sent < chunks}

    return receive


async def _nothing(message) -> None:
    return None


async def test_a_body_that_keeps_coming_arrives_whole() -> None:
    received: list = []
    await BodyTimeout(_app(received), idle_seconds=1, total_seconds=5)({"type": "http"}, _trickle(0.01, 5), _nothing)
    assert len(received) == 5


async def test_a_pause_longer_than_the_idle_limit_is_a_timeout() -> None:
    with pytest.raises(RequestTimeout, match="arrived too slowly"):
        await BodyTimeout(_app([]), idle_seconds=0.05, total_seconds=5)({"type": "http"}, _trickle(0.2, 2), _nothing)


async def test_a_trickle_under_the_idle_limit_still_meets_the_total_limit() -> None:
    received: list = []
    with pytest.raises(RequestTimeout):
        await BodyTimeout(_app(received), idle_seconds=1, total_seconds=0.2)(
            {"type": "http"}, _trickle(0.05, 100), _nothing
        )
    assert 2 <= len(received) <= 5


async def test_after_the_body_the_wait_for_a_disconnect_is_not_timed() -> None:
    calls = 0

    async def receive():
        nonlocal calls
        calls += 1
        if calls == 1:
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(0.1)
        return {"type": "http.disconnect"}

    async def app(scope, receive, send):
        await receive()
        assert (await receive())["type"] == "http.disconnect"

    await BodyTimeout(app, idle_seconds=0.01, total_seconds=0.01)({"type": "http"}, receive, _nothing)
