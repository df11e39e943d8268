"""Evidence: streamed and hashed, type sniffed, size-limited, no orphans, downloads for owner and regulators."""

from __future__ import annotations

import base64
import hashlib
import uuid

import pytest

from portal.db.tables import AuditEvent, Evidence
from portal.domain.evidence.storage import sniff
from tests.api.test_assessments import TELECOM, answer_all, open_assessment

pytestmark = pytest.mark.usefixtures("baseline")

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def filed(actors):
    client, me = await actors.provider()
    assessment = await open_assessment(client)
    return client, me, assessment


def _stored_files(app) -> list:
    root = app.state.runtime.evidence.store.root
    return sorted(p.name for p in root.rglob("*") if p.is_file())


async def test_upload_hashes_sniffs_and_sanitises(app, filed) -> None:
    client, me, assessment = filed
    response = await client.post(
        f"/api/v1/assessments/{assessment['id']}/evidence",
        files={"file": ("../../etc/Policy<v2>.pdf", PDF, "text/plain")},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest() and body["size"] == len(PDF)
    assert body["media_type"] == "application/pdf"  # decided by the bytes, not the client's claim
    assert body["filename"] == "Policy_v2_.pdf" and body["frozen"] is False
    path = app.state.runtime.evidence.store.path(body["sha256"])
    assert path.read_bytes() == PDF
    row = await Evidence.select(Evidence.organisation).where(Evidence.id == body["id"]).first()
    assert str(row["organisation"]) == me["organisation_id"]


@pytest.mark.parametrize(
    ("name", "content", "media_type"),
    [
        ("shot.bin", PNG, "image/png"),
        ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 16, "image/jpeg"),
        ("notes.txt", "Politique de sécurité\n".encode(), "text/plain"),
        ("assets.csv", b"id,name\n1,x\n", "text/csv"),
        ("sbom.json", b'  {"bomFormat": "CycloneDX"}', "application/json"),
    ],
)
async def test_allowed_types_are_recognised(filed, name, content, media_type) -> None:
    client, _, assessment = filed
    response = await client.post(f"/api/v1/assessments/{assessment['id']}/evidence", files={"file": (name, content)})
    assert response.status_code == 201 and response.json()["media_type"] == media_type


@pytest.mark.parametrize(
    ("name", "content"),
    [("archive.pdf", b"PK\x03\x04" + b"\x00" * 32), ("tool.exe", b"MZ\x90\x00\x03"), ("empty.txt", b"")],
)
async def test_refused_types_leave_nothing(app, filed, name, content) -> None:
    client, _, assessment = filed
    response = await client.post(
        f"/api/v1/assessments/{assessment['id']}/evidence", files={"file": (name, content, "application/pdf")}
    )
    assert response.status_code == 422 and response.json()["field"] == "file"
    assert await Evidence.count() == 0 and _stored_files(app) == []


async def test_oversized_upload_is_refused_while_streaming(app, filed, monkeypatch) -> None:
    client, _, assessment = filed
    runtime = app.state.runtime
    monkeypatch.setattr(runtime.evidence, "max_upload_bytes", 1024)
    response = await client.post(
        f"/api/v1/assessments/{assessment['id']}/evidence", files={"file": ("big.txt", b"a" * 5000)}
    )
    assert response.status_code == 413 and response.json()["type"].endswith("/too-large")
    assert await Evidence.count() == 0 and _stored_files(app) == []


