"""A database for the bench: SQLite in a directory, or a PostgreSQL database (``BENCH_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432/portal_bench``, created when missing), seeded by ``bench.seed`` with N
attestations, and a signing officer and a regulator admin (``portal users create``) who act in the measurements.

``BENCH_DIR`` keeps seeded databases between runs (a 1,000,000-attestation seed takes minutes); without it
they live in a temporary directory removed at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.servers import BIN, ROOT

SIGNER = "signer@bench.example"
PASSWORD = "bench passphrase 2026, long enough"
SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/portal_bench")


@dataclass
class Database:
    kind: str  # sqlite | postgres
    n: int
    env: dict[str, str]
    seeded: dict[str, Any]
    logins: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{'SQLite' if self.kind == 'sqlite' else 'PostgreSQL'}, {self.n:,} attestations"

    def serials(self, status: str | None = None, limit: int = 10_000) -> list[str]:
        """A random sample of seeded serials (of one status, or of all)."""
        sql = "SELECT serial FROM attestation" + (f" WHERE status = '{status}'" if status else "")
        sql += f" ORDER BY random() LIMIT {limit}"
        return [row[0] for row in query(self, sql)]


def query(database: Database, sql: str) -> list[tuple[Any, ...]]:
    if database.kind == "sqlite":
        import sqlite3

        path = database.env["PORTAL_DATABASE_URL"].removeprefix("sqlite:///")
        with sqlite3.connect(path) as connection:
            return list(connection.execute(sql).fetchall())
    import asyncio

    import asyncpg

    async def fetch() -> list[tuple[Any, ...]]:
        connection = await asyncpg.connect(database.env["PORTAL_DATABASE_URL"])
        try:
            return [tuple(r) for r in await connection.fetch(sql)]
        finally:
            await connection.close()

    return asyncio.run(fetch())


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        args, env={**os.environ, **env, "PYTHONPATH": str(ROOT)}, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stdout[-2000:]}{done.stderr[-4000:]}")
    return done.stdout


def _postgres_url(n: int) -> str:
    base, _, name = POSTGRES.rpartition("/")
    return f"{base}/{name}_{n}"


def _reset_postgres(url: str) -> None:
    import asyncio

    import asyncpg

    async def reset() -> None:
        base, _, name = url.rpartition("/")
        admin = await asyncpg.connect(f"{base}/postgres")
        try:
            if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        connection = await asyncpg.connect(url)
        try:
            await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await connection.close()

    asyncio.run(reset())


def prepare(kind: str, n: int, work: Path) -> Database:
    """Seed (or reuse, under ``BENCH_DIR``) a database of ``kind`` with ``n`` attestations and the demo."""
    keep = os.environ.get("BENCH_DIR")
    home = Path(keep) if keep else work
    directory = home / f"{kind}-{n}"
    url = f"sqlite:///{directory / 'portal.sqlite3'}" if kind == "sqlite" else _postgres_url(n)
    env = {
        "PORTAL_DATA_DIR": str(directory),
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": SECRET,
        "PORTAL_LOG_LEVEL": "WARNING",
        "PORTAL_ISSUER": "http://127.0.0.1:8000",
        "PORTAL_ARGON2_TIME_COST": "1",
        "PORTAL_ARGON2_MEMORY_KIB": "1024",
        # The bench is one client address sending thousands of requests a second: it measures the routes, not
        # the public per-address limit (which would answer 429 after the first 1,200 in a minute).
        "PORTAL_RATE_LIMIT_PUBLIC": "1000000000",
        "PORTAL_RATE_LIMIT_VERIFY": "1000000000",
    }
    done = directory / "seeded.json"
    if keep and done.exists():
        state = json.loads(done.read_text())
        return Database(kind, n, env, state["seeded"], state["logins"])
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    if kind == "postgres":
        _reset_postgres(url)
    seeded = json.loads(_run(env, str(BIN / "python"), "-m", "bench.seed", "--attestations", str(n)).splitlines()[-1])
    logins = {}
    for email, role in ((SIGNER, "signing_officer"), ("admin@bench.example", "regulator_admin")):
        made = subprocess.run(
            [str(BIN / "portal"), "users", "create", "--email", email, "--role", role, "--password-stdin", "--json"],
            input=PASSWORD + "\n", env={**os.environ, **env}, cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        logins[email] = {"email": email, "password": PASSWORD, "totp_secret": json.loads(made.stdout)["totp_secret"]}
    done.write_text(json.dumps({"seeded": seeded, "logins": logins}))
    return Database(kind, n, env, seeded, logins)


def workspace() -> Path:
    return Path(tempfile.mkdtemp(prefix="portal-bench-"))
