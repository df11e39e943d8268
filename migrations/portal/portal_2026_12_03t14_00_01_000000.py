import hashlib
import uuid

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.querystring import QueryString

ID = "2026-12-03T14:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "registry search texts: fill them from the entries, and index them"

# What registry_entry.text's index carries besides the key on PostgreSQL: every column a search filters or
# sorts by, so counting the matches and choosing a page of them never reads the table's rows.
COVERED = "serial, status, category, country, catalog_id, catalog_version, sort_name, valid_from, expires_at"
# Counting the entries that match filters alone (no words): deduplicated, so small, and read in table order.
FILTERS = "category, country, status, catalog_id, catalog_version"
BATCH = 5_000


def key(text: str, category: str, country: str) -> str:
    # portal.domain.registry.rows.text_key, repeated here: a migration does not change when the code does.
    return str(uuid.UUID(bytes=hashlib.sha256(f"{category}\n{country}\n{text}".encode()).digest()[:16]))


async def _fill():
    # The old search text was the normalised serial, a space, then the rest, so the rest starts after the
    # serial's length and one character. PostgreSQL does it in a few statements; SQLite in batches here.
    engine = engine_finder()
    if engine is None:
        return
    if engine.engine_type != "postgres":
        await _fill_in_batches(engine)
        await engine.run_ddl(f"CREATE INDEX registry_entry_filters ON registry_entry ({FILTERS})")
        return
    rest = "substr(search, length(serial) + 2)"
    keyed = f"category || E'\\n' || country || E'\\n' || {rest}"
    digest = f"encode(substring(sha256(convert_to({keyed}, 'UTF8')) from 1 for 16), 'hex')::uuid"
    await engine.run_ddl(
        f"INSERT INTO registry_text (id, search, category, country)"
        f" SELECT DISTINCT {digest}, {rest}, category, country FROM registry_entry ON CONFLICT (id) DO NOTHING"
    )
    await engine.run_ddl(f"UPDATE registry_entry SET text = {digest}")
    await engine.run_ddl("DROP INDEX IF EXISTS registry_entry_search_trgm")
    await engine.run_ddl("DROP INDEX IF EXISTS registry_entry_text")
    await engine.run_ddl(f"CREATE INDEX registry_entry_text ON registry_entry (text) INCLUDE ({COVERED})")
    await engine.run_ddl(f"CREATE INDEX registry_entry_filters ON registry_entry ({FILTERS})")
    await engine.run_ddl("CREATE INDEX registry_text_search_trgm ON registry_text USING gin (search gin_trgm_ops)")
    await engine.run_ddl("CREATE INDEX registry_entry_serial_trgm ON registry_entry USING gin (serial gin_trgm_ops)")
    await engine.run_ddl("ANALYZE registry_text")
    await engine.run_ddl("ANALYZE registry_entry")


async def _fill_in_batches(engine):
    last = ""
    while True:
        rows = await engine.run_querystring(
            QueryString(
                "SELECT serial, search, category, country FROM registry_entry WHERE serial > {}"
                " ORDER BY serial LIMIT {}",
                last,
                BATCH,
            )
        )
        if not rows:
            return
        for row in rows:
            text = row["search"][len(row["serial"]) + 1 :]
            id = key(text, row["category"], row["country"])
            await engine.run_querystring(
                QueryString(
                    "INSERT INTO registry_text (id, search, category, country) VALUES ({}, {}, {}, {})"
                    " ON CONFLICT (id) DO NOTHING",
                    id, text, row["category"], row["country"],
                )
            )  # fmt: skip
            await engine.run_querystring(
                QueryString("UPDATE registry_entry SET text = {} WHERE serial = {}", id, row["serial"])
            )
        last = rows[-1]["serial"]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    manager.add_raw(_fill)
    return manager