async def test_a_multipart_body_parsed_off_the_loop_stores_exactly_its_file(app, filed) -> None:
    """Several writer batches, boundary-like text inside the file and the boundary's delimiter across chunks."""
    import hashlib

    client, _, assessment = filed
    boundary = "------------------------d74496d66958873e"
    line = f"text\r\n--{boundary[:-1]}x\r\n--\r\n".encode()  # almost the delimiter, many times
    content = (line * (3 * 1024 * 1024 // len(line) + 1))[: 3 * 1024 * 1024 + 17]
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="spans.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )

    async def in_odd_pieces():
        for start in range(0, len(body), 65_521):  # a prime: the delimiter falls across two pieces somewhere
            yield body[start : start + 65_521]

    response = await client.post(
        f"/api/v1/assessments/{assessment['id']}/evidence",
        content=in_odd_pieces(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["size"] == len(content)
    assert response.json()["sha256"] == hashlib.sha256(content).hexdigest()
    assert _stored_files(app) == [hashlib.sha256(content).hexdigest()]


async def test_a_body_that_ends_inside_the_file_or_overruns_the_limit_late_leaves_nothing(
    app, filed, monkeypatch
) -> None:
    client, _, assessment = filed
    url = f"/api/v1/assessments/{assessment['id']}/evidence"
    head = b'--abc\r\nContent-Disposition: form-data; name="file"; filename="cut.txt"\r\n\r\n'
    cut = await client.post(
        url, content=head + b"a" * 3_000_000, headers={"content-type": "multipart/form-data; boundary=abc"}
    )
    assert cut.status_code == 422 and cut.json()["detail"] == "the upload ended before the file did"
    monkeypatch.setattr(app.state.runtime.evidence, "max_upload_bytes", 1_500_000)  # past the first batch
    # Within the body's limit (the file's and 64 KiB), over the file's: found as it is parsed, on the writer thread.
    big = await client.post(url, files={"file": ("big.txt", b"a" * 1_530_000)})
    assert big.status_code == 413 and big.json()["detail"] == "evidence files are limited to 1 MB"
    # Over the body's: found as it arrives, before it is queued.
    huge = await client.post(url, files={"file": ("huge.txt", b"a" * 3_000_000)})
    assert huge.status_code == 413 and huge.json()["detail"] == "evidence uploads are limited to 1 MB"
    assert await Evidence.count() == 0 and _stored_files(app) == []


async def test_missing_file_field_and_wrong_encoding_are_problems(filed) -> None:
    client, _, assessment = filed
    url = f"/api/v1/assessments/{assessment['id']}/evidence"
    no_file = await client.post(url, files={"other": ("a.txt", b"abc")})
    assert no_file.status_code == 422 and "'file'" in no_file.json()["detail"]
    as_json = await client.post(url, json={"file": "abc"})
    assert as_json.status_code == 422 and "multipart/form-data" in as_json.json()["detail"]


async def test_crash_mid_upload_leaves_no_orphan(app, filed, monkeypatch) -> None:
    client, _, assessment = filed
    runtime = app.state.runtime
    from portal.domain.context import Caller

    me = (await client.get("/api/v1/me")).json()
    caller = Caller(principal=await _principal(me["email"]), client="test")
    row = await runtime.evidence.authorise_upload(caller, uuid.UUID(assessment["id"]))
    monkeypatch.setattr(runtime.evidence, "max_upload_bytes", 10_000)

    async def broken():
        yield b"%PDF-1.7 first part "
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await runtime.evidence.store_upload(caller, row, "x.pdf", broken())
    assert _stored_files(app) == [] and await Evidence.count() == 0


async def test_database_failure_after_storing_removes_the_file(app, filed, monkeypatch) -> None:
    client, _, assessment = filed

    async def failing_record(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("portal.domain.evidence.services.record", failing_record)
    response = await client.post(f"/api/v1/assessments/{assessment['id']}/evidence", files={"file": ("a.pdf", PDF)})
    assert response.status_code == 500
    assert _stored_files(app) == [] and await Evidence.count() == 0


async def test_download_for_owner_and_regulators_only(actors, filed, anon) -> None:
    client, _, assessment = filed
    uploaded = (
        await client.post(f"/api/v1/assessments/{assessment['id']}/evidence", files={"file": ("policy.pdf", PDF)})
    ).json()
    url = f"/api/v1/evidence/{uploaded['id']}"
    own = await client.get(url)
    assert own.status_code == 200 and own.content == PDF
    assert (
        own.headers["content-disposition"].startswith("attachment;")
        and "policy.pdf" in own.headers["content-disposition"]
    )
    assert own.headers["x-content-type-options"] == "nosniff" and own.headers["content-type"] == "application/pdf"
    assert own.headers["repr-digest"] == f"sha-256=:{base64.b64encode(hashlib.sha256(PDF).digest()).decode()}:"
    other, _ = await actors.provider()
    assert (await other.get(url)).status_code == 404
    assert (await anon.get(url)).status_code == 401
    reviewer = await actors.regulator("reviewer")
    assert (await reviewer.get(url)).status_code == 404  # not before the provider submits
    await answer_all(client, assessment["id"])
    assert (await client.post(f"/api/v1/assessments/{assessment['id']}/submit")).status_code == 200
    regulator_download = await reviewer.get(url)
    assert regulator_download.status_code == 200 and regulator_download.content == PDF
    events = await AuditEvent.select(AuditEvent.object_id, AuditEvent.actor_label).where(
        AuditEvent.action == "evidence.downloaded"
    )
    assert [e["object_id"] for e in events] == [uploaded["id"]]  # regulators' downloads only
    listing = await reviewer.get(f"/api/v1/assessments/{assessment['id']}/evidence")
    assert [e["id"] for e in listing.json()] == [uploaded["id"]]
    assert TELECOM  # the assessment was completed through the telecom controls


def test_sniffing_ignores_a_character_cut_at_the_sample_end() -> None:
    sample = b"a" + ("é" * 4096).encode()[:8191]  # 8,192 bytes ending in half a character
    assert sniff(sample, "notes.txt") == "text/plain"
    assert sniff(b"caf\xc3", "notes.txt") is None  # a short file cannot have been cut by the sample
    assert sniff(b"\xff\xfe\x00binary", "notes.txt") is None


async def _principal(email: str):
    from portal.domain.accounts import repo

    user = await repo.login_record(email)
    return repo.principal_of(user, via="session")


async def test_the_same_bytes_twice_are_one_piece_of_evidence(filed) -> None:
    client, _, assessment = filed
    url = f"/api/v1/assessments/{assessment['id']}/evidence"
    first = await client.post(url, files={"file": ("policy.pdf", PDF)})
    again = await client.post(url, files={"file": ("policy-copy.pdf", PDF)})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["filename"] == "policy.pdf"
    assert await Evidence.count() == 1


async def test_editors_remove_draft_evidence_and_answers_let_go_of_it(app, actors, filed) -> None:
    client, me, assessment = filed
    aid = assessment["id"]
    editor, _ = await actors.member(me["organisation_id"], "provider_editor")
    uploaded = (await client.post(f"/api/v1/assessments/{aid}/evidence", files={"file": ("p.pdf", PDF)})).json()
    answer = await client.put(
        f"/api/v1/assessments/{aid}/answers/{TELECOM[0]}",
        json={"status": "implemented", "narrative": "x", "evidence_ids": [uploaded["id"]]},
    )
    assert answer.json()["version"] == 1
    other, _ = await actors.provider()
    assert (await other.delete(f"/api/v1/evidence/{uploaded['id']}")).status_code == 404
    removed = await editor.delete(f"/api/v1/evidence/{uploaded['id']}")
    assert removed.status_code == 204 and await Evidence.count() == 0
    after = (await client.get(f"/api/v1/assessments/{aid}")).json()["controls"][0]["answer"]
    assert after["evidence_ids"] == [] and after["version"] == 2
    assert _stored_files(app) == []
    assert (await client.delete(f"/api/v1/evidence/{uploaded['id']}")).status_code == 404


async def test_evidence_in_a_submitted_revision_cannot_be_removed(filed) -> None:
    client, _, assessment = filed
    aid = assessment["id"]
    uploaded = (await client.post(f"/api/v1/assessments/{aid}/evidence", files={"file": ("p.pdf", PDF)})).json()
    await answer_all(client, aid)
    await client.put(
        f"/api/v1/assessments/{aid}/answers/{TELECOM[0]}",
        headers={"If-Match": '"1"'},
        json={"status": "implemented", "narrative": "x", "evidence_ids": [uploaded["id"]]},
    )
    assert (await client.post(f"/api/v1/assessments/{aid}/submit")).status_code == 200
    refused = await client.delete(f"/api/v1/evidence/{uploaded['id']}")
    assert refused.status_code == 409 and await Evidence.count() == 1


async def test_bidi_controls_are_stripped_and_the_download_extension_follows_the_type(filed) -> None:
    client, _, assessment = filed
    url = f"/api/v1/assessments/{assessment['id']}/evidence"
    spoofed = await client.post(url, files={"file": ("invoice\u202eftp.exe", PDF)})
    assert spoofed.status_code == 201 and spoofed.json()["filename"] == "invoiceftp.exe"
    marks = await client.post(url, files={"file": ("\u2066a\u2069\u200eb\u200f\u061c\u202a\u202dc.txt", b"plain\n")})
    assert marks.status_code == 201 and marks.json()["filename"] == "abc.txt"
    page = await client.post(url, files={"file": ("report.html", b"<html><script>alert(1)</script></html>\n")})
    assert page.status_code == 201 and page.json()["media_type"] == "text/plain"
    photo = await client.post(url, files={"file": ("photo.JPEG", b"\xff\xd8\xff\xe0" + b"\x01" * 16)})
    bare = await client.post(url, files={"file": ("sbom", b'{"bomFormat": "CycloneDX"}')})
    downloads = {
        uploaded.json()["filename"]: (await client.get(f"/api/v1/evidence/{uploaded.json()['id']}")).headers[
            "content-disposition"
        ]
        for uploaded in (spoofed, marks, page, photo, bare)
    }
    assert downloads == {
        "invoiceftp.exe": 'attachment; filename="invoiceftp.pdf"',
        "abc.txt": 'attachment; filename="abc.txt"',
        "report.html": 'attachment; filename="report.txt"',
        "photo.JPEG": 'attachment; filename="photo.JPEG"',
        "sbom": 'attachment; filename="sbom.json"',
    }
