"""Settings, read once from the environment (``PORTAL_*``) into one typed object."""

from __future__ import annotations

import functools
import logging
import os
import secrets
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import msgspec

log = logging.getLogger("portal.settings")

REPO_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(RuntimeError):
    """The environment does not describe a portal that may start."""


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    env: Literal["development", "production", "test"] = "development"
    data_dir: str = str(REPO_ROOT / "var")
    database_url: str = ""
    issuer: str = "http://127.0.0.1:8000"
    secret_key: str = ""
    redis_url: str = ""
    key_passphrase: str = ""  # encrypts the signing keys at rest; derived from secret_key when unset
    # Hosts the portal answers for (as sent in the Host header, port included); others are refused.
    # The issuer's host is always allowed; development adds the loopback names on any port below.
    allowed_hosts: list[str] = msgspec.field(default_factory=list)
    cors_origins: list[str] = msgspec.field(default_factory=list)
    session_minutes: int = 60
    max_body_bytes: int = 1_048_576
    max_upload_bytes: int = 50 * 1024 * 1024
    body_idle_seconds: float = 20.0  # the longest a client may pause while sending a body
    body_total_seconds: float = 600.0  # the longest any request body may take to arrive
    # Public routes, per client address and route group in each window (portal.security.ratelimit): high
    # enough that a person, a script polling the status or the test suite never meets them.
    rate_limit_window: int = 60
    rate_limit_public: int = 1200
    rate_limit_verify: int = 300
    # argon2id cost; production keeps the library's recommended defaults.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    log_level: str = "INFO"
    # Mail: sent through this SMTP server (smtp://user:password@host:port, or smtps:// for TLS from the start);
    # unset, every message is written to PORTAL_DATA_DIR/outbox as an .eml file instead (development, tests).
    smtp_url: str = ""
    mail_from: str = ""  # defaults to no-reply@ the issuer's host
    registrations_per_hour: int = 10  # per client address; every registration counts, accepted or not
    invitations_per_hour: int = 30  # per inviting admin
    # The audit chain's head goes into the transparency log every this many events or minutes, whichever
    # comes first (portal.domain.audit.anchors).
    audit_anchor_events: int = 1000
    audit_anchor_minutes: float = 15.0
    # Status answers each worker keeps (portal.domain.issuance.lookup); 0 reads the database every time.
    status_cache_entries: int = 200_000
    # Valid verify verdicts each worker keeps (portal.domain.verification.verdicts); 0 checks every time.
    verdict_cache_entries: int = 100_000
    # security.txt (RFC 9116): where to report a vulnerability (a mailto: or https: URI), and the policy page.
    security_contact: str = ""
    security_policy: str = ""  # defaults to the portal's own /security page

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)


_LIST_FIELDS = {"allowed_hosts", "cors_origins"}


def _from_environ(environ: dict[str, str]) -> dict[str, object]:
    raw: dict[str, object] = {}
    for field in msgspec.structs.fields(Settings):
        value = environ.get(f"PORTAL_{field.name.upper()}")
        if value is None or value == "":
            continue
        raw[field.name] = [v.strip() for v in value.split(",") if v.strip()] if field.name in _LIST_FIELDS else value
    return raw


@functools.cache
def _development_secret(data_dir: Path) -> str:
    """Created once per data directory, and warned about then: a `make run` starts three processes (migrate,
    demo, serve), and one warning says it where three would be noise."""
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        log.warning("PORTAL_SECRET_KEY is not set: created a development key in %s", path)
    else:
        log.debug("PORTAL_SECRET_KEY is not set: using the development key in %s", path)
    return path.read_text().strip()


def allowed_hosts(settings: Settings) -> list[str]:
    issuer = urlsplit(settings.issuer)
    hosts = [*settings.allowed_hosts, issuer.netloc, issuer.hostname or ""]
    if not settings.production:
        hosts += ["127.0.0.1", "localhost", "testserver"]
        hosts += [f"{name}:{port}" for name in ("127.0.0.1", "localhost") for port in (8000, 8001, 8080)]
    return sorted({host for host in hosts if host})


def load_settings(environ: dict[str, str] | None = None, *, need_secret: bool = True) -> Settings:
    """Build settings from the environment; refuse a production start without its secrets."""
    env = dict(os.environ if environ is None else environ)
    try:
        settings = msgspec.convert(_from_environ(env), Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(f"invalid setting: {exc}") from exc
    data_dir = Path(settings.data_dir).resolve()
    changes: dict[str, object] = {"data_dir": str(data_dir)}
    if not settings.database_url:
        changes["database_url"] = f"sqlite:///{data_dir / 'portal.sqlite3'}"
    if not settings.secret_key:
        if not need_secret:
            pass
        elif settings.production:
            raise SettingsError("PORTAL_SECRET_KEY is required in production")
        else:
            changes["secret_key"] = _development_secret(data_dir)
    elif len(settings.secret_key) < 32:
        raise SettingsError("PORTAL_SECRET_KEY must be at least 32 characters")
    if "*" in settings.cors_origins or "*" in settings.allowed_hosts:
        raise SettingsError("PORTAL_CORS_ORIGINS and PORTAL_ALLOWED_HOSTS list origins and hosts; '*' is refused")
    changes["allowed_hosts"] = allowed_hosts(settings)
    if settings.production and settings.issuer.startswith("http://"):
        raise SettingsError("PORTAL_ISSUER must be an https:// URL in production")
    return msgspec.structs.replace(settings, **changes)
