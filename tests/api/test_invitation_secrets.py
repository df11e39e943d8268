"""Invitation secrets reach neither the access log of a served portal nor the audit trail (issue #9 item 5)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from portal.db.tables import AuditEvent
from tests.conftest import PASSWORD

PORTAL = str(Path(sys.executable).parent / "portal")


async def test_a_refused_accept_is_audited_without_the_secret(actors) -> None:
    admin, me = await actors.provider()
    secret = await actors.invite(admin, me["organisation_id"], "csrf@provider.example")
    # A cookie session with a forged CSRF header: refused (403) and audited with its route.
    forged = await admin.post(
        f"/api/v1/invitations/{secret}/accept", json={"password": PASSWORD}, headers={"x-csrftoken": "forged"}
    )
    assert forged.status_code == 403
    denied = await AuditEvent.select(AuditEvent.object_id).where(AuditEvent.action == "permission.denied")
    assert denied == [{"object_id": "POST /api/v1/invitations/[redacted]/accept"}]
    rows = await AuditEvent.select(AuditEvent.object_id, AuditEvent.before, AuditEvent.after).output(load_json=True)
    assert all(secret not in str(row) for row in rows)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_served_access_log_never_shows_an_invitation_secret(settings, actors, tmp_path) -> None:
    admin, me = await actors.provider()
    secret = await actors.invite(admin, me["organisation_id"], "logged@provider.example")
    port = _free_port()
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": settings.database_url,
        "PORTAL_DATA_DIR": settings.data_dir,
        "PORTAL_SECRET_KEY": settings.secret_key,
        "PORTAL_ARGON2_TIME_COST": "1",
        "PORTAL_ARGON2_MEMORY_KIB": "1024",
        "PORTAL_LOG_LEVEL": "INFO",
        "PORTAL_ALLOWED_HOSTS": f"127.0.0.1:{port}",
    }
    with log.open("w") as out:
        server = await asyncio.create_subprocess_exec(
            PORTAL, "serve", "--port", str(port), env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                for _ in range(100):
                    try:
                        if (await client.get("/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
                else:
                    raise AssertionError(log.read_text())
                legacy = await client.get(f"/invitations/{secret}?lang=ar")
                assert legacy.status_code == 404
                accepted = await client.post(f"/api/v1/invitations/{secret}/accept", json={"password": PASSWORD})
                assert accepted.status_code == 200, accepted.text
                again = await client.post(
                    "/api/v1/invitations/accept", json={"invitation": secret, "password": PASSWORD}
                )
                assert again.status_code == 404
        finally:
            server.terminate()
            await asyncio.wait_for(server.wait(), timeout=20)
    written = log.read_text()
    assert secret not in written
    assert '"GET /invitations/[redacted]?lang=ar HTTP/1.1" 404' in written
    assert '"POST /api/v1/invitations/[redacted]/accept HTTP/1.1" 200' in written
    assert '"POST /api/v1/invitations/accept HTTP/1.1" 404' in written
