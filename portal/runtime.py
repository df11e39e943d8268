"""The composition root: every long-lived object of one portal process, built once from settings.

``create_app`` builds it and hands each service to the handlers through Litestar's ``Provide``
(``portal.deps``); the CLI and the demo build the same one. Nothing else constructs a service.
"""

from __future__ import annotations

from typing import Any

import msgspec

from portal.db.reads import Reader
from portal.domain.accounts.invitations import InvitationService
from portal.domain.accounts.members import MemberService
from portal.domain.accounts.registration import RegistrationService
from portal.domain.accounts.services import AccountService
from portal.domain.assessments.services import AssessmentService
from portal.domain.audit.anchors import AuditAnchors
from portal.domain.audit.services import install_anchors
from portal.domain.catalogs.services import CatalogService
from portal.domain.evidence.services import EvidenceService
from portal.domain.evidence.storage import FileEvidenceStore
from portal.domain.issuance.lookup import StatusLookup
from portal.domain.issuance.services import CertificateStore, IssuanceService
from portal.domain.keys.services import KeyService, key_passphrase
from portal.domain.log.services import LogService
from portal.domain.organisations.services import OrganisationService
from portal.domain.registry.services import RegistryService
from portal.domain.reviews.inbox import InboxService
from portal.domain.reviews.services import ReviewService
from portal.domain.status.services import StatusListService
from portal.domain.verification.services import VerificationService
from portal.domain.verification.verdicts import Verdicts
from portal.mail import Mailer
from portal.security.auth import session_auth
from portal.security.passwords import PasswordHashing
from portal.security.ratelimit import RateLimiter
from portal.security.sealed import SealedBox, derive_key
from portal.security.throttle import (
    Counters,
    DatabaseCounters,
    InvitationThrottle,
    LoginThrottle,
    MemoryCounters,
    RedisCounters,
    RegistrationThrottle,
)
from portal.settings import Settings


class Runtime(msgspec.Struct, kw_only=True):
    settings: Settings
    csrf_secret: str
    session_auth: Any  # litestar JWTCookieAuth: issues and checks session tokens
    accounts: AccountService
    registrations: RegistrationService
    invitations: InvitationService
    members: MemberService
    organisations: OrganisationService
    catalogs: CatalogService
    assessments: AssessmentService
    evidence: EvidenceService
    keys: KeyService
    status_lists: StatusListService
    reviews: ReviewService
    inbox: InboxService
    issuance: IssuanceService
    registry: RegistryService
    status_lookup: StatusLookup  # the public status read model (one per worker process)
    log: LogService
    audit_anchors: AuditAnchors
    rate_limiter: RateLimiter
    verification: VerificationService


def _throttle_counters(settings: Settings) -> Counters:
    # Either is shared by every worker process: Redis across hosts, the database across one database's users.
    return RedisCounters(settings.redis_url) if settings.redis_url else DatabaseCounters()


def _rate_limiter(settings: Settings) -> RateLimiter:
    # Redis when configured (shared by every worker); else this process: a public read never writes the database.
    counters: Counters = (
        RedisCounters(settings.redis_url, namespace="portal-rate") if settings.redis_url else MemoryCounters()
    )
    return RateLimiter(
        counters,
        window=settings.rate_limit_window,
        default=settings.rate_limit_public,
        groups={"verify": settings.rate_limit_verify},
    )


def build_runtime(settings: Settings) -> Runtime:
    secret = settings.secret_key
    # One key per purpose, derived from PORTAL_SECRET_KEY, so sessions and CSRF never share one.
    session_secret = derive_key(secret, "session-jwt").hex()
    catalogs = CatalogService()
    assessments = AssessmentService(catalogs)
    accounts = AccountService(
        passwords=PasswordHashing(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib),
        totp_box=SealedBox(secret, "totp"),
        throttle=LoginThrottle(_throttle_counters(settings)),
        issuer=settings.issuer,
        session_minutes=settings.session_minutes,
    )
    keys = KeyService(settings.data_path / "keys", key_passphrase(settings), accounts)
    reviews = ReviewService(assessments)
    status_lists = StatusListService(keys, settings.issuer)
    log = LogService(keys, settings.issuer)
    keys.log = log  # every rotation is a `key` entry in the log, in the transaction of its audit event
    anchors = AuditAnchors(log, events=settings.audit_anchor_events, minutes=settings.audit_anchor_minutes)
    install_anchors(anchors)  # the audit trail's head goes into the log as it grows
    evidence = EvidenceService(
        FileEvidenceStore(settings.data_path / "evidence"), assessments, settings.max_upload_bytes
    )
    issuance = IssuanceService(
        assessments,
        keys,
        status_lists,
        CertificateStore(settings.data_path / "certificates"),
        settings.issuer,
        log,
    )
    status_lookup = StatusLookup(Reader(), issuance.expire_due, max_entries=settings.status_cache_entries)
    issuance.on_change.append(status_lookup.forget)  # this worker's own changes: forgotten at commit
    status_lookup.listeners.append(status_lists.changed)  # a key entry in the log: lists signed afresh
    return Runtime(
        settings=settings,
        csrf_secret=derive_key(secret, "csrf").hex(),
        session_auth=session_auth(session_secret, minutes=settings.session_minutes, secure=settings.production),
        accounts=accounts,
        registrations=RegistrationService(
            accounts,
            RegistrationThrottle(_throttle_counters(settings), settings.registrations_per_hour),
            Mailer(settings),
        ),
        invitations=InvitationService(
            accounts,
            InvitationThrottle(_throttle_counters(settings), settings.invitations_per_hour),
            Mailer(settings),
        ),
        members=MemberService(),
        organisations=OrganisationService(),
        catalogs=catalogs,
        assessments=assessments,
        evidence=evidence,
        keys=keys,
        status_lists=status_lists,
        reviews=reviews,
        inbox=InboxService(reviews),
        issuance=issuance,
        registry=RegistryService(issuance, settings.issuer),
        status_lookup=status_lookup,
        log=log,
        audit_anchors=anchors,
        rate_limiter=_rate_limiter(settings),
        verification=VerificationService(
            issuance,
            keys,
            status_lists,
            log,
            settings.issuer,
            max_upload_bytes=evidence.max_body_bytes,
            lookup=status_lookup,
            verdicts=Verdicts(max_entries=settings.verdict_cache_entries),
        ),
    )
