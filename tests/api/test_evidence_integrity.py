"""Evidence files under races and crashes: shared bytes across organisations, missing files, kill -9, sweeps."""

from __future__ import annotations

import asyncio
import fcntl
import json
import stat
import uuid

import httpx
import pytest

from portal.db.tables import Assessment, AuditEvent, Evidence, Revision
from tests.api.test_assessments import answer_all, open_assessment
from tests.conftest import PASSWORD
from tests.served import Served, run_portal

pytestmark = pytest.mark.usefixtures("baseline")


def _store(app):
    return app.state.runtime.evidence.store


async def test_a_delete_racing_another_organisations_upload_of_the_same_bytes_never_loses_its_file(app, actors) -> None:
    a, _ = await actors.provider()
    b, _ = await actors.provider()
    a_assessment, b_assessment = await open_assessment(a), await open_assessment(b)
    for attempt in range(20):
        body = f"shared policy text, attempt {attempt} {uuid.uuid4()}\n".encode()
        first = await a.post(f"/api/v1/assessments/{a_assessment['id']}/evidence", files={"file": ("p.txt", body)})
        assert first.status_code == 201
        deleted, uploaded = await asyncio.gather(
            a.delete(f"/api/v1/evidence/{first.json()['id']}"),
            b.post(f"/api/v1/assessments/{b_assessment['id']}/evidence", files={"file": ("p.txt", body)}),
        )
        assert (deleted.status_code, uploaded.status_code) == (204, 201)
        download = await b.get(f"/api/v1/evidence/{uploaded.json()['id']}")
        assert (download.status_code, download.content) == (200, body), f"attempt {attempt}"
    assert await Evidence.count() == 20


async def test_a_record_whose_file_is_gone_is_a_plain_500_that_names_no_path(app, actors) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    up = await client.post(f"/api/v1/assessments/{assessment['id']}/evidence", files={"file": ("a.txt", b"abc\n")})
    path = _store(app).path(up.json()["sha256"])
    path.chmod(0o600)
    path.unlink()
    gone = await client.get(f"/api/v1/evidence/{up.json()['id']}")
    assert gone.status_code == 500 and gone.headers["content-type"] == "application/problem+json"
    assert gone.json()["type"] == "/problems/internal-error"
    assert str(_store(app).root) not in gone.text and up.json()["sha256"] not in gone.text


