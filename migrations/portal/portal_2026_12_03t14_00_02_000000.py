from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T14:00:02:000000"
VERSION = "1.38.0"
DESCRIPTION = "registry search texts: the entry's own copy goes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    manager.drop_column(
        table_class_name="RegistryEntry",
        tablename="registry_entry",
        column_name="search",
        db_column_name="search",
        schema=None,
    )
    return manager
