from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-12-01T23:36:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "registry search: trigram index on PostgreSQL"


async def _trigram_index():
    # A substring query (LIKE '%term%') on the normalised search text uses this index on PostgreSQL;
    # SQLite scans the table, which is fine at its scale. Raw steps run before a migration's table
    # operations, hence a migration of its own after the table's.
    engine = engine_finder()
    if engine is None or engine.engine_type != "postgres":
        return
    await engine.run_ddl("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    await engine.run_ddl(
        "CREATE INDEX IF NOT EXISTS registry_entry_search_trgm ON registry_entry USING gin (search gin_trgm_ops)"
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    manager.add_raw(_trigram_index)
    return manager
