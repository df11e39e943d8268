"""Evidence upload benchmark: a 200 MB file through a real server, against a plain file copy.

Reports the server's peak memory growth (VmHWM) during the upload and the throughput beside
``shutil.copyfile`` of the same file on the same disk. Run: ``.venv/bin/python -m bench.upload_bench``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

SIZE = 200 * 1024 * 1024
ROUNDS = 5
CHUNK = 1024 * 1024


def _memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not found")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _seed(env: dict[str, str]) -> tuple[str, str]:
    """A verified provider with an open assessment and an API token, made through the services."""
    os.environ.update(env)
    import controls
    from portal.db import connect
    from portal.db.migrate import migrate
    from portal.domain.accounts import repo as accounts_repo
    from portal.domain.accounts.schemas import NewAccount, NewApiToken, NewOrganisation, Registration
    from portal.domain.assessments.schemas import NewAssessment, Scope
    from portal.domain.context import SYSTEM, Caller
    from portal.runtime import build_runtime
    from portal.security.principal import OrganisationStatus
    from portal.settings import load_settings

    settings = load_settings()
    await migrate(connect(settings.database_url))
    runtime = build_runtime(settings)
    await runtime.catalogs.ensure_baseline()
    user = await runtime.accounts.register(
        SYSTEM,
        Registration(
            organisation=NewOrganisation(
                name="Bench Telecom",
                legal_name="Bench Telecom Ltd",
                category="telecom_operator",
                country="BH",
                registration_number="B-1",
                website="https://bench.example",
                contact_email="b@bench.example",
            ),
            user=NewAccount(email="admin@bench.example", password="bench password 2026", display_name="Bench"),
        ),
    )
    await runtime.organisations.regulator_organisation()
    from portal.db.tables import Organisation

    # A bench shortcut: the provider is marked verified directly, without a regulator's decision.
    await Organisation.update({Organisation.status: OrganisationStatus.VERIFIED}).where(
        Organisation.id == user.organisation_id
    )
    login = await accounts_repo.login_record("admin@bench.example")
    assert login is not None
    caller = Caller(principal=accounts_repo.principal_of(login, via="session"), client="bench")
    token = await runtime.accounts.create_api_token(
        caller, user.organisation_id, NewApiToken(name="bench", role="provider_admin")
    )
    assessment = await runtime.assessments.open_assessment(
        caller,
        NewAssessment(
            catalog_id="ppa-baseline",
            catalog_version=controls.baseline_catalog().version,
            scope=Scope(summary="benchmark"),
        ),
    )
    return token.token, str(assessment.id)


def _timed(work: Callable[[], None]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _plain_copy(source: Path, target: Path) -> None:
    """What a program copying a file does: read and write in chunks, then make it durable, as the store does."""
    with source.open("rb") as reader, target.open("wb") as writer:
        while block := reader.read(CHUNK):
            writer.write(block)
        writer.flush()
        os.fsync(writer.fileno())
    target.unlink()


def _kernel_copy(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)  # copy_file_range / sendfile: may share blocks instead of copying
    with target.open("rb") as copied:
        os.fsync(copied.fileno())
    target.unlink()


def run() -> None:
    work = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    try:
        env = {
            "PORTAL_DATA_DIR": str(work),
            "PORTAL_DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
            "PORTAL_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnop",
            "PORTAL_MAX_UPLOAD_BYTES": str(SIZE + 1024),
            "PORTAL_LOG_LEVEL": "WARNING",
        }
        port = _free_port()
        env["PORTAL_ISSUER"] = f"http://127.0.0.1:{port}"
        token, assessment_id = asyncio.run(_seed(env))
        source = work / "source.txt"
        line = b"evidence line 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\n"
        with source.open("wb") as handle:
            block = line * (CHUNK // len(line) + 1)
            for _ in range(SIZE // CHUNK):
                handle.write(block[:CHUNK])
        copy_seconds = statistics.median(_timed(lambda: _plain_copy(source, work / "copy.txt")) for _ in range(ROUNDS))
        kernel_seconds = statistics.median(
            _timed(lambda: _kernel_copy(source, work / "copy.txt")) for _ in range(ROUNDS)
        )

        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "portal"), "serve", "--port", str(port)],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=120, headers={"Authorization": f"Bearer {token}"}) as client:
                for _ in range(100):
                    try:
                        client.get("/healthz")
                        break
                    except httpx.TransportError:
                        time.sleep(0.1)
                client.get(f"/api/v1/assessments/{assessment_id}")
                small = b"warm-up evidence\n"
                client.post(f"/api/v1/assessments/{assessment_id}/evidence", files={"file": ("w.txt", small)})
                before = _memory_kib(server.pid, "VmHWM")
                uploads = []
                for _ in range(ROUNDS):
                    # curl sends the file, so the measurement is the server's, not a Python client's.
                    start = time.perf_counter()
                    sent = subprocess.run(
                        [
                            "curl",
                            "-sS",
                            "-o",
                            str(work / "response.json"),
                            "-w",
                            "%{http_code}",
                            "-H",
                            f"Authorization: Bearer {token}",
                            "-F",
                            f"file=@{source};type=text/plain",
                            f"{base}/api/v1/assessments/{assessment_id}/evidence",
                        ],
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    uploads.append(time.perf_counter() - start)
                    assert sent.stdout == "201", sent.stdout + (work / "response.json").read_text()
                response_body = json.loads((work / "response.json").read_text())
                upload_seconds = statistics.median(uploads)
                after = _memory_kib(server.pid, "VmHWM")
        finally:
            server.terminate()
            server.wait(timeout=10)
        mb = SIZE / 2**20
        growth = (after - before) / 1024
        print(f"evidence upload, 200 MB through `portal serve` (1 worker, SQLite), median of {ROUNDS}:")
        print(f"  plain file copy (read/write 1 MiB, fsync) {copy_seconds:6.2f} s  {mb / copy_seconds:8.1f} MB/s")
        print(f"  kernel copy (shutil.copyfile, fsync)      {kernel_seconds:6.2f} s  {mb / kernel_seconds:8.1f} MB/s")
        print(f"  upload over HTTP (parse, hash, store)     {upload_seconds:6.2f} s  {mb / upload_seconds:8.1f} MB/s")
        print(
            f"  ratio to the plain copy {copy_seconds / upload_seconds:.2f} (target >= 0.50); "
            f"to the kernel copy {kernel_seconds / upload_seconds:.2f}"
        )
        print(f"  server peak memory growth {growth:.1f} MB  (target < 64 MB)  sha256 {response_body['sha256'][:16]}…")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run()
