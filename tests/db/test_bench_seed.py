"""A whole ``bench.seed`` run into an empty database of each engine: the rows hang together as the portal's own
would — every constraint and index of a fresh migration is back, the log verifies, every event names its log
entry, each token is signed by the portal's key and matches its row, and each status-list bit its status."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from attestations.keys import Keyring
from attestations.status_list import StatusList
from attestations.tokens import unverified_claims
from attestations.verify import ExpectedIssuer, verify_token
from bench.seed_plan import LIST_VALUE
from portal.runtime import build_runtime
from portal.settings import load_settings
from tests.db.migration_support import migrate, schema, scratch_database

N = 400
ISSUER = "https://portal.example"


def _run(command: list[str], env: dict[str, str]) -> str:
    """What ``command`` printed last (its JSON), once it has succeeded."""
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout if done.stdout.lstrip().startswith("{\n") else done.stdout.splitlines()[-1]


async def _rows(url: str, sql: str) -> list[dict[str, Any]]:
    """Read straight from the database (binding piccolo's tables to it would take them from the suite's)."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            connection.row_factory = sqlite3.Row
            return [dict(row) for row in connection.execute(sql)]
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        return [dict(row) for row in await connection.fetch(sql)]
    finally:
        await connection.close()


async def test_a_seeded_database_is_one_the_portal_could_have_written(tmp_path: Path) -> None:
    async with scratch_database(tmp_path, "seed") as url, scratch_database(tmp_path, "fresh") as fresh:
        env = {**os.environ, "PORTAL_DATABASE_URL": url, "PORTAL_DATA_DIR": str(tmp_path / "data"),
               "PORTAL_SECRET_KEY": "s" * 40, "PORTAL_ISSUER": ISSUER}  # fmt: skip
        report = json.loads(_run([sys.executable, "-m", "bench.seed", "--attestations", str(N)], env))
        assert report["count"] == N and sum(report["statuses"].values()) == N
        migrate(fresh)
        assert await schema(url) == await schema(fresh)

        log = json.loads(_run([str(Path(sys.executable).parent / "portal"), "log", "verify", "--json"], env))
        assert log["ok"] is True and log["size"] == report["log_entries"] == log["checkpoint_size"]

        settings = load_settings({k: v for k, v in env.items() if k.startswith("PORTAL_")})
        keyring = Keyring.from_jwks(build_runtime(settings).keys.jwks())
        attestations = await _rows(url, "SELECT * FROM attestation ORDER BY serial")
        events = await _rows(url, "SELECT * FROM attestation_event ORDER BY log_index")
        entries = await _rows(url, 'SELECT "index", event, jti, body FROM log_entry ORDER BY "index"')
        lists = await _rows(url, "SELECT id, data, allocated FROM status_list")
        registry = await _rows(url, "SELECT serial, status FROM registry_entry")
    changed = [row for row in attestations if row["status"] != "active"]
    assert len(attestations) == N and len(entries) == len(events) == N + len(changed)
    assert [e["log_index"] for e in events] == [e["index"] for e in entries] == list(range(len(entries)))
    for event, entry in zip(events, entries, strict=True):
        body = json.loads(entry["body"])
        assert (event["serial"], event["event"]) == (entry["jti"], entry["event"]) == (body["jti"], body["event"])
    bits = {row["id"]: StatusList(131_072, 2, data=base64.b64decode(row["data"])) for row in lists}
    assert sum(row["allocated"] for row in lists) == N
    for row in attestations:
        token = row["token"]
        assert row["token_sha256"] == hashlib.sha256(token.encode()).hexdigest()
        claims = unverified_claims(token)
        assert (claims.jti, claims.status.status_list.idx) == (row["serial"], row["status_index"])
        assert claims.status.status_list.uri == f"{ISSUER}/api/v1/status-lists/{row['status_list']}"
        assert bits[row["status_list"]].get(row["status_index"]) == int(LIST_VALUE[row["status"]])
    for row in attestations[:: N // 20]:  # as of its issue: some have expired since
        issued = unverified_claims(row["token"]).iat
        result = verify_token(row["token"], keyring, issuer=ExpectedIssuer(ISSUER), now=issued)
        assert result.ok, result
    assert sorted((r["serial"], r["status"]) for r in registry) == [(r["serial"], r["status"]) for r in attestations]
