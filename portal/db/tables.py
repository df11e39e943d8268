"""Piccolo tables: the persistent shape of the portal. Rules live in the domain services, not here."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    UUID,
    BigInt,
    Boolean,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
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
    name_ar = Varchar(length=200, default="")  # optional Arabic name, shown on certificates and the registry
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
    deactivated_at = Timestamptz(null=True, default=None)  # set while an admin has switched the account off
    created_at = Timestamptz()


class PendingRegistration(Table, tablename="pending_registration"):
    """A registration waiting for its email address to be confirmed: nothing else exists until it is."""

    id = UUID(primary_key=True)
    token_hash = Varchar(length=64, unique=True)  # SHA-256 of the secret in the confirmation link
    email = Varchar(length=320, index=True)
    password_hash = Varchar(length=200)
    registration = JSON()  # the organisation and the admin's display name, as submitted
    created_at = Timestamptz()
    expires_at = Timestamptz()
    confirmed_at = Timestamptz(null=True, default=None)


class MemberInvitation(Table, tablename="member_invitation"):
    """An invitation to join an organisation, held by email address: the account exists only once it is accepted,
    so an invitation looks the same to the admin whether or not the address already has an account elsewhere."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, index=True)
    email = Varchar(length=320, index=True)
    display_name = Varchar(length=200)
    role = Varchar(length=32)
    token_hash = Varchar(length=64, unique=True)  # SHA-256 of the secret in the mailed link
    invited_by = UUID()
    created_at = Timestamptz()
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)  # withdrawn by an admin, or replaced by a newer one
    user = UUID(null=True, default=None)  # the account made on acceptance


class UserSession(Table, tablename="user_session"):
    id = Varchar(length=64, primary_key=True)  # the JWT's jti
    user = ForeignKey(references=User, index=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    client = Varchar(length=64, default="")


class LoginStep(Table, tablename="login_step"):
    """A password accepted, the second factor still owed: single-use, short-lived, a few attempts."""

    id = Varchar(length=64, primary_key=True)  # SHA-256 of the random id the browser holds
    user = ForeignKey(references=User, index=True)
    expires_at = Timestamptz()
    attempts = Integer(default=0)
    used_at = Timestamptz(null=True, default=None)


class TotpEnrolment(Table, tablename="totp_enrolment"):
    """A new second factor offered to the password holder: shown once, kept until one valid code confirms it."""

    id = Varchar(length=64, primary_key=True)  # SHA-256 of the random id the password holder was given
    user = ForeignKey(references=User, index=True)
    secret = Varchar(length=200)  # encrypted at rest, like portal_user.totp_secret
    expires_at = Timestamptz()
    attempts = Integer(default=0)
    used_at = Timestamptz(null=True, default=None)


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


class Catalog(Table, tablename="catalog"):
    """A control catalog version. The document is the catalog's JSON; once published it never changes."""

    id = UUID(primary_key=True)
    reference = Varchar(length=120, unique=True)  # "<catalog id>@<version>" (not "ref": that is a Table method)
    catalog_id = Varchar(length=64, index=True)
    version = Varchar(length=32)
    title = Varchar(length=300)
    status = Varchar(length=16, index=True)  # draft | published | retired
    digest = Varchar(length=64)
    control_count = Integer()
    document = JSON()
    created_at = Timestamptz()
    published_at = Timestamptz(null=True, default=None)
    published_by = UUID(null=True, default=None)
    retired_at = Timestamptz(null=True, default=None)


class Assessment(Table, tablename="assessment"):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, index=True)
    catalog = ForeignKey(references=Catalog, index=True)
    title = Varchar(length=200)
    scope = JSON()
    state = Varchar(length=24, index=True)
    revision = Integer(default=0)  # the last frozen revision's number; 0 before the first submit
    version = Integer(default=1)  # optimistic concurrency for the scope
    created_by = UUID()
    created_at = Timestamptz()
    updated_at = Timestamptz()
    submitted_at = Timestamptz(null=True, default=None)


class Answer(Table, tablename="answer"):
    id = UUID(primary_key=True)
    key = Varchar(length=120, unique=True)  # "<assessment id>:<control id>"
    assessment = ForeignKey(references=Assessment, index=True)
    control_id = Varchar(length=64)
    status = Varchar(length=32)
    narrative = Text(default="")
    justification = Text(default="")
    planned_date = Date(null=True, default=None)
    evidence_ids = JSON(default="[]")
    version = Integer(default=1)
    updated_by = UUID()
    updated_at = Timestamptz()


class Evidence(Table, tablename="evidence"):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, index=True)
    assessment = ForeignKey(references=Assessment, index=True)
    sha256 = Varchar(length=64, index=True)
    size = BigInt()
    media_type = Varchar(length=100)
    filename = Varchar(length=255)
    uploaded_by = UUID()
    created_at = Timestamptz()
    frozen = Boolean(default=False)  # part of a submitted revision: immutable from then on


