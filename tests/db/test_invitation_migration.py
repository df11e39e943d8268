"""The migration that holds invitations by address keeps every pending invitation (its link still works) and
removes the placeholder accounts the old design made for them, on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from pathlib import Path

import asyncpg

from tests.db.migration_support import migrate, scratch_postgres

BEFORE = "2026-12-01T23:40:44:495124"  # the last migration of the old design
ORG, ADMIN, INVITEE, GONE = (str(uuid.UUID(int=n, version=4)) for n in (1, 2, 3, 4))
LEGACY = [
    "INSERT INTO organisation (id, kind, name, name_ar, legal_name, category, country, registration_number,"
    " website, contact_email, status, status_reason, created_at) VALUES"
    f" ('{ORG}', 'provider', 'Acme', '', 'Acme W.L.L.', 'cloud_hosting', 'BH', 'CR-1', 'https://acme.example',"
    " 'c@acme.example', 'verified', '', '2026-11-30 10:00:00+00:00')",
    "INSERT INTO portal_user (id, organisation, email, display_name, role, password_hash, is_active, created_at)"
    f" VALUES ('{ADMIN}', '{ORG}', 'admin@acme.example', 'Admin', 'provider_admin', 'hash', {{true}},"
    " '2026-11-30 10:00:00+00:00')",
    # Invited, never joined: becomes an invitation held by address.
    "INSERT INTO portal_user (id, organisation, email, display_name, role, password_hash, is_active, created_at)"
    f" VALUES ('{INVITEE}', '{ORG}', 'new@acme.example', 'New', 'provider_editor', NULL, {{false}},"
    " '2026-11-30 10:00:00+00:00')",
    'INSERT INTO invitation (id, "user", token_hash, created_by, expires_at, accepted_at) VALUES'
    f" ('{GONE}', '{INVITEE}', '{hashlib.sha256(b'legacy').hexdigest()}', '{ADMIN}', '2099-01-01 00:00:00+00:00',"
    " NULL)",
]


def _check(rows: dict[str, list[tuple[object, ...]]]) -> None:
    assert rows["invitations"] == [
        ("new@acme.example", "New", "provider_editor", ORG, hashlib.sha256(b"legacy").hexdigest(), ADMIN)
    ]
    assert rows["users"] == [("admin@acme.example",)]  # the placeholder account is gone, the admin stays
    assert rows["old_table"] == []


QUERIES = {
    "invitations": "SELECT email, display_name, role, CAST(organisation AS TEXT), token_hash,"
    " CAST(invited_by AS TEXT) FROM member_invitation",
    "users": "SELECT email FROM portal_user ORDER BY email",
}


def test_pending_invitations_move_over_on_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    migrate(f"sqlite:///{path}", BEFORE)
    with sqlite3.connect(path) as connection:
        for statement in LEGACY:
            connection.execute(statement.format(true=1, false=0))
    migrate(f"sqlite:///{path}")
    with sqlite3.connect(path) as connection:
        rows = {name: connection.execute(query).fetchall() for name, query in QUERIES.items()}
        rows["old_table"] = connection.execute("SELECT name FROM sqlite_master WHERE name = 'invitation'").fetchall()
    _check(rows)


async def test_pending_invitations_move_over_on_postgres() -> None:
    async with scratch_postgres() as scratch:
        migrate(scratch, BEFORE)
        connection = await asyncpg.connect(scratch)
        try:
            for statement in LEGACY:
                await connection.execute(statement.format(true="true", false="false"))
        finally:
            await connection.close()
        migrate(scratch)
        connection = await asyncpg.connect(scratch)
        try:
            rows = {name: [tuple(r) for r in await connection.fetch(query)] for name, query in QUERIES.items()}
            rows["old_table"] = [tuple(r) for r in await connection.fetch("SELECT to_regclass('invitation')")]
            rows["old_table"] = [r for r in rows["old_table"] if r[0] is not None]
        finally:
            await connection.close()
        _check(rows)
