"""Piccolo's configuration module (PICCOLO_CONF=portal.piccolo_conf), for piccolo's own command line.

``portal migrate`` replaces ``DB`` with the engine it opened; piccolo's CLI gets one from the settings.
"""

from piccolo.conf.apps import AppRegistry

from portal.db.engine import create_engine
from portal.settings import load_settings

# Migrations need only the database URL, never the secret key.
DB = create_engine(load_settings(need_secret=False).database_url)

APP_REGISTRY = AppRegistry(apps=["portal.db.piccolo_app"])