class Revision(Table, tablename="revision"):
    id = UUID(primary_key=True)
    key = Varchar(length=120, unique=True)  # "<assessment id>:<number>"
    assessment = ForeignKey(references=Assessment, index=True)
    number = Integer()
    sha256 = Varchar(length=64)
    document = Text()  # the RFC 8785 canonical JSON, byte for byte as hashed
    created_by = UUID()
    created_at = Timestamptz()


class StatusListRow(Table, tablename="status_list"):
    """One IETF token status list: 2-bit entries, at least 131,072 of them, indexes drawn at random."""

    id = Serial(primary_key=True)
    bits = Integer(default=2)
    size = Integer()
    data = Text()  # base64 of the raw byte array, exactly what the signed list compresses
    allocated = Integer(default=0)
    version = Integer(default=1)  # moves on with every change, so a signed copy knows when it is stale
    created_at = Timestamptz()
    updated_at = Timestamptz()


class StatusEntry(Table, tablename="status_entry"):
    """An index handed out in a status list; never handed out again."""

    id = UUID(primary_key=True)
    key = Varchar(length=40, unique=True)  # "<list id>:<index>"
    status_list = Integer(index=True)
    idx = Integer()
    serial = Varchar(length=32, null=True, default=None, index=True)
    created_at = Timestamptz()


class Review(Table, tablename="review"):
    """Who holds an assessment's review now, and which revision was last reviewed (one row per assessment)."""

    id = UUID(primary_key=True)
    key = Varchar(length=64, unique=True)  # "<assessment id>"
    assessment = ForeignKey(references=Assessment, index=True)
    claimed_by = UUID(null=True, default=None)
    claimed_at = Timestamptz(null=True, default=None)
    assigned_by = UUID(null=True, default=None)
    last_reviewer = UUID(null=True, default=None)
    last_reviewed_revision = Integer(default=0)
    updated_at = Timestamptz()


class Finding(Table, tablename="finding"):
    """A reviewer's verdict on one control of one frozen revision."""

    id = UUID(primary_key=True)
    key = Varchar(length=160, unique=True)  # "<assessment id>:<revision>:<control id>"
    assessment = ForeignKey(references=Assessment, index=True)
    revision = Integer()
    control_id = Varchar(length=64)
    verdict = Varchar(length=32)  # satisfied | not_satisfied | needs_clarification
    comment = Text(default="")
    author = UUID()
    at = Timestamptz()


class Comment(Table, tablename="review_comment"):
    """A comment in an assessment's thread, or a control's; internal notes are for regulators only."""

    id = UUID(primary_key=True)
    assessment = ForeignKey(references=Assessment, index=True)
    control_id = Varchar(length=64, default="")  # "" for the assessment's own thread
    parent = UUID(null=True, default=None)  # the thread's first comment; None for a new thread
    body = Text()
    internal = Boolean(default=False)
    author = UUID()
    author_name = Varchar(length=200)
    author_role = Varchar(length=32)
    revision = Integer()  # the assessment's revision when it was written
    at = Timestamptz()


class Recommendation(Table, tablename="recommendation"):
    """A reviewer's recommendation on a frozen revision; the signing officer decides on it."""

    id = UUID(primary_key=True)
    key = Varchar(length=120, unique=True)  # "<assessment id>:<revision>"
    assessment = ForeignKey(references=Assessment, index=True)
    revision = Integer()
    decision = Varchar(length=16)  # approve | reject
    rationale = Text()
    level = Varchar(length=16, default="")  # full | conditional (approve only)
    conditions = JSON(default="[]")
    reasons = JSON(default="[]")
    recommended_by = UUID()
    at = Timestamptz()


class Decision(Table, tablename="decision"):
    """A signing officer's decision on a recommended revision: one per revision, whatever the concurrency."""

    id = UUID(primary_key=True)
    key = Varchar(length=120, unique=True)  # "<assessment id>:<revision>"
    assessment = ForeignKey(references=Assessment, index=True)
    revision = Integer()
    decision = Varchar(length=16)  # issue | reject
    reason = Text(default="")
    decided_by = UUID()
    at = Timestamptz()


class AttestationRow(Table, tablename="attestation"):
    """A signed attestation. The token is the statement; the other columns are its index and its lifecycle."""

    id = UUID(primary_key=True)
    serial = Varchar(length=16, unique=True)  # PA-<year>-<6 digits>
    assessment = ForeignKey(references=Assessment, index=True)
    revision_key = Varchar(length=120, unique=True)  # "<assessment id>:<revision>": one attestation per revision
    organisation = ForeignKey(references=Organisation, index=True)
    scope_sha256 = Varchar(length=64, index=True)  # a newer attestation for the same scope supersedes
    document = JSON()  # the public description: provider, scope, catalog, revision, level, result, conditions
    level = Varchar(length=16)
    status = Varchar(length=16, index=True)  # active | suspended | revoked | expired | superseded
    status_list = Integer()
    status_index = Integer()
    token = Text()
    token_sha256 = Varchar(length=64)
    certificate_sha256 = Varchar(length=64)
    valid_from = Timestamptz()
    expires_at = Timestamptz(index=True)
    suspended_until = Timestamptz(null=True, default=None)
    superseded_by = Varchar(length=16, null=True, default=None)
    issued_by = UUID()
    created_at = Timestamptz()
    updated_at = Timestamptz()


