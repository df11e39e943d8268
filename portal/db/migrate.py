"""Run the piccolo migrations in ``migrations/portal`` on the portal's engine."""

from __future__ import annotations

import contextlib
import io
import os

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.table import Table

from portal.db.engine import Engine


class MigrationFailed(RuntimeError):
    pass


async def migrate(engine: Engine, up_to: str = "all") -> list[str]:
    """Apply every pending migration with ``engine`` (or those up to the id ``up_to``, for a test of a later
    one's data step); return the ids of those it applied, oldest first."""
    # Piccolo's migration machinery looks its engine up in the PICCOLO_CONF module; hand it ours, so the
    # migrations run on exactly the database the caller opened (and no setting is rewritten on the way).
    from piccolo.apps.migrations.tables import Migration

    from portal import piccolo_conf

    os.environ.setdefault("PICCOLO_CONF", "portal.piccolo_conf")
    piccolo_conf.DB = engine
    Migration._meta.db = engine
    done_before = await _applied(Migration)
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        result = await run_forwards(app_name="portal", migration_id=up_to)
    if not result.success:
        raise MigrationFailed(result.message or report.getvalue())
    # Piccolo's printed report counts a new database's migrations as both "already complete" and "not yet
    # run"; what was applied is read from its own table instead, and the caller says it in one plain line.
    return sorted(await _applied(Migration) - done_before)


async def _applied(migration: type[Table]) -> set[str]:
    """The names of the portal's migrations piccolo has recorded as run (none before its table exists)."""
    if not await migration.table_exists():
        return set()
    rows = await migration.select(migration.name).where(migration.app_name == "portal")  # type: ignore[attr-defined]
    return {row["name"] for row in rows}
