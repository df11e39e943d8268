from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, Text, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T14:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "registry search profiles (text, category, country), stored once each: the table and the entry's column"


def _params(**changes):
    params = {
        "default": "",
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }
    params.update(changes)
    return params


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    manager.add_table(class_name="RegistryText", tablename="registry_text", schema=None, columns=None)
    manager.add_column(
        table_class_name="RegistryText",
        tablename="registry_text",
        column_name="id",
        db_column_name="id",
        column_class_name="UUID",
        column_class=UUID,
        params=_params(default=None, primary_key=True),
        schema=None,
    )
    manager.add_column(
        table_class_name="RegistryText",
        tablename="registry_text",
        column_name="search",
        db_column_name="search",
        column_class_name="Text",
        column_class=Text,
        params=_params(),
        schema=None,
    )
    for name, length in (("category", 40), ("country", 2)):
        manager.add_column(
            table_class_name="RegistryText",
            tablename="registry_text",
            column_name=name,
            db_column_name=name,
            column_class_name="Varchar",
            column_class=Varchar,
            params=_params(length=length),
            schema=None,
        )
    # Filled from each entry's old search text by the next migration; the all-zero id is never a text's.
    manager.add_column(
        table_class_name="RegistryEntry",
        tablename="registry_entry",
        column_name="text",
        db_column_name="text",
        column_class_name="UUID",
        column_class=UUID,
        params=_params(default="00000000-0000-0000-0000-000000000000", index=True),
        schema=None,
    )
    return manager
