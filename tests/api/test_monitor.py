"""`portal monitor` against a served portal (issue #13): it agrees with an honest portal, and catches each way of
changing the database behind the portal's back — an edited entry, a status changed without a log entry, the
end of the log deleted after the monitor saw it — with exit 1 and a line naming it. Run as a user would: the
installed `portal monitor` command, over HTTP only."""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from attestations.status_list import StatusList
from attestations.tokens import unverified_claims
from portal.db.tables import AttestationRow, LogCheckpoint, LogEntry, LogNode, StatusListRow
from tests.api.test_issuance import issued, officer
from tests.conftest import Actors, Client
from tests.served import PORTAL, Served

pytestmark = pytest.mark.usefixtures("baseline")


@pytest.fixture
def server(settings: Any, app: Any) -> Iterator[Served]:
    served = Served(settings)
    yield served
    served.stop()


@pytest.fixture
def outside(app: Any, server: Served) -> Actors:
    """People acting through the served portal's HTTP API (accounts are made in the database, as the CLI does)."""
    return Actors(app, lambda: Client(base_url=server.base, timeout=60))


def monitor(server: Served, state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [PORTAL, "monitor", "--url", server.base, "--state", str(state), "--settle", "0", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def report(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return json.loads(done.stdout)


async def lifecycle(signer: Client, serial: str, action: str) -> None:
    bodies = {
        "suspend": {"reason": "audit", "until": (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()},
        "revoke": {"reason": "misrepresentation", "detail": "forged evidence"},
        "reinstate": {"reason": "audit closed"},
    }
    response = await signer.post(f"/api/v1/attestations/{serial}/{action}", json=bodies[action])
    assert response.status_code == 200, response.text


async def log_size() -> int:
    return int(await LogEntry.count())


async def test_the_monitor_agrees_with_an_honest_portal(outside, server, tmp_path) -> None:
    state = tmp_path / "state.json"
    serials = [(await issued(outside))[4]["serial"] for _ in range(3)]
    signer = await officer(outside)
    await lifecycle(signer, serials[1], "suspend")
    await lifecycle(signer, serials[2], "revoke")

    first = monitor(server, state, "--json")
    assert first.returncode == 0, first.stdout + first.stderr
    body = report(first)
    size = await log_size()
    assert body["ok"] and body["divergences"] == [] and body["state_saved"]
    assert (body["size"], body["new_entries"], body["previous_size"]) == (size, size, None)
    assert body["attestations"] == {"active": 1, "revoked": 1, "suspended": 1}
    assert body["compared"]["documents"] == 3 and body["compared"]["status lists"] == 1
    assert body["keys"] == body["compared"]["keys"] >= 3  # every published key has its `key` entry
    saved = json.loads(state.read_text())
    assert saved["size"] == size and set(saved["replay"]["attestations"]) == set(serials)

    await lifecycle(signer, serials[1], "reinstate")
    second = monitor(server, state)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"log: {size + 1} entries, 1 read this run (after {size} seen before)" in second.stdout
    assert "attestations replayed: 2 active, 1 revoked" in second.stdout
    assert second.stdout.rstrip().endswith("OK: everything published agrees with the log")


async def test_an_edited_entry_is_caught(outside, server, tmp_path) -> None:
    state = tmp_path / "state.json"
    serial = (await issued(outside))[4]["serial"]
    assert monitor(server, state).returncode == 0
    issue_index = await log_size() - 1

    # An entry the monitor has not read yet: the suspension, rewritten as a revocation.
    await lifecycle(await officer(outside), serial, "suspend")
    index = await log_size() - 1
    row = await LogEntry.select(LogEntry.body).where(LogEntry.index == index).first()
    forged = row["body"].replace('"event":"suspend"', '"event":"revoke"')
    assert forged != row["body"]
    await LogEntry.update({LogEntry.body: forged}).where(LogEntry.index == index)
    done = monitor(server, state)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"  entry {index}: the log says leaf hash" in done.stdout and "the entry was edited" in done.stdout
    assert "state not saved" in done.stdout
    assert json.loads(state.read_text())["size"] == index  # the state still holds the last good checkpoint

    # An entry it has read before: found when it re-reads the whole log.
    await LogEntry.update({LogEntry.body: row["body"]}).where(LogEntry.index == index)
    assert monitor(server, state).returncode == 0
    issue = await LogEntry.select(LogEntry.body).where(LogEntry.index == issue_index).first()
    await LogEntry.update({LogEntry.body: issue["body"].replace(serial, serial[:-1] + "9")}).where(
        LogEntry.index == issue_index
    )
    assert monitor(server, state).returncode == 0  # only new entries are read by default
    done = monitor(server, state, "--full")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"  entry {issue_index}: the log says leaf hash" in done.stdout


async def _flip_list_entry(serial: str, value: int) -> tuple[int, int]:
    row = await AttestationRow.select(AttestationRow.token).where(AttestationRow.serial == serial).first()
    reference = unverified_claims(row["token"]).status.status_list
    list_id = int(reference.uri.rsplit("/", 1)[1])
    stored = await StatusListRow.select().where(StatusListRow.id == list_id).first()
    entries = StatusList(stored["size"], stored["bits"], data=base64.b64decode(stored["data"]))
    entries.set(reference.idx, value)
    # The version moves on too, as the portal's own writes do, so the portal signs the changed list.
    await StatusListRow.update(
        {
            StatusListRow.data: base64.b64encode(entries.to_bytes()).decode(),
            StatusListRow.version: stored["version"] + 1,
        }
    ).where(StatusListRow.id == list_id)
    return reference.idx, list_id


async def test_a_status_changed_without_a_log_entry_is_caught(outside, server, tmp_path) -> None:
    state = tmp_path / "state.json"
    first, second = [(await issued(outside))[4]["serial"] for _ in range(2)]
    assert monitor(server, state).returncode == 0

    index, list_id = await _flip_list_entry(first, 1)  # revoked in the signed list, and nowhere in the log
    done = monitor(server, state)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"  {first}: the log says active; /api/v1/status-lists/{list_id} index {index} is revoked" in done.stdout
    await _flip_list_entry(first, 0)
    assert monitor(server, state).returncode == 0

    await AttestationRow.update({AttestationRow.status: "revoked"}).where(AttestationRow.serial == second)
    done = monitor(server, state)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"  {second}: the log says active; GET /api/v1/attestations/{second} says revoked" in done.stdout
    assert "state not saved" not in done.stdout  # the log itself is sound; the next run checks again
    assert monitor(server, state).returncode == 1


async def test_the_status_endpoint_is_compared_with_the_log(outside, server, tmp_path) -> None:
    state = tmp_path / "state.json"
    serial = (await issued(outside))[4]["serial"]
    body = report(monitor(server, state, "--json"))
    assert body["ok"] and body["compared"]["status answers"] == 1 and body["skipped"] == []
    await AttestationRow.update({AttestationRow.status: "suspended"}).where(AttestationRow.serial == serial)
    done = monitor(server, state, "--settle", "2")
    assert done.returncode == 1
    # The status read model follows the log (a change reaches it with its log entry), so the row flipped
    # behind the log shows through the attestation's own answer; after a restart it would show through the
    # status endpoint too. Either way the monitor names the serial and what each side says.
    assert f"  {serial}: the log says active; GET /api/v1/attestations/{serial} says suspended" in done.stdout


async def _truncate(size: int) -> None:
    """Delete every entry from ``size`` on, the nodes they completed and the checkpoints past ``size``."""
    await LogEntry.delete().where(LogEntry.index >= size)
    for row in await LogNode.select(LogNode.key, LogNode.level, LogNode.index).run():
        if (row["index"] + 1) << row["level"] > size:
            await LogNode.delete().where(LogNode.key == row["key"])
    await LogCheckpoint.delete().where(LogCheckpoint.size > size)


async def test_the_end_of_the_log_deleted_after_the_monitor_saw_it_is_caught(outside, server, tmp_path) -> None:
    state = tmp_path / "state.json"
    serial = (await issued(outside))[4]["serial"]
    signer = await officer(outside)
    await lifecycle(signer, serial, "revoke")
    assert monitor(server, state).returncode == 0
    seen = await log_size()

    await _truncate(seen - 1)  # the revocation is gone from the log
    done = monitor(server, state)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"  log: the log says {seen} entries with root" in done.stdout
    assert f"the checkpoint now has {seen - 1} entries: the log shrank" in done.stdout

    # The log grows back to the size the monitor saw: a different tree of that size, not the one it saw.
    await issued(outside)
    assert await log_size() == seen
    done = monitor(server, state)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "does not extend it (forked or rewritten)" in done.stdout
    assert json.loads(state.read_text())["size"] == seen
