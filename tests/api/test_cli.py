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
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations" / "portal"


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
    assert states == ["attested", "draft", "recommended", "submitted"]
    assert await Revision.count() == 3 and await Evidence.count() == 1
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


async def test_users_list_and_lifecycle_commands_act_as_the_operator(settings, actors, anon) -> None:
    admin, me = await actors.provider()
    org = me["organisation_id"]
    _, editor = await actors.member(org, "provider_editor")
    listed = _run(settings, "users", "list", "--org", org, "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)["users"]
    assert sorted((u["email"], u["role"], u["state"]) for u in rows) == sorted(
        [(me["email"], "provider_admin", "active"), (editor["email"], "provider_editor", "active")]
    )
    everyone = json.loads(_run(settings, "users", "list", "--json").stdout)["users"]
    assert len(everyone) == 3  # and the regulator admin who verified the organisation

    promoted = _run(
        settings, "users", "set-role", "--email", editor["email"].upper(), "--role", "provider_admin", "--json"
    )
    assert promoted.returncode == 0, promoted.stderr
    assert json.loads(promoted.stdout)["user"]["role"] == "provider_admin"
    off = _run(settings, "users", "deactivate", "--email", editor["email"])
    assert off.returncode == 0 and off.stdout.strip() == f"{editor['email']}: provider_admin, deactivated"
    # The operator keeps the rule too: the organisation's last active admin stays.
    last = _run(settings, "users", "deactivate", "--email", me["email"])
    assert last.returncode == 2
    assert "last active admin" in last.stderr
    assert (await admin.get("/api/v1/me")).status_code == 200
    back = _run(settings, "users", "reactivate", "--email", editor["email"], "--json")
    assert json.loads(back.stdout)["user"]["state"] == "active"
    unknown = _run(settings, "users", "deactivate", "--email", "nobody@example.org")
    assert unknown.returncode == 2 and "no account with the email address nobody@example.org" in unknown.stderr
    bad_role = _run(settings, "users", "set-role", "--email", editor["email"], "--role", "reviewer")
    assert bad_role.returncode == 2 and "does not fit a provider organisation" in bad_role.stderr
    no_factor = _run(settings, "users", "reset-totp", "--email", me["email"])
    assert no_factor.returncode == 2 and "this account has no second factor" in no_factor.stderr
    rows = await AuditEvent.select(AuditEvent.action).where(AuditEvent.actor_label == "system").order_by(AuditEvent.seq)
    actions = [r["action"] for r in rows if r["action"].startswith("member.")]
    assert actions == ["member.role_changed", "member.deactivated", "member.reactivated"]


async def test_users_reset_totp_clears_the_seed_and_prints_none(settings, actors, anon) -> None:
    reviewer = await actors.create_user("reviewer")
    old = actors.totp_secrets[reviewer["email"]]
    done = _run(settings, "users", "reset-totp", "--email", reviewer["email"], "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["user"]["totp_enrolled"] is False and old not in done.stdout
    assert "totp_secret" not in out["user"]
    login = await anon.post("/api/v1/auth/login", json={"email": reviewer["email"], "password": PASSWORD})
    assert login.status_code == 401 and login.json()["type"] == "/problems/totp-enrolment-required"
    assert login.json()["totp_secret"] != old
    again = _run(settings, "users", "reset-totp", "--email", reviewer["email"])
    assert again.returncode == 2 and "no second factor is enrolled" in again.stderr


def test_a_new_installation_says_each_thing_once(tmp_path) -> None:
    """`make run` is migrate, demo and serve: the development key is warned about once, when it is made, and
    a new database is reported as migrated in one line (not piccolo's "already complete / not yet run")."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_") and key != "PICCOLO_CONF"}
    env |= {"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}"}

    def migrate() -> subprocess.CompletedProcess[str]:
        return subprocess.run([PORTAL, "migrate"], capture_output=True, text=True, env=env, timeout=120, check=False)

    first, second = migrate(), migrate()
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert (
        first.stdout.splitlines()[0]
        == f"database migrated: applied {len(list(MIGRATIONS.glob('portal_*.py')))} migrations"
    )
    assert second.stdout.splitlines()[0] == "database is up to date"
    assert "already complete" not in first.stdout + second.stdout
    warnings = (first.stderr + second.stderr).count("PORTAL_SECRET_KEY is not set")
    assert warnings == 1, first.stderr + second.stderr
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
