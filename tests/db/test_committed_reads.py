"""Public reads outside a transaction go through plain SQL (``portal.db.reads.COMMITTED``) and see what is
committed; inside a transaction they go through the ORM and see the transaction's own writes."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.db import atomic
from portal.db.reads import in_transaction
from portal.db.tables import LogCheckpoint, LogEntry
from portal.domain.log import repo

pytestmark = pytest.mark.usefixtures("app")
AT = dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC)


async def test_reads_see_committed_rows_outside_and_their_own_writes_inside_a_transaction() -> None:
    assert not in_transaction()
    assert await repo.latest_checkpoint() is None and await repo.entry_of("PA-2026-000001", event="issue") is None
    async with atomic():
        assert in_transaction()
        await LogEntry.insert(
            LogEntry(index=0, body="{}", leaf_hash="ab" * 32, event="issue", jti="PA-2026-000001", at=AT)
        )
        await LogCheckpoint.insert(LogCheckpoint(size=1, root_hash="cd" * 32, note="note", at=AT))
        inside = await repo.entry_of("PA-2026-000001", event="issue")
        assert inside is not None and inside.index == 0  # its own write, not yet committed
        assert (await repo.latest_checkpoint()) is not None
    assert not in_transaction()
    entry = await repo.entry_of("PA-2026-000001", event="issue")
    latest = await repo.entry_of("PA-2026-000001", event=None)
    assert (
        entry
        == latest
        == repo.EntryRow(index=0, body="{}", leaf_hash="ab" * 32, event="issue", jti="PA-2026-000001", at=AT)
    )
    assert await repo.latest_checkpoint() == repo.CheckpointRow(size=1, root_hash="cd" * 32, note="note", at=AT)
    assert await repo.entry_bodies(0, 5) == ["{}"]
