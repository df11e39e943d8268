"""How a worker's status read model follows the log: what it forgets when the log grows, when the history
under it is another one (a restored database, even one that has grown past the old head since), and from
when its staleness bound and ``checked_at`` count."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import time

import msgspec
import pytest

from portal.db.reads import Reader
from portal.db.tables import LogEntry
from portal.domain.issuance import lookup
from portal.domain.issuance.lookup import StatusLookup

pytestmark = pytest.mark.usefixtures("app")
AT = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


async def _append(start: int, serials: list[str | None], history: str = "first") -> None:
    rows = []
    for offset, serial in enumerate(serials):
        body = f'{{"history":"{history}","index":{start + offset}}}'
        leaf = hashlib.sha256(b"\0" + body.encode()).hexdigest()
        event = "key" if serial is None else "revoke"
        rows.append(LogEntry(index=start + offset, body=body, leaf_hash=leaf, event=event, jti=serial, at=AT))
    await LogEntry.insert(*rows)


def _following() -> tuple[StatusLookup, list[str | None]]:
    status = StatusLookup(Reader(), lambda: asyncio.sleep(0))
    told: list[str | None] = []
    status.listeners.append(told.append)
    return status, told


async def test_a_grown_log_forgets_only_the_serials_it_names() -> None:
    await _append(0, ["PA-2026-000001", "PA-2026-000002"])
    status, told = _following()
    try:
        await status.confirm()
        assert told == [None]  # the first sight of the log: nothing kept is known to be current
        told.clear()
        await _append(2, ["PA-2026-000003", "PA-2026-000003", "PA-2026-000004"])
        await status.confirm()
        assert sorted(t for t in told if t is not None) == ["PA-2026-000003", "PA-2026-000004"] and None not in told
    finally:
        await status.stop()


async def test_a_key_entry_or_too_many_changes_forget_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    await _append(0, ["PA-2026-000001"])
    status, told = _following()
    try:
        await status.confirm()
        told.clear()
        await _append(1, [None])
        await status.confirm()
        assert told == [None]
        told.clear()
        monkeypatch.setattr(lookup, "_FORGET_ALL_AFTER", 2)
        await _append(2, ["PA-2026-000002", "PA-2026-000003", "PA-2026-000004"])
        await status.confirm()
        assert told == [None]
    finally:
        await status.stop()


async def test_a_restored_database_that_has_grown_past_the_old_head_forgets_everything() -> None:
    await _append(0, ["PA-2026-000001", "PA-2026-000002", "PA-2026-000003"])
    status, told = _following()
    try:
        await status.confirm()
        told.clear()
        # Another history in its place, already longer than the old head: entry 2 is not the entry 2 known.
        await LogEntry.delete(force=True)
        await _append(0, ["PA-2026-000001", "PA-2026-000009", "PA-2026-000002", "PA-2026-000005"], "restored")
        await status.confirm()
        assert told == [None]
        told.clear()
        await _append(4, ["PA-2026-000006"], "restored")  # and from there it follows that history as usual
        await status.confirm()
        assert told == ["PA-2026-000006"]
    finally:
        await status.stop()


async def test_staleness_and_checked_at_count_from_before_the_head_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    await _append(0, ["PA-2026-000001"])
    real_head = lookup.log_repo.head

    async def slow_head(reader: Reader) -> tuple[int, str]:
        await asyncio.sleep(0.3)  # a change committed now would be missed by this read
        return await real_head(reader)

    monkeypatch.setattr(lookup.log_repo, "head", slow_head)
    status, _ = _following()
    try:
        before, wall = time.monotonic(), dt.datetime.now(dt.UTC)
        await status.confirm()
        assert before <= status._confirmed < before + 0.1
        checked_at = msgspec.json.decode(b'"' + status._checked_at + b'"', type=dt.datetime)
        assert checked_at <= wall.replace(microsecond=0) + dt.timedelta(seconds=1)
        assert checked_at >= wall.replace(microsecond=0) - dt.timedelta(seconds=1)
        assert time.monotonic() - status._confirmed >= 0.3  # the 0.3 s of the read already count against the bound
    finally:
        await status.stop()
