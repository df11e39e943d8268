"""Run the piccolo migrations in ``migrations/portal`` against the configured database."""

from __future__ import annotations

import contextlib
import io
import os

from piccolo.apps.migrations.commands.forwards import run_forwards

from portal.settings import Settings


class MigrationFailed(RuntimeError):
    pass


async def migrate(settings: Settings) -> str:
    """Apply every pending migration; return piccolo's report."""
    # Piccolo's migration machinery finds its engine through PICCOLO_CONF, which reads our settings.
    os.environ["PICCOLO_CONF"] = "portal.piccolo_conf"
    os.environ["PORTAL_DATABASE_URL"] = settings.database_url
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        result = await run_forwards(app_name="portal")
    if not result.success:
        raise MigrationFailed(result.message or report.getvalue())
    return report.getvalue()
