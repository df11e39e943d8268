"""Piccolo's configuration module (PICCOLO_CONF=portal.piccolo_conf): the engine comes from our settings."""

from piccolo.conf.apps import AppRegistry

from portal.db.engine import create_engine
from portal.settings import load_settings

# Migrations need only the database URL, never the secret key.
DB = create_engine(load_settings(need_secret=False).database_url)

APP_REGISTRY = AppRegistry(apps=["portal.db.piccolo_app"])
