"""The transparency log (issue #13): appends under concurrency, checkpoints, proofs from stored nodes, C2SP
tiles read by a generic client, the JSON API, `portal log verify`, and key rotations as `key` entries."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from attestations.canonical import canonical_json
from attestations.checkpoint import open_checkpoint
from attestations.keys import KeyPurpose, Keyring
from attestations.log_proof import attestation_log_entry, decode_log_proof, verify_log_proof
from attestations.merkle import MerkleTree, hash_leaf, verify_consistency, verify_inclusion
from portal.db import atomic
from portal.db.tables import LogCheckpoint, LogEntry, LogNode
from portal.domain.context import SYSTEM
from portal.domain.log import tree

PORTAL = str(Path(sys.executable).parent / "portal")


def key_entry(i: int) -> dict[str, Any]:
    return {"event": "key", "kid": f"synthetic-{i}", "at": 1767225600 + i}


async def fill(runtime: Any, n: int, start: int = 0) -> list[bytes]:
    bodies = []
    for i in range(start, start + n):
        entry = key_entry(i)
        async with atomic():
            await runtime.log.append(entry)
        bodies.append(canonical_json(entry))
    return bodies


async def stored_bodies() -> list[bytes]:
    rows = await LogEntry.select(LogEntry.body).order_by(LogEntry.index).run()
    return [row["body"].encode() for row in rows]


async def keyring(anon: Any) -> Keyring:
    return Keyring.from_jwks((await anon.get("/.well-known/jwks.json")).json())


async def test_an_empty_log_has_a_signed_checkpoint_of_size_zero(anon, runtime) -> None:
    response = await anon.get("/log/checkpoint")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    checkpoint = open_checkpoint(response.text, await keyring(anon), origin="testserver/log")
    assert checkpoint.size == 0 and checkpoint.root_hash == MerkleTree().root()


async def test_append_stores_the_entry_its_nodes_and_a_signed_checkpoint(anon, runtime) -> None:
    results = []
    for i in range(5):
        async with atomic():
            results.append(await runtime.log.append(key_entry(i)))
    bodies = [canonical_json(key_entry(i)) for i in range(5)]
    reference = MerkleTree(hash_leaf(b) for b in bodies)
    assert [r.index for r in results] == [0, 1, 2, 3, 4]
    assert results[-1].size == 5 and results[-1].root == reference.root().hex()
    assert await stored_bodies() == bodies  # the RFC 8785 bytes, exactly as hashed
    assert [r.leaf_hash for r in results] == [hash_leaf(b).hex() for b in bodies]
    # every complete subtree once: 5 leaves, 2 pairs, 1 four
    assert await LogNode.count() == 8
    assert await LogCheckpoint.count() == 5

    for url in ("/log/checkpoint", "/api/v1/log/checkpoint"):
        note = (await anon.get(url)).text
        lines = note.split("\n")
        assert lines[0] == "testserver/log" and lines[1] == "5"
        assert base64.b64decode(lines[2]) == reference.root() and lines[3] == ""
        assert lines[4].startswith("\u2014 testserver/log ")
        checkpoint = open_checkpoint(note, await keyring(anon), origin="testserver/log")
        assert checkpoint.size == 5 and checkpoint.root_hash == reference.root()


async def test_a_rolled_back_transaction_leaves_no_entry(runtime) -> None:
    await fill(runtime, 2)
    with pytest.raises(RuntimeError):
        async with atomic():
            await runtime.log.append(key_entry(9))
            raise RuntimeError("the event failed")
    assert await LogEntry.count() == 2 and await LogCheckpoint.count() == 2
    assert (await runtime.log.append(key_entry(3))).index == 2


async def test_entries_must_be_loggable(runtime) -> None:
    from portal.errors import InvalidInput

    for bad in (
        {"event": "nonsense", "at": 1},
        {"event": "key", "at": 1.5},
        {"event": "key"},
        {"event": "key", "at": 1, "jti": 7},
        {"event": "key", "at": 1, "x": "y" * 70000},
        {"event": "key", "at": 1, "x": 0.5},
    ):
        with pytest.raises(InvalidInput):
            await runtime.log.append(bad)
    assert await LogEntry.count() == 0


async def test_concurrent_appends_keep_indexes_dense_and_the_tree_consistent(runtime) -> None:
    async def one(i: int) -> int:
        async with atomic():
            result = await runtime.log.append(key_entry(i))
        return result.index

    indexes = await asyncio.gather(*(one(i) for i in range(30)))
    assert sorted(indexes) == list(range(30))
    bodies = await stored_bodies()
    assert sorted(bodies) == sorted(canonical_json(key_entry(i)) for i in range(30))
    reference = MerkleTree(hash_leaf(b) for b in bodies)
    size, note = await runtime.log.checkpoint()
    assert size == 30
    assert base64.b64decode(note.split("\n")[2]) == reference.root()
    report = await runtime.log.verify()
    assert report.ok, report.problems


async def test_proofs_from_stored_nodes_match_the_reference_for_every_size(runtime) -> None:
    n = 20
    bodies = await fill(runtime, n)
    reference = MerkleTree(hash_leaf(b) for b in bodies)
    for size in range(1, n + 1):
        assert await runtime.log.root(size) == reference.root(size)
        for index in range(size):
            assert await runtime.log.inclusion_proof(index, size) == reference.inclusion_proof(index, size)
        for old in range(size + 1):
            proof = await runtime.log.consistency_proof(old, size)
            assert proof.hashes == [base64.b64encode(h).decode() for h in reference.consistency_proof(old, size)]


async def test_the_consistency_api_proves_one_checkpoint_extends_another(anon, runtime) -> None:
    await fill(runtime, 7)
    old_note = (await anon.get("/log/checkpoint")).text
    await fill(runtime, 6, start=7)
    new_note = (await anon.get("/log/checkpoint")).text
    keys = await keyring(anon)
    old, new = open_checkpoint(old_note, keys), open_checkpoint(new_note, keys)
    response = await anon.get("/api/v1/log/consistency", params={"from": old.size, "to": new.size})
    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"]) == (7, 13)
    hashes = [base64.b64decode(h) for h in body["hashes"]]
    verify_consistency(old.size, new.size, old.root_hash, new.root_hash, hashes)
    # `to` defaults to the current size
    assert (await anon.get("/api/v1/log/consistency", params={"from": 7})).json() == body


@pytest.mark.parametrize(
    "params",
    [
        {"from": 5, "to": 3},
        {"from": -1, "to": 3},
        {"from": 0, "to": 99},
        {"from": 0, "to": -1},
        {"from": 9},
        {"from": "x"},
        {"from": 2**63},
        {"from": 0, "to": 2**64},
        {},
    ],
)
async def test_bad_consistency_ranges_are_400(anon, runtime, params) -> None:
    await fill(runtime, 4)
    response = await anon.get("/api/v1/log/consistency", params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "/problems/invalid-input"


async def test_entries_api(anon, runtime) -> None:
    await fill(runtime, 3)
    async with atomic():
        await runtime.log.append({"event": "issue", "jti": "ATT-1", "token_sha256": "ab" * 32, "at": 1767225700})
    response = await anon.get("/api/v1/log/entries", params={"start": 1, "end": 4})
    assert response.status_code == 200
    body = response.json()
    assert (body["start"], body["end"], body["tree_size"]) == (1, 4, 4)
    assert [e["index"] for e in body["entries"]] == [1, 2, 3]
    first, last = body["entries"][0], body["entries"][-1]
    assert first["body"] == key_entry(1) and first["event"] == "key" and "jti" not in first
    assert first["leaf_hash"] == hash_leaf(canonical_json(key_entry(1))).hex() and first["at"]
    assert last["jti"] == "ATT-1" and last["event"] == "issue"
    everything = (await anon.get("/api/v1/log/entries")).json()
    assert [e["index"] for e in everything["entries"]] == [0, 1, 2, 3]
    assert (await anon.get("/api/v1/log/entries", params={"start": 4})).json()["entries"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"start": 3, "end": 2},
        {"start": -1},
        {"start": 0, "end": 5},
        {"start": 0, "end": -1},
        {"start": 5},
        {"end": "x"},
        {"start": 2**63},
        {"start": 0, "end": 2**64},
    ],
)
async def test_bad_entry_ranges_are_400(anon, runtime, params) -> None:
    await fill(runtime, 4)
    response = await anon.get("/api/v1/log/entries", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "/problems/invalid-input"


async def test_at_most_a_thousand_entries_per_answer(anon, runtime) -> None:
    from portal.domain.log import services

    original = services.MAX_ENTRIES
    services.MAX_ENTRIES = 3  # the rule, not the number: 1,000 entries would make a slow test
    try:
        await fill(runtime, 5)
        body = (await anon.get("/api/v1/log/entries", params={"start": 1, "end": 5})).json()
    finally:
        services.MAX_ENTRIES = original
    assert (body["start"], body["end"]) == (1, 4) and len(body["entries"]) == 3
    assert original == 1000


async def test_the_proof_of_a_serial_is_a_log_proof_document(anon, runtime) -> None:
    token = "eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJBVFQtNyJ9.c2ln"
    await fill(runtime, 3)
    async with atomic():
        issued = await runtime.log.append(attestation_log_entry(token, jti="ATT-7", event="issue", at=1767225600))
    await fill(runtime, 2, start=3)
    async with atomic():
        suspended = await runtime.log.append(attestation_log_entry(token, jti="ATT-7", event="suspend", at=1767225900))
    await fill(runtime, 1, start=5)
    keys = await keyring(anon)

    response = await anon.get("/api/v1/log/proof/ATT-7")
    assert response.status_code == 200
    proof = decode_log_proof(response.content)
    assert proof.leaf_index == issued.index and proof.tree_size == 8 and proof.entry["event"] == "issue"
    checkpoint = verify_log_proof(proof, keys, token=token)
    assert checkpoint.size == 8 and checkpoint.origin == "testserver/log"

    latest = decode_log_proof((await anon.get("/api/v1/log/proof/ATT-7", params={"event": "latest"})).content)
    assert latest.leaf_index == suspended.index and latest.entry["event"] == "suspend"
    verify_log_proof(latest, keys, token=token)
    assert (await anon.get("/api/v1/log/proof/ATT-7", params={"event": "other"})).status_code == 400


@pytest.mark.parametrize("serial", ["NEVER-1", "PA-2026-999999", "x" * 300])
async def test_a_serial_with_no_entry_was_never_issued(anon, runtime, serial) -> None:
    await fill(runtime, 2)
    for query in ("", "?event=latest"):
        response = await anon.get(f"/api/v1/log/proof/{serial}{query}")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"] == "/problems/never-issued"


def _entries_of_bundle(data: bytes) -> list[bytes]:
    entries, offset = [], 0
    while offset < len(data):
        length = int.from_bytes(data[offset : offset + 2], "big")
        entries.append(data[offset + 2 : offset + 2 + length])
        offset += 2 + length
    assert offset == len(data)
    return entries


async def _read_through_tiles(anon: Any, size: int) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """What a generic tlog client does: every tile the checkpoint's size implies, hash tiles and bundles."""

    async def tiles(prefix: str, count: int) -> bytes:
        data = b""
        full, partial = divmod(count, 256)
        for n in range(full):
            response = await anon.get(f"/log/tile/{prefix}{tree.encode_tile_index(n)}")
            assert response.status_code == 200, response.text
            assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
            data += response.content
        if partial:
            response = await anon.get(f"/log/tile/{prefix}{tree.encode_tile_index(full)}.p/{partial}")
            assert response.status_code == 200, response.text
            assert response.headers["cache-control"] == "public, max-age=1"
            data += response.content
        return data

    leaves = await tiles("0/", size)
    level8 = await tiles("1/", size >> 8)
    bodies = _entries_of_bundle(await tiles("entries/", size))
    split = [leaves[i : i + 32] for i in range(0, len(leaves), 32)]
    return bodies, split, [level8[i : i + 32] for i in range(0, len(level8), 32)]


