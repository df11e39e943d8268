"""Audit anchors (issue #13): the audit chain's head goes into the transparency log every M events (or N
minutes), and `portal audit verify` fails, naming the anchor, when the trail ends before an anchored event or
the anchored hash differs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portal.db.tables import AuditEvent, LogEntry
from portal.domain.audit.services import event_digest, record
from portal.domain.context import SYSTEM

PORTAL = str(Path(sys.executable).parent / "portal")


@pytest.fixture
def anchors(runtime: Any) -> Iterator[Any]:
    """Anchoring every 3 events (and, unless a test says otherwise, never by time)."""
    anchors = runtime.audit_anchors
    saved = anchors.events, anchors.minutes
    anchors.events, anchors.minutes = 3, 10**9
    anchors.forget()
    yield anchors
    anchors.events, anchors.minutes = saved
    anchors.forget()


async def events(n: int) -> None:
    for i in range(n):
        await record(SYSTEM, "test.event", object_type="test", object_id=i)


async def anchor_entries() -> list[dict[str, Any]]:
    rows = await LogEntry.select(LogEntry.index, LogEntry.body).where(LogEntry.event == "audit-anchor").run()
    return [{**json.loads(r["body"]), "index": r["index"]} for r in sorted(rows, key=lambda r: r["index"])]


async def trail() -> list[dict[str, Any]]:
    return await AuditEvent.select().order_by(AuditEvent.seq).output(load_json=True)


def audit_verify(settings: Any) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": settings.database_url,
        "PORTAL_DATA_DIR": settings.data_dir,
        "PORTAL_SECRET_KEY": settings.secret_key,
        "PORTAL_ISSUER": settings.issuer,
    }
    return subprocess.run(
        [PORTAL, "audit", "verify"], capture_output=True, text=True, env=env, timeout=120, check=False
    )


async def test_an_anchor_is_written_every_m_events(anchors) -> None:
    await events(7)
    rows = await trail()
    # Counted from the last anchor (from seq 0 before the first): PostgreSQL's sequence does not restart
    # between tests, SQLite's does, so the first anchored seq depends on the first seq.
    expected, base = [], 0
    for row in rows:
        if row["seq"] - base >= 3:
            expected.append(row)
            base = row["seq"]
    found = await anchor_entries()
    assert [a["seq"] for a in found] == [r["seq"] for r in expected] and len(found) >= 2
    for anchor, row in zip(found, expected, strict=True):
        assert anchor["head"] == row["hash"] and anchor["event"] == "audit-anchor"
        assert set(anchor) == {"event", "seq", "head", "at", "index"}
    # every anchor is an ordinary entry: the log still verifies
    assert (await anchors.log.verify()).ok


async def test_an_anchor_is_written_when_the_minutes_have_passed(anchors) -> None:
    anchors.events, anchors.minutes = 10**9, 0  # every event is "N minutes" after the last anchor
    await events(2)
    assert [a["seq"] for a in await anchor_entries()] == [r["seq"] for r in await trail()]


async def test_audit_verify_checks_the_trail_against_the_anchors(anchors, settings) -> None:
    await events(4)
    anchor = (await anchor_entries())[-1]
    intact = audit_verify(settings)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "chain intact" in intact.stdout
    assert f"the last, log entry {anchor['index']}, anchors event {anchor['seq']}" in intact.stdout

    # The end of the trail deleted, from the anchored event on: the chain alone cannot tell.
    anchors.events = 10**9  # nothing below writes another anchor
    rows = await trail()
    removed = [r for r in rows if r["seq"] >= anchor["seq"]]
    await AuditEvent.delete().where(AuditEvent.seq >= anchor["seq"])
    done = audit_verify(settings)
    assert done.returncode == 1, done.stdout + done.stderr
    last = max(r["seq"] for r in rows if r["seq"] < anchor["seq"])
    assert (
        f"the audit-anchor in log entry {anchor['index']} anchors event {anchor['seq']}, but the trail ends at "
        f"event {last}"
    ) in done.stdout

    # Put back with the chain rewritten from one event on (every hash recomputed): the chain checks, the
    # anchor does not.
    for row in removed:
        await AuditEvent.insert(AuditEvent(**{k: v for k, v in row.items()})).run()
    rewritten = await trail()
    prev = rewritten[0]["prev_hash"]
    for i, row in enumerate(rewritten):
        if i == 0:
            row["after"] = {"forged": True}
        digest = event_digest(row, prev)
        await AuditEvent.update(
            {AuditEvent.after: row["after"], AuditEvent.prev_hash: prev, AuditEvent.hash: digest}
        ).where(AuditEvent.seq == row["seq"])
        prev = digest
    done = audit_verify(settings)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[0].endswith("TAMPERED")
    assert "does not follow" not in done.stdout and "do not match its hash" not in done.stdout  # a clean chain
    assert f"the audit-anchor in log entry {anchor['index']} anchors event {anchor['seq']} with hash" in done.stdout
