from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-12-02T13:17:12:000000"
VERSION = "1.38.0"
DESCRIPTION = "invitations held by email address: the pending ones move over, the old table goes"


async def _move_pending_invitations():
    # An invitation used to be an inactive account with a link; now it is held by address until accepted.
    # Pending ones move with their link (the same hash); the account that only held them goes with them.
    # Raw steps run before a migration's table operations, so this copy runs before the old table is dropped.
    engine = engine_finder()
    assert engine is not None
    never_joined = (
        "SELECT u.id FROM portal_user u WHERE u.password_hash IS NULL AND u.deactivated_at IS NULL"
        ' AND NOT EXISTS (SELECT 1 FROM user_session s WHERE s."user" = u.id)'
        ' AND NOT EXISTS (SELECT 1 FROM login_step l WHERE l."user" = u.id)'
        ' AND NOT EXISTS (SELECT 1 FROM totp_enrolment t WHERE t."user" = u.id)'
        " AND NOT EXISTS (SELECT 1 FROM api_token a WHERE a.created_by = u.id)"
    )
    await engine.run_ddl(
        "INSERT INTO member_invitation (id, organisation, email, display_name, role, token_hash, invited_by,"
        ' created_at, expires_at, accepted_at, cancelled_at, "user")'
        " SELECT i.id, u.organisation, u.email, u.display_name, u.role, i.token_hash, i.created_by,"
        " i.expires_at, i.expires_at, NULL, NULL, NULL"
        ' FROM invitation i JOIN portal_user u ON u.id = i."user"'
        f" WHERE i.accepted_at IS NULL AND u.id IN ({never_joined})"
    )
    await engine.run_ddl(f'DELETE FROM invitation WHERE "user" IN ({never_joined})')
    await engine.run_ddl(
        f'DELETE FROM portal_user WHERE id IN ({never_joined}) AND id NOT IN (SELECT "user" FROM invitation)'
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    manager.add_raw(_move_pending_invitations)
    manager.drop_table(class_name="Invitation", tablename="invitation", schema=None)
    return manager