async def test_sweep_removes_dead_temporaries_and_unrecorded_files_and_nothing_else(app, actors, settings) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    kept = await client.post(f"/api/v1/assessments/{assessment['id']}/evidence", files={"file": ("k.txt", b"kept\n")})
    store = _store(app)
    orphan_sha = "ab" + "0" * 62
    store.path(orphan_sha).parent.mkdir(exist_ok=True)
    store.path(orphan_sha).write_bytes(b"left by a crash between rename and commit")
    dead = store.tmp / "dead.part"
    dead.write_bytes(b"half an upload")
    live = store.tmp / "live.part"
    with live.open("wb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # an upload in progress in another process
        done = await run_portal(settings, "evidence", "sweep", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"temporaries": 1, "orphans": 1}
    assert not dead.exists() and live.exists() and not store.path(orphan_sha).exists()
    assert store.exists(kept.json()["sha256"])
    live.unlink()


async def test_cross_tenant_evidence_probes_answer_404_and_are_audited(actors) -> None:
    owner, _ = await actors.provider()
    other, _ = await actors.provider()
    assessment = await open_assessment(owner)
    up = await owner.post(f"/api/v1/assessments/{assessment['id']}/evidence", files={"file": ("a.txt", b"abc\n")})
    evidence_id, assessment_id = up.json()["id"], assessment["id"]
    probes = [
        await other.get(f"/api/v1/assessments/{assessment_id}/evidence"),
        await other.get(f"/api/v1/evidence/{evidence_id}"),
        await other.delete(f"/api/v1/evidence/{evidence_id}"),
        await other.post(f"/api/v1/assessments/{assessment_id}/evidence", files={"file": ("b.txt", b"x\n")}),
    ]
    assert [p.status_code for p in probes] == [404, 404, 404, 404]
    denied = await AuditEvent.select(AuditEvent.object_type, AuditEvent.object_id).where(
        AuditEvent.action == "permission.denied"
    )
    assert sorted((d["object_type"], d["object_id"]) for d in denied) == sorted(
        [
            ("assessment", assessment_id),
            ("evidence", evidence_id),
            ("evidence", evidence_id),
            ("assessment", assessment_id),
        ]
    )
    assert await Evidence.count() == 1


async def _login(base: str, email: str) -> str:
    async with httpx.AsyncClient(base_url=base) as client:
        response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return str(response.json()["token"])


async def test_kill_9_mid_upload_leaves_nothing_after_the_restart(app, actors, settings) -> None:
    _, user = await actors.provider()
    admin = await actors.login(user["email"])
    assessment = await open_assessment(admin)
    store = _store(app)
    server = Served(settings)
    try:
        token = await _login(server.base, user["email"])
        sent = asyncio.Event()

        async def body():
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n\r\n'
            for index in range(40):
                yield b"a" * 256 * 1024
                if index == 8:
                    sent.set()
                await asyncio.sleep(0.02)
            yield b"\r\n--b--\r\n"

        async def upload():
            async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
                await client.post(
                    f"/api/v1/assessments/{assessment['id']}/evidence",
                    content=body(),
                    headers={"authorization": f"Bearer {token}", "content-type": "multipart/form-data; boundary=b"},
                )

        task = asyncio.create_task(upload())
        await asyncio.wait_for(sent.wait(), 10)
        await asyncio.sleep(0.2)
        parts = list(store.tmp.glob("*.part"))
        assert len(parts) == 1 and stat.S_IMODE(parts[0].stat().st_mode) == 0o600
        server.kill()
        with pytest.raises(httpx.HTTPError):
            await task
        assert [p.name for p in store.tmp.glob("*.part")] == [parts[0].name]  # the crash left it
    finally:
        server.stop()
    restarted = Served(settings)  # its start-up sweep removes what the killed process left
    restarted.stop()
    assert list(store.tmp.glob("*.part")) == []
    assert [p for p in store.root.rglob("*") if p.is_file()] == []
    assert await Evidence.count() == 0


async def test_kill_9_mid_submit_leaves_a_whole_revision_or_none(app, actors, settings) -> None:
    _, user = await actors.provider()
    admin = await actors.login(user["email"])
    assessment = await open_assessment(admin)
    await answer_all(admin, assessment["id"])
    outcomes = []
    for delay in (0.0, 0.01, 0.03, 0.08, 0.2):
        server = Served(settings)
        try:
            token = await _login(server.base, user["email"])
            client = httpx.AsyncClient(base_url=server.base, timeout=10)
            task = asyncio.create_task(
                client.post(
                    f"/api/v1/assessments/{assessment['id']}/submit", headers={"authorization": f"Bearer {token}"}
                )
            )
            await asyncio.sleep(delay)
            server.kill()
            try:
                await task
            except httpx.HTTPError:
                pass
            await client.aclose()
        finally:
            server.stop()
        row = (
            await Assessment.select(Assessment.state, Assessment.revision)
            .where(Assessment.id == assessment["id"])
            .first()
        )
        revisions = await Revision.count().where(Revision.assessment == assessment["id"])
        outcomes.append(row["state"])
        # All of it or none of it: the state, the revision number and the frozen revision row agree.
        assert (row["state"], row["revision"], revisions) in {("draft", 0, 0), ("submitted", 1, 1)}, delay
        if row["state"] == "submitted":
            break
    assert outcomes[-1] in {"draft", "submitted"}


async def test_a_huge_field_before_the_file_counts_against_the_upload_limit(app, actors, monkeypatch) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    monkeypatch.setattr(app.state.runtime.evidence, "max_upload_bytes", 100_000)
    response = await client.post(
        f"/api/v1/assessments/{assessment['id']}/evidence",
        data={"padding": "x" * 300_000},
        files={"file": ("a.txt", b"small\n")},
    )
    assert response.status_code == 413 and response.json()["type"] == "/problems/too-large"
    assert await Evidence.count() == 0 and list(_store(app).tmp.glob("*.part")) == []


async def test_a_stalled_body_is_cut_off_with_a_408(settings) -> None:
    server = Served(settings, PORTAL_BODY_IDLE_SECONDS="0.5", PORTAL_BODY_TOTAL_SECONDS="3")
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        started = asyncio.get_running_loop().time()
        writer.write(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\ncontent-type: application/json\r\n"
            b'content-length: 100\r\n\r\n{"email": ' % server.port
        )
        await writer.drain()
        head = await asyncio.wait_for(reader.read(4096), 10)
        elapsed = asyncio.get_running_loop().time() - started
        writer.close()
        assert head.startswith(b"HTTP/1.1 408"), head[:200]
        assert b"application/problem+json" in head and elapsed < 5
    finally:
        server.stop()


async def test_an_answer_racing_an_evidence_delete_never_keeps_a_dangling_link(actors) -> None:
    from portal.db.tables import Answer
    from tests.api.test_assessments import TELECOM, implemented

    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    await answer_all(client, assessment["id"])
    url = f"/api/v1/assessments/{assessment['id']}"
    for attempt in range(15):
        up = await client.post(f"{url}/evidence", files={"file": ("e.txt", f"evidence {attempt}\n".encode())})
        current = await Answer.select(Answer.version).where(Answer.control_id == TELECOM[0]).first()
        saved, deleted = await asyncio.gather(
            client.put(
                f"{url}/answers/{TELECOM[0]}",
                json={**implemented(), "evidence_ids": [up.json()["id"]]},
                headers={"If-Match": f'"{current["version"]}"'},
            ),
            client.delete(f"/api/v1/evidence/{up.json()['id']}"),
        )
        assert deleted.status_code == 204 and saved.status_code in (200, 409, 422), saved.text
        links = (
            await Answer.select(Answer.evidence_ids).where(Answer.assessment == assessment["id"]).output(load_json=True)
        )
        assert all(not row["evidence_ids"] for row in links), f"attempt {attempt}"
    submitted = await client.post(f"{url}/submit")
    assert submitted.status_code == 200 and submitted.json()["revision"]["number"] == 1


async def test_submit_lists_a_link_to_evidence_that_no_longer_exists(actors) -> None:
    from portal.db.tables import Answer
    from tests.api.test_assessments import TELECOM

    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    await answer_all(client, assessment["id"])
    ghost = str(uuid.uuid4())  # a link left by data written before the check existed
    await Answer.update({Answer.evidence_ids: [ghost]}).where(Answer.control_id == TELECOM[1])
    refused = await client.post(f"/api/v1/assessments/{assessment['id']}/submit")
    assert refused.status_code == 422
    assert refused.json()["missing"] == [
        f"{TELECOM[1]}: evidence_ids: evidence {ghost} no longer exists; link it again"
    ]
    detail = await client.get(f"/api/v1/assessments/{assessment['id']}")
    assert detail.json()["missing"] == refused.json()["missing"] and detail.json()["state"] == "draft"
