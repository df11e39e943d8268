"""Evidence upload: a 200 MB file through ``portal serve`` (multipart parse, SHA-256, type sniffing, the
content-addressed store, the database record) against ``bench.bare``'s handler streaming the raw body to a
file on the same disk, both sent by curl, alternating, three rounds each, the median kept. Each round's file
differs in its first line, so every upload is a new one (201) doing the whole work. curl streams the file
from disk in both (``-F`` and ``-T``; ``--data-binary`` would read it all into memory first) and waits for no
``100 Continue``. Also the server's memory growth over the uploads: its peak resident memory (VmHWM, reset to
the current size through ``/proc/<pid>/clear_refs`` just before) less its resident memory then (VmRSS).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from bench import servers
from bench.figures import Figure, report

SIZE = 200 * 1024 * 1024
ROUNDS = 3
CHUNK = 1024 * 1024


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
    user = await runtime.registrations.register_confirmed(
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


def _curl(url: str, token: str | None, source: Path, response: Path, *, multipart: bool) -> tuple[float, str]:
    command = ["curl", "-sS", "-o", str(response), "-w", "%{http_code}", "-H", "Host: 127.0.0.1", "-H", "Expect:"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    if multipart:
        command += ["-F", f"file=@{source};type=text/plain"]
    else:
        command += ["-X", "POST", "-H", "Content-Type: application/octet-stream", "-T", str(source)]
    start = time.perf_counter()
    sent = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    return time.perf_counter() - start, sent.stdout


def upload(*, size: int = SIZE) -> list[Figure]:
    work = Path(tempfile.mkdtemp(prefix="portal-bench-upload-"))
    try:
        env = {
            "PORTAL_DATA_DIR": str(work),
            "PORTAL_DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
            "PORTAL_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnop",
            "PORTAL_MAX_UPLOAD_BYTES": str(size + 1024),
            "PORTAL_LOG_LEVEL": "WARNING",
            "PORTAL_ISSUER": "http://127.0.0.1:8000",
        }
        token, assessment_id = asyncio.run(_seed(env))
        source = work / "source.txt"
        line = b"evidence line 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\n"
        with source.open("wb") as handle:
            block = line * (CHUNK // len(line) + 1)
            for _ in range(size // CHUNK):
                handle.write(block[:CHUNK])
        ours, bares = [], []
        with servers.bare({"BARE_UPLOAD_DIR": str(work)}) as bare, servers.portal(env) as portal:
            url = f"{portal.base}/api/v1/assessments/{assessment_id}/evidence"
            with httpx.Client(headers={**servers.HOST, "Authorization": f"Bearer {token}"}) as client:
                warm = client.post(url, files={"file": ("w.txt", b"warm-up evidence\n")})
                assert warm.status_code == 201, warm.text
            # The peak since start-up (imports, the warm-up) is not the uploads': start it again from here.
            Path(f"/proc/{portal.pid}/clear_refs").write_text("5")
            before = servers.memory_kib(portal.pid, "VmRSS")
            for number in range(ROUNDS):
                with source.open("r+b") as handle:  # a new first line: new bytes, a new record, every time
                    handle.write(f"round {number:04d} {time.time_ns()}\n".encode())
                seconds, code = _curl(f"{bare.base}/upload", None, source, work / "bare.json", multipart=False)
                assert code == "201", code + (work / "bare.json").read_text()
                bares.append(seconds)
                seconds, code = _curl(url, token, source, work / "response.json", multipart=True)
                assert code == "201", code + (work / "response.json").read_text()
                ours.append(seconds)
                assert json.loads((work / "response.json").read_text())["size"] == size
            growth = (servers.memory_kib(portal.pid, "VmHWM") - before) / 1024
            if growth < 0:
                raise RuntimeError("VmHWM is below the VmRSS it was reset to: clear_refs did not reset it")
        mb = size / 2**20
        bare_rate, rate = mb / statistics.median(bares), mb / statistics.median(ours)
        label = f"{mb:.0f} MB evidence upload"
        return [
            Figure(f"{label}, bare handler streaming to disk", bare_rate, "MB/s",
                   detail="runs " + ", ".join(f"{mb / s:.0f}" for s in bares)),
            Figure(f"{label}, portal (parse, hash, store, record)", rate, "MB/s",
                   detail="runs " + ", ".join(f"{mb / s:.0f}" for s in ours)),
            Figure(f"{label}, portal / bare", rate / bare_rate, "x", 0.90),
            Figure(f"{label}, server peak memory growth", growth, "MB", 64, at_least=False),
        ]  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    report("evidence upload", upload())