class AttestationEvent(Table, tablename="attestation_event"):
    """Every lifecycle event of an attestation, in order; each is also a transparency-log entry."""

    id = UUID(primary_key=True)
    attestation = ForeignKey(references=AttestationRow, index=True)
    serial = Varchar(length=16, index=True)
    event = Varchar(length=16)  # issue | suspend | reinstate | revoke | expire | supersede | condition
    status = Varchar(length=16)  # the status after the event
    reason = Varchar(length=32, default="")
    detail = Text(default="")
    until = Timestamptz(null=True, default=None)
    actor = UUID(null=True, default=None)
    log_index = BigInt(null=True, default=None)
    at = Timestamptz()


class RegistryEntry(Table, tablename="registry_entry"):
    """The public registry's read model: one row per attestation, rewritten in the transaction of each change.

    Only what is public (``portal.domain.registry.rows``). A query matches the serial or the row's ``text``
    (a ``registry_text``); ``sort_name`` is the normalised provider name the registry sorts by. On PostgreSQL
    the index on ``text`` carries every column a search filters or sorts by, so a count or a page of the
    matches is read from that index alone, not from the table's rows.
    """

    serial = Varchar(length=16, primary_key=True)
    organisation = UUID(index=True)
    status = Varchar(length=16, index=True)
    level = Varchar(length=16)
    provider_name = Varchar(length=200)
    provider_name_ar = Varchar(length=200, default="")
    legal_name = Varchar(length=300)
    registration_number = Varchar(length=100)
    category = Varchar(length=40, index=True)
    country = Varchar(length=2, index=True)
    catalog_id = Varchar(length=64, index=True)
    catalog_version = Varchar(length=32)
    document = JSON()  # the public item: provider, scope, catalog, level, result
    text = UUID(index=True)  # registry_text.id
    sort_name = Varchar(length=200, index=True)
    valid_from = Timestamptz(index=True)
    expires_at = Timestamptz(index=True)
    superseded_by = Varchar(length=16, null=True, default=None)
    updated_at = Timestamptz(index=True)


class RegistryText(Table, tablename="registry_text"):
    """Each distinct searchable profile of the registry once (a provider's attestations share theirs): the
    search text, trigram-indexed on PostgreSQL, with the category and country a search narrows it by; keyed by
    its digest (``rows.text_key``). Written, never changed; one no entry uses any more matches nothing, since a
    search reaches entries only through ``registry_entry.text``."""

    id = UUID(primary_key=True)
    search = Text()
    category = Varchar(length=40)
    country = Varchar(length=2)


class ThrottleCounter(Table, tablename="throttle_counter"):
    """Login attempts per hashed key (account or client address), shared by every worker process."""

    key = Varchar(length=64, primary_key=True)
    failures = Integer(default=0)
    blocked_until = DoublePrecision(default=0.0)  # epoch seconds
    forget_at = DoublePrecision(default=0.0, index=True)


class LogEntry(Table, tablename="log_entry"):
    """The transparency log: append-only, never updated or deleted (``portal.domain.log``).

    ``body`` is the RFC 8785 JSON of the entry, byte for byte as hashed into ``leaf_hash``.
    """

    index = BigInt(primary_key=True)  # dense from 0: the leaf index in the Merkle tree
    body = Text()
    leaf_hash = Varchar(length=64)  # hex SHA-256(0x00 || body)
    event = Varchar(length=32, index=True)
    jti = Varchar(length=100, null=True, default=None, index=True)  # the attestation serial, if any
    at = Timestamptz()


class LogNode(Table, tablename="log_node"):
    """The hash of every complete subtree of the log, stored once when it completes; never updated."""

    key = BigInt(primary_key=True)  # (level << 48) | index, so a tile is one range scan
    level = Integer()  # 0: leaf hashes; a level-k node covers 2**k leaves
    index = BigInt()
    hash = Varchar(length=64)  # hex


class LogCheckpoint(Table, tablename="log_checkpoint"):
    """A signed C2SP checkpoint of the log at ``size``, stored by the append that reached it."""

    size = BigInt(primary_key=True)
    root_hash = Varchar(length=64)  # hex
    note = Text()  # the signed note, exactly as served
    at = Timestamptz()


ALL_TABLES: list[type[Table]] = [
    Organisation,
    User,
    MemberInvitation,
    PendingRegistration,
    UserSession,
    ApiToken,
    AuditEvent,
    Catalog,
    Assessment,
    Answer,
    Evidence,
    Revision,
    StatusListRow,
    StatusEntry,
    Review,
    Finding,
    Comment,
    Recommendation,
    Decision,
    AttestationRow,
    AttestationEvent,
    RegistryEntry,
    RegistryText,
    ThrottleCounter,
    LoginStep,
    TotpEnrolment,
    LogEntry,
    LogNode,
    LogCheckpoint,
]
