"""``bench.seed`` builds one registry row per provider and scope and gives its renewals that row's public part:
every seeded entry is still exactly what ``registry_row`` makes of its own attestation, and every profile an
entry names is stored."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

from portal.domain.registry.rows import registry_row, search_text

PUBLIC = ("provider_name", "provider_name_ar", "legal_name", "registration_number", "category", "country",
          "catalog_id", "catalog_version", "sort_name")  # fmt: skip


def test_seeded_entries_are_what_registry_row_makes_of_each_attestation(tmp_path: Path) -> None:
    env = {**os.environ, "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'seed.sqlite3'}",
           "PORTAL_DATA_DIR": str(tmp_path), "PORTAL_SECRET_KEY": "k" * 32}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "bench.seed", "--attestations", "60"], env=env,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "seed.sqlite3") as connection:
        connection.row_factory = sqlite3.Row
        attestations = {r["serial"]: r for r in connection.execute("SELECT * FROM attestation")}
        entries = list(connection.execute("SELECT * FROM registry_entry ORDER BY serial"))
        texts = {uuid.UUID(r["id"]): r for r in connection.execute("SELECT * FROM registry_text")}
    assert len(entries) == len(attestations) == 60
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for entry in entries:
        attestation = attestations[entry["serial"]]
        expected = registry_row(
            serial=entry["serial"], organisation=uuid.UUID(attestation["organisation"]),
            document=json.loads(attestation["document"]), name_ar="", status=attestation["status"], level="full",
            valid_from=at, expires_at=at, superseded_by=attestation["superseded_by"], updated_at=at,
        )  # fmt: skip
        assert entry["status"] == attestation["status"] and entry["superseded_by"] == attestation["superseded_by"]
        assert {name: entry[name] for name in PUBLIC} == {name: getattr(expected, name) for name in PUBLIC}
        assert json.loads(entry["document"]) == expected.document
        assert uuid.UUID(entry["text"]) == expected.text
        profile = texts[expected.text]
        assert (profile["search"], profile["category"], profile["country"]) == (
            search_text(expected.document),
            expected.category,
            expected.country,
        )
    assert (
        len(texts) == len({entry["text"] for entry in entries}) == 6
    )  # a profile per provider: summaries are not searched
