"""Stopping a worker's status lookup ends a confirmation of the log head still under way, so nothing is left to
fail on the closed pool unheard ("Task exception was never retrieved")."""

from __future__ import annotations

import asyncio
import gc

import pytest

from portal.db.reads import Reader
from portal.domain.issuance import lookup
from portal.domain.issuance.lookup import StatusLookup

pytestmark = pytest.mark.usefixtures("app")


async def test_stop_ends_a_confirmation_under_way(monkeypatch: pytest.MonkeyPatch) -> None:
    asked, release = asyncio.Event(), asyncio.Event()
    real_head = lookup.log_repo.head

    async def slow_head(reader: Reader) -> tuple[int, str]:
        asked.set()
        await release.wait()  # never set: only stop() can end it
        return await real_head(reader)

    monkeypatch.setattr(lookup.log_repo, "head", slow_head)
    unheard: list[dict[str, object]] = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: unheard.append(context))
    try:
        status = StatusLookup(Reader(), lambda: asyncio.sleep(0), poll_seconds=0.01)
        status.start()
        await asyncio.wait_for(asked.wait(), 5)
        confirming = status._confirming
        assert confirming is not None and not confirming.done()
        await status.stop()
        assert confirming.cancelled()
        assert status._poller is None and status._confirming is None
        del confirming
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    assert unheard == []
