"""The migration that stores each registry search text once gives every existing entry the text the code now
writes for it (so old and new rows are found alike), drops the entry's own copy, and on PostgreSQL builds the
indexes the search reads: on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from portal.domain.registry.rows import normalise, public_document, search_text, text_key
from tests.db.migration_support import migrate, scratch_postgres

BEFORE = "2026-12-02T13:17:12:000000"  # the last migration before registry_text
ORG = uuid.UUID(int=7, version=4)


def _document(name: str, services: list[str], country: str = "BH") -> dict[str, Any]:
    provider = {"name": name, "legal_name": f"{name} W.L.L.", "category": "cloud_hosting", "country": country,
                "registration": "CR-77"}  # fmt: skip
    return {"provider": provider, "scope": {"services": services}, "catalog": {"id": "ppa-baseline", "version": "1.0"}}


def _old_search(serial: str, public: dict[str, Any]) -> str:
    """The search text as the old code stored it: the serial first, then the same words."""
    provider, scope = public["provider"], public["scope"]
    words = [serial, provider["name"], provider["name_ar"], provider["legal_name"], provider["registration"],
             *scope["services"], *(f"{p['name']} {p['model']} {p['version']}" for p in scope["products"])]  # fmt: skip
    return normalise(" | ".join(w for w in words if w))


# Two renewals of one provider share a profile; another scope has its own, and so has the same text elsewhere.
ENTRIES = [
    ("PA-2026-000001", _document("Gulf Cloud", ["Hosting"])),
    ("PA-2026-000002", _document("Gulf Cloud", ["Hosting"])),
    ("PA-2026-000003", _document("Gulf Cloud", ["Backup", "نسخ احتياطي"])),
    ("PA-2026-000004", _document("Gulf Cloud", ["Hosting"], country="AE")),
]


def _statements(*, postgres: bool) -> list[tuple[str, tuple[Any, ...]]]:
    out = []
    issued, expires = (dt.datetime(2026, 1, 2, tzinfo=dt.UTC), dt.datetime(2029, 1, 2, tzinfo=dt.UTC))
    when = (lambda moment: moment) if postgres else str
    for serial, document in ENTRIES:
        public = public_document(document, name_ar="")
        provider = document["provider"]
        values = (serial, ORG if postgres else str(ORG), "active", "full", provider["name"], "",
                  provider["legal_name"], "CR-77", "cloud_hosting", provider["country"], "ppa-baseline", "1.0",
                  json.dumps(public), _old_search(serial, public), normalise(document["provider"]["name"]),
                  when(issued), when(expires), None, when(issued))  # fmt: skip
        out.append((
            "INSERT INTO registry_entry (serial, organisation, status, level, provider_name, provider_name_ar,"
            " legal_name, registration_number, category, country, catalog_id, catalog_version, document, search,"
            " sort_name, valid_from, expires_at, superseded_by, updated_at) VALUES ({})",
            values,
        ))  # fmt: skip
    return out


def _expected() -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str]]]:
    """What the code writes for these documents now: one profile per distinct text, category and country."""
    profiles = {}
    entries = []
    for serial, document in ENTRIES:
        public = public_document(document, name_ar="")
        text, provider = search_text(public), public["provider"]
        key = str(text_key(text, category=provider["category"], country=provider["country"]))
        profiles[key] = (key, text, provider["category"], provider["country"])
        entries.append((serial, key))
    return sorted(profiles.values()), entries


def test_texts_are_filled_from_the_old_search_column_on_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    migrate(f"sqlite:///{path}", BEFORE)
    with sqlite3.connect(path) as connection:
        for sql, values in _statements(postgres=False):
            connection.execute(sql.format(", ".join("?" for _ in values)), values)
    migrate(f"sqlite:///{path}")
    with sqlite3.connect(path) as connection:
        texts = connection.execute("SELECT id, search, category, country FROM registry_text ORDER BY id").fetchall()
        entries = connection.execute("SELECT serial, text FROM registry_entry ORDER BY serial").fetchall()
        columns = [row[1] for row in connection.execute("PRAGMA table_info(registry_entry)")]
        filters = connection.execute("SELECT sql FROM sqlite_master WHERE name = 'registry_entry_filters'").fetchall()
    expected_texts, expected_entries = _expected()
    assert len(expected_texts) == 3
    assert [(str(uuid.UUID(i)), *rest) for i, *rest in texts] == expected_texts
    assert [(s, str(uuid.UUID(t))) for s, t in entries] == expected_entries
    assert "search" not in columns and "text" in columns
    assert [sql for (sql,) in filters] == [
        "CREATE INDEX registry_entry_filters ON registry_entry (category, country, status, catalog_id, catalog_version)"
    ]


async def test_texts_are_filled_and_indexed_on_postgres() -> None:
    async with scratch_postgres() as scratch:
        migrate(scratch, BEFORE)
        connection = await asyncpg.connect(scratch)
        try:
            for sql, values in _statements(postgres=True):
                marks = ", ".join(f"${i}" for i in range(1, len(values) + 1))
                await connection.execute(sql.format(marks), *values)
        finally:
            await connection.close()
        migrate(scratch)
        connection = await asyncpg.connect(scratch)
        try:
            fetch = connection.fetch
            listed = "SELECT id, search, category, country FROM registry_text ORDER BY id"
            texts = [(str(r[0]), r[1], r[2], r[3]) for r in await fetch(listed)]
            entries = [
                (r[0], str(r[1])) for r in await fetch("SELECT serial, text FROM registry_entry ORDER BY serial")
            ]
            named = "SELECT column_name FROM information_schema.columns WHERE table_name = 'registry_entry'"
            columns = {r[0] for r in await fetch(named)}
            listed = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('registry_entry', 'registry_text')"
            indexes = {r[0]: r[1] for r in await fetch(listed)}
        finally:
            await connection.close()
        expected_texts, expected_entries = _expected()
        assert texts == expected_texts
        assert entries == expected_entries
        assert "search" not in columns and "text" in columns
        assert "registry_entry_search_trgm" not in indexes
        assert indexes["registry_entry_text"].endswith(
            "USING btree (text) INCLUDE (serial, status, category, country, catalog_id, catalog_version, sort_name,"
            " valid_from, expires_at)"
        )
        assert indexes["registry_entry_filters"].endswith(
            "USING btree (category, country, status, catalog_id, catalog_version)"
        )
        assert "gin (search gin_trgm_ops)" in indexes["registry_text_search_trgm"]
        assert "gin (serial gin_trgm_ops)" in indexes["registry_entry_serial_trgm"]
