"""The long-lived objects one portal process shares: built once from settings in create_app."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

from portal.domain.evidence.storage import EvidenceStore, FileEvidenceStore
from portal.security.auth import session_auth
from portal.security.passwords import PasswordHashing
from portal.security.sealed import SealedBox, derive_key
from portal.security.throttle import LoginThrottle
from portal.settings import Settings


class Runtime(msgspec.Struct, kw_only=True, dict=True):
    settings: Settings
    passwords: PasswordHashing
    totp_box: SealedBox
    throttle: LoginThrottle
    session_secret: str
    mfa_secret: str
    csrf_secret: str
    session_auth: Any  # litestar JWTCookieAuth: issues and checks session tokens
    evidence: EvidenceStore


def _store(settings: Settings) -> Store:
    if settings.redis_url:
        from litestar.stores.redis import RedisStore

        return RedisStore.with_client(url=settings.redis_url, namespace="portal-throttle")
    return MemoryStore()


def build_runtime(settings: Settings) -> Runtime:
    secret = settings.secret_key
    session_secret = derive_key(secret, "session-jwt").hex()
    return Runtime(
        settings=settings,
        passwords=PasswordHashing(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib),
        totp_box=SealedBox(secret, "totp"),
        throttle=LoginThrottle(_store(settings)),
        # One key per purpose, derived from PORTAL_SECRET_KEY, so sessions, MFA steps and CSRF never share one.
        session_secret=session_secret,
        session_auth=session_auth(session_secret, minutes=settings.session_minutes, secure=settings.production),
        evidence=FileEvidenceStore(settings.data_path / "evidence"),
        mfa_secret=derive_key(secret, "mfa-step-jwt").hex(),
        csrf_secret=derive_key(secret, "csrf").hex(),
    )
