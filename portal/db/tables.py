"""Piccolo tables: the persistent shape of the portal. Rules live in the domain services, not here."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    UUID,
    BigInt,
    Boolean,
    ForeignKey,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Organisation(Table, tablename="organisation"):
    id = UUID(primary_key=True)
    kind = Varchar(length=16, index=True)  # provider | regulator
    name = Varchar(length=200)
    legal_name = Varchar(length=300)
    category = Varchar(length=40, null=True)
    country = Varchar(length=2)
    registration_number = Varchar(length=100)
    website = Varchar(length=300)
    contact_email = Varchar(length=320)
    status = Varchar(length=16, index=True)  # pending | verified | rejected
    status_reason = Text(default="")
    verified_at = Timestamptz(null=True, default=None)
    verified_by = UUID(null=True, default=None)
    created_at = Timestamptz()


class User(Table, tablename="portal_user"):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, index=True)
    email = Varchar(length=320, unique=True)
    display_name = Varchar(length=200)
    role = Varchar(length=32)
    password_hash = Varchar(length=200, null=True, default=None)
    totp_secret = Varchar(length=200, null=True, default=None)  # encrypted at rest
    totp_last_step = BigInt(default=0)
    is_active = Boolean(default=True)
    created_at = Timestamptz()


class Invitation(Table, tablename="invitation"):
    id = UUID(primary_key=True)
    user = ForeignKey(references=User, index=True)
    token_hash = Varchar(length=64, unique=True)
    created_by = UUID()
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)


class UserSession(Table, tablename="user_session"):
    id = Varchar(length=64, primary_key=True)  # the JWT's jti
    user = ForeignKey(references=User, index=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    client = Varchar(length=64, default="")


class ApiToken(Table, tablename="api_token"):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, index=True)
    created_by = ForeignKey(references=User)
    name = Varchar(length=100)
    role = Varchar(length=32)
    prefix = Varchar(length=16)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    expires_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class AuditEvent(Table, tablename="audit_event"):
    """Append-only and hash-chained. Actor columns hold copies, not foreign keys, so the trail outlives users."""

    seq = Serial(primary_key=True)
    at = Timestamptz()
    action = Varchar(length=64, index=True)
    outcome = Varchar(length=16)  # success | failure | denied
    actor_id = Varchar(length=64, default="")
    actor_label = Varchar(length=320, default="")
    actor_org = Varchar(length=64, default="")
    client = Varchar(length=64, default="")
    object_type = Varchar(length=40, default="")
    object_id = Varchar(length=100, default="", index=True, index_method=IndexMethod.btree)
    before = JSON(default=None, null=True)
    after = JSON(default=None, null=True)
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64, unique=True)


ALL_TABLES: list[type[Table]] = [
    Organisation,
    User,
    Invitation,
    UserSession,
    ApiToken,
    AuditEvent,
]
