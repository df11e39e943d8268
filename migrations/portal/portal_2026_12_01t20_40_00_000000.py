from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete
from piccolo.columns.base import OnUpdate
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.column_types import Integer
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import UUID
from piccolo.columns.column_types import Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class User(Table, tablename="portal_user", schema=None):
    id = UUID(
        default=UUID4(),
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name=None,
        secret=False,
    )


ID = "2026-12-01T20:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "account lifecycle: deactivation, verified second-factor enrolment"


def _params(**overrides):
    params = {
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }
    params.update(overrides)
    return params


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    manager.add_column(
        table_class_name="User",
        tablename="portal_user",
        column_name="deactivated_at",
        db_column_name="deactivated_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params=_params(default=None, null=True),
        schema=None,
    )

    manager.add_table(class_name="TotpEnrolment", tablename="totp_enrolment", schema=None, columns=None)
    columns = [
        ("id", "Varchar", Varchar, _params(length=64, default="", primary_key=True)),
        (
            "user",
            "ForeignKey",
            ForeignKey,
            _params(
                references=User,
                on_delete=OnDelete.cascade,
                on_update=OnUpdate.cascade,
                target_column=None,
                null=True,
                index=True,
            ),
        ),
        ("secret", "Varchar", Varchar, _params(length=200, default="")),
        ("expires_at", "Timestamptz", Timestamptz, _params(default=TimestamptzNow())),
        ("attempts", "Integer", Integer, _params(default=0)),
        ("used_at", "Timestamptz", Timestamptz, _params(default=None, null=True)),
    ]
    for name, class_name, column_class, params in columns:
        manager.add_column(
            table_class_name="TotpEnrolment",
            tablename="totp_enrolment",
            column_name=name,
            db_column_name=name,
            column_class_name=class_name,
            column_class=column_class,
            params=params,
            schema=None,
        )

    return manager
