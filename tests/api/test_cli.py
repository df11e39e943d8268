"""The `portal` command against the suite's database: users create, demo, audit verify."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyotp

from portal.db.tables import Assessment, AttestationRow, AuditEvent, Evidence, Organisation, Revision, User
from tests.conftest import PASSWORD

PORTAL = str(Path(sys.executable).parent / "portal")


def _run(settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": settings.database_url,
        "PORTAL_DATA_DIR": settings.data_dir,
        "PORTAL_SECRET_KEY": settings.secret_key,
        "PORTAL_ARGON2_TIME_COST": "1",
        "PORTAL_ARGON2_MEMORY_KIB": "1024",
    }
    return subprocess.run(
        [PORTAL, *args], input=stdin, capture_output=True, text=True, env=env, timeout=60, check=False
    )


async def test_users_create_makes_a_regulator_with_a_totp_secret(settings, anon) -> None:
    done = _run(
        settings,
        "users",
        "create",
        "--email",
        "Chief@Regulator.example",
        "--role",
        "regulator_admin",
        "--password-stdin",
        "--json",
        stdin=PASSWORD + "\n",
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["user"]["email"] == "chief@regulator.example" and out["user"]["role"] == "regulator_admin"
    secret = out["totp_secret"]
    assert len(secret) == 32
    assert secret not in done.stderr and PASSWORD not in done.stdout
    login = await anon.post(
        "/api/v1/auth/login",
        json={"email": "chief@regulator.example", "password": PASSWORD, "totp": pyotp.TOTP(secret).now()},
    )
    assert login.status_code == 200
    stored = await User.select(User.totp_secret).where(User.email == "chief@regulator.example").first()
    assert secret not in stored["totp_secret"]  # sealed at rest


async def test_users_create_refuses_bad_input_without_writing(settings) -> None:
    weak = _run(
        settings,
        "users",
        "create",
        "--email",
        "a@b.example",
        "--role",
        "reviewer",
        "--password-stdin",
        stdin="short\n",
    )
    assert weak.returncode == 2 and "at least 12 characters" in weak.stderr
    unknown = _run(
        settings,
        "users",
        "create",
        "--email",
        "a@b.example",
        "--role",
        "wizard",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert unknown.returncode == 2 and "unknown role wizard" in unknown.stderr
    no_org = _run(
        settings,
        "users",
        "create",
        "--email",
        "a@b.example",
        "--role",
        "provider_admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert no_org.returncode == 2 and "--org" in no_org.stderr
    assert await User.count() == 0


async def test_demo_seeds_once_and_prints_working_logins(settings, anon) -> None:
    first = _run(settings, "demo", "--if-empty", "--json")
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert result["seeded"] is True
    roles = sorted(a["role"] for a in result["accounts"])
    assert roles == sorted(
        [
            "regulator_admin",
            "reviewer",
            "signing_officer",
            "provider_admin",
            "provider_admin",
            "provider_editor",
        ]
    )
    statuses = sorted(r["status"] for r in await Organisation.select(Organisation.status))
    assert statuses == ["pending", "verified", "verified"]  # regulator, Gulf Telecom, and pending Nimbus
    states = sorted(r["state"] for r in await Assessment.select(Assessment.state))
    assert states == ["attested", "draft", "submitted"]
    assert await Revision.count() == 2 and await Evidence.count() == 1
    issued = await AttestationRow.select(AttestationRow.serial, AttestationRow.status).first()
    assert issued["status"] == "active" and issued["serial"].startswith("PA-")
    public = await anon.get(f"/api/v1/attestations/{issued['serial']}")
    assert public.status_code == 200 and public.json()["provider"]["name"] == "Gulf Telecom"
    again = _run(settings, "demo", "--if-empty", "--json")
    assert json.loads(again.stdout)["seeded"] is False and await Organisation.count() == 3
    admin = next(a for a in result["accounts"] if a["role"] == "regulator_admin")
    login = await anon.post(
        "/api/v1/auth/login",
        json={
            "email": admin["email"],
            "password": admin["password"],
            "totp": pyotp.TOTP(admin["totp_secret"]).now(),
        },
    )
    assert login.status_code == 200


async def test_audit_verify_reports_tampering_with_exit_code(settings, actors) -> None:
    await actors.provider()
    intact = _run(settings, "audit", "verify", "--json")
    assert intact.returncode == 0 and json.loads(intact.stdout)["ok"] is True
    first = await AuditEvent.select(AuditEvent.seq).order_by(AuditEvent.seq).first()
    await AuditEvent.update({AuditEvent.action: "organisation.deleted"}).where(AuditEvent.seq == first["seq"])
    tampered = _run(settings, "audit", "verify")
    assert tampered.returncode == 1 and "TAMPERED" in tampered.stdout
    assert f"event {first['seq']}: contents do not match its hash" in tampered.stdout


async def test_migrate_is_idempotent(settings) -> None:
    done = _run(settings, "migrate", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["ok"] is True
