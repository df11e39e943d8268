"""Piccolo app registration: lets piccolo's migration machinery find our tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.db.tables import ALL_TABLES

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations" / "portal"

APP_CONFIG = AppConfig(
    app_name="portal",
    migrations_folder_path=str(MIGRATIONS_DIR),
    table_classes=list(ALL_TABLES),
    migration_dependencies=[],
    commands=[],
)