async def test_a_tlog_client_reads_the_whole_log_through_the_tiles(anon, runtime) -> None:
    await fill(runtime, 520)  # two full tiles and a partial one at level 0; a partial level-1 tile
    keys = await keyring(anon)
    checkpoint = open_checkpoint((await anon.get("/log/checkpoint")).text, keys, origin="testserver/log")
    assert checkpoint.size == 520
    bodies, leaf_hashes, level8 = await _read_through_tiles(anon, checkpoint.size)
    assert len(bodies) == 520 and len(leaf_hashes) == 520 and len(level8) == 2
    assert [hash_leaf(b) for b in bodies] == leaf_hashes
    assert [json.loads(b)["kid"] for b in bodies] == [f"synthetic-{i}" for i in range(520)]
    client_tree = MerkleTree(leaf_hashes)
    assert client_tree.root() == checkpoint.root_hash
    assert level8 == [MerkleTree(leaf_hashes[i : i + 256]).root() for i in (0, 256)]
    # a proof served by the API checks against the tiles' tree too
    proof = await runtime.log.inclusion_proof(300, 520)
    verify_inclusion(300, 520, leaf_hashes[300], proof, checkpoint.root_hash)

    full_before = (await anon.get("/log/tile/0/000")).content
    bundle_before = (await anon.get("/log/tile/entries/001")).content
    partial_before = (await anon.get("/log/tile/0/002.p/8")).content
    await fill(runtime, 300, start=520)
    assert (await anon.get("/log/tile/0/000")).content == full_before
    assert (await anon.get("/log/tile/entries/001")).content == bundle_before
    # a partial tile is a prefix of the full tile that replaces it
    assert (await anon.get("/log/tile/0/002")).content.startswith(partial_before)
    assert (await anon.get("/log/tile/0/002.p/8")).content == partial_before


