"""Run the piccolo migrations in ``migrations/portal`` on the portal's engine."""

from __future__ import annotations

import contextlib
import io
import os
import re

from piccolo.apps.migrations.commands.forwards import run_forwards

from portal.db.engine import Engine


class MigrationFailed(RuntimeError):
    pass


_APPLIED = re.compile(r"^\s*- (\S+) \[forwards\]\.\.\. ok", re.MULTILINE)


async def migrate(engine: Engine) -> list[str]:
    """Apply every pending migration with ``engine``; return the ids of those it applied, oldest first."""
    # Piccolo's migration machinery looks its engine up in the PICCOLO_CONF module; hand it ours, so the
    # migrations run on exactly the database the caller opened (and no setting is rewritten on the way).
    from piccolo.apps.migrations.tables import Migration

    from portal import piccolo_conf

    os.environ.setdefault("PICCOLO_CONF", "portal.piccolo_conf")
    piccolo_conf.DB = engine
    Migration._meta.db = engine
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        result = await run_forwards(app_name="portal")
    if not result.success:
        raise MigrationFailed(result.message or report.getvalue())
    # Piccolo's own report counts a new database's migrations as both "already complete" and "not yet run";
    # the caller says it in one plain line instead.
    return _APPLIED.findall(report.getvalue())