@pytest.mark.parametrize(
    "path",
    [
        "0/001",
        "0/000.p/6",
        "entries/001",
        "entries/000.p/6",
        "1/000.p/1",
        "2/000",
        "0/1",
        "x/000",
        "0",
        "0/x999/x999/x999/x999/x999/x999/999",  # an index past any tree: 404, not an overflow
        "entries/x999/x999/x999/x999/x999/x999/999.p/3",
        "64/000",
        "%C2%B2/000",  # '²': str.isdigit() says it is a digit, int() refuses it
        "0/00%C2%B2",
        "0/x00%C2%B9/000",
        "0/000.p/%C2%B2",
        "0/%D9%A0%D9%A0%D9%A0",  # Arabic-Indic digits: int() reads them, but a tile has one name
        "1" * 5000 + "/000",  # past int()'s digit limit
    ],
)
async def test_tiles_beyond_the_tree_or_misnamed_are_404(anon, runtime, path) -> None:
    await fill(runtime, 5)
    assert (await anon.get("/log/tile/0/000.p/5")).status_code == 200
    response = await anon.get(f"/log/tile/{path}")
    assert response.status_code == 404, response.text


def _portal(settings: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": settings.database_url,
        "PORTAL_DATA_DIR": settings.data_dir,
        "PORTAL_SECRET_KEY": settings.secret_key,
        "PORTAL_ISSUER": settings.issuer,
    }
    return subprocess.run([PORTAL, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


async def test_log_verify_names_each_edited_row(settings, runtime) -> None:
    await fill(runtime, 12)
    done = _portal(settings, "log", "verify", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] and report["size"] == 12 and report["checkpoint_size"] == 12 and report["problems"] == []

    # behind the service's back: an entry's body, an interior node, and the latest checkpoint's note
    await LogEntry.update({LogEntry.body: canonical_json({**key_entry(3), "kid": "forged"}).decode()}).where(
        LogEntry.index == 3
    )
    await LogNode.update({LogNode.hash: "00" * 32}).where(LogNode.key == tree.node_key(2, 1))
    note = (await LogCheckpoint.select(LogCheckpoint.note).where(LogCheckpoint.size == 12).first())["note"]
    forged = note.replace("\n12\n", "\n13\n", 1)
    await LogCheckpoint.update({LogCheckpoint.note: forged}).where(LogCheckpoint.size == 12)
    done = _portal(settings, "log", "verify", "--json")
    assert done.returncode == 1
    problems = json.loads(done.stdout)["problems"]
    assert any(p.startswith("entry 3: stored leaf hash") for p in problems), problems
    assert any(p.startswith("node 0/3:") for p in problems), problems  # the leaf no longer matches the body
    assert any(p.startswith("node 2/1:") for p in problems), problems
    assert any(p.startswith("checkpoint 12: the signed note does not verify") for p in problems), problems
    text = _portal(settings, "log", "verify")
    assert text.returncode == 1 and "entry 3" in text.stdout and "node 2/1" in text.stdout


async def test_log_verify_checks_every_stored_checkpoint(runtime) -> None:
    from attestations.checkpoint import Checkpoint, sign_checkpoint

    await fill(runtime, 9)
    report = await runtime.log.verify()
    assert report.ok and report.checkpoints == 9
    # an older checkpoint's note edited; another one re-signed by the log key over a root the tree never had
    note = (await LogCheckpoint.select(LogCheckpoint.note).where(LogCheckpoint.size == 3).first())["note"]
    await LogCheckpoint.update({LogCheckpoint.note: note.replace("\n3\n", "\n4\n", 1)}).where(LogCheckpoint.size == 3)
    key = runtime.keys.signing_key(KeyPurpose.LOG)
    wrong = sign_checkpoint(Checkpoint(runtime.log.origin, 6, b"\x07" * 32), key)
    await LogCheckpoint.update({LogCheckpoint.note: wrong, LogCheckpoint.root_hash: "07" * 32}).where(
        LogCheckpoint.size == 6
    )
    report = await runtime.log.verify()
    assert not report.ok and report.checkpoints == 9
    assert [p for p in report.problems if p.startswith("checkpoint")] == [
        "checkpoint 3: the signed note does not verify: no signature on the note verifies with the given keys",
        "checkpoint 6: the signed root is not the root recomputed from the entries",
    ], report.problems


async def test_log_verify_finds_a_missing_node_and_a_stale_checkpoint(runtime) -> None:
    await fill(runtime, 6)
    await LogNode.delete().where(LogNode.key == tree.node_key(1, 2))
    await LogCheckpoint.delete().where(LogCheckpoint.size == 6)
    report = await runtime.log.verify()
    assert not report.ok
    assert "1 complete subtree node(s) of level 1 are not stored" in report.problems
    assert "checkpoint 5: 1 entries follow the latest checkpoint" in report.problems


async def test_a_key_rotation_is_a_key_entry_in_the_log(anon, runtime) -> None:
    await fill(runtime, 2)
    earlier = runtime.keys.store.records()
    rotation = await runtime.keys.rotate(SYSTEM, KeyPurpose.LOG)
    entries = (await anon.get("/api/v1/log/entries")).json()["entries"]
    # the keys made before (none of them logged yet in this empty log) come first, then the rotation's entry
    assert [e["body"]["kid"] for e in entries[2:]] == [r.kid for r in earlier] + [rotation.new_kid]
    entry = entries[-1]["body"]
    assert entry["event"] == "key" and entry["kid"] == rotation.new_kid and entry["purpose"] == "log"
    assert entry["retired_kid"] == rotation.retired_kid
    assert entry["jwk"]["kid"] == rotation.new_kid and entry["jwk"]["x"] and "d" not in entry["jwk"]
    # the checkpoint after the rotation is signed with the new log key, published in the JWKS
    note = (await anon.get("/log/checkpoint")).text
    keys = await keyring(anon)
    assert open_checkpoint(note, keys).size == len(entries)
    new_key = next(k for k in (await anon.get("/.well-known/jwks.json")).json()["keys"] if k["kid"] == rotation.new_kid)
    assert Keyring.from_jwks({"keys": [new_key]}) is not None
    assert runtime.keys.signing_key(KeyPurpose.LOG).kid == rotation.new_kid
    assert (await runtime.log.verify()).ok


async def test_the_first_key_of_each_purpose_is_a_key_entry(anon, runtime) -> None:
    runtime.keys.ensure_all()
    records = runtime.keys.store.records()
    assert await runtime.keys.log_unlogged() == len(records)
    assert await runtime.keys.log_unlogged() == 0  # once only
    entries = [e["body"] for e in (await anon.get("/api/v1/log/entries")).json()["entries"]]
    assert [e["kid"] for e in entries] == [r.kid for r in records]
    published = {k["kid"]: k for k in (await anon.get("/.well-known/jwks.json")).json()["keys"]}
    firsts = set()
    for entry, record in zip(entries, records, strict=True):
        assert entry["event"] == "key" and entry["purpose"] == record.purpose.value
        assert entry["jwk"] == published[record.kid] and entry["at"] == int(record.created_at.timestamp())
        if record.purpose not in firsts:  # the first of its purpose retires nothing
            assert "retired_kid" not in entry
            firsts.add(record.purpose)
        else:
            assert entry["retired_kid"] in published
    assert {e["purpose"] for e in entries} == {"attestation", "status", "log"}
    assert (await runtime.log.verify()).ok


APPENDER = """
import asyncio, sys
from portal.db import atomic, close_engine, connect, open_engine
from portal.runtime import build_runtime
from portal.settings import load_settings

async def main(worker):
    settings = load_settings()
    engine = connect(settings.database_url)
    await open_engine(engine)
    log = build_runtime(settings).log
    try:
        async def one(i):
            async with atomic():
                await log.append({"event": "key", "kid": f"worker-{worker}-{i}", "at": i})
        await asyncio.gather(*(one(i) for i in range(10)))
    finally:
        await close_engine(engine)

asyncio.run(main(sys.argv[1]))
"""


async def test_workers_appending_at_once_keep_the_log_dense_and_consistent(settings, runtime) -> None:
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": settings.database_url,
        "PORTAL_DATA_DIR": settings.data_dir,
        "PORTAL_SECRET_KEY": settings.secret_key,
        "PORTAL_ISSUER": settings.issuer,
        "PORTAL_LOG_LEVEL": "WARNING",
    }
    workers = [await asyncio.create_subprocess_exec(sys.executable, "-c", APPENDER, str(w), env=env) for w in range(3)]
    codes = await asyncio.wait_for(asyncio.gather(*(w.wait() for w in workers)), timeout=120)
    assert codes == [0, 0, 0]
    rows = await LogEntry.select(LogEntry.index, LogEntry.body).order_by(LogEntry.index).run()
    assert [r["index"] for r in rows] == list(range(30))
    kids = sorted(json.loads(r["body"])["kid"] for r in rows)
    assert kids == sorted(f"worker-{w}-{i}" for w in range(3) for i in range(10))
    reference = MerkleTree(hash_leaf(r["body"].encode()) for r in rows)
    size, note = await runtime.log.checkpoint()
    assert size == 30 and base64.b64decode(note.split("\n")[2]) == reference.root()
    assert await LogCheckpoint.count() == 30
    report = await runtime.log.verify()
    assert report.ok, report.problems


async def test_the_log_routes_are_in_the_openapi_document(anon) -> None:
    response = await anon.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/log/checkpoint", "/api/v1/log/entries", "/api/v1/log/consistency", "/api/v1/log/proof/{serial}"):
        assert path in paths, sorted(paths)
    assert "from" in {p["name"] for p in paths["/api/v1/log/consistency"]["get"]["parameters"]}
