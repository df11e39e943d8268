"""Test harness: a real database built by the real migrations — SQLite always, PostgreSQL when asked.

`make test` runs the suite on SQLite, then the database tests again with PORTAL_TEST_DATABASE=postgres
against PORTAL_TEST_POSTGRES_URL. Tests under tests/api and tests/db are marked `db` automatically.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from litestar import Litestar

from portal.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PASSWORD = "correct horse battery staple"
TEST_SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).relative_to(ROOT / "tests").parts
        if parts[0] in {"api", "db"}:
            item.add_marker(pytest.mark.db)
    # The browser tests go last: Playwright's sync API keeps an event loop running in this thread until the
    # session ends, and no asyncio test can start while it does.
    items.sort(key=lambda item: Path(str(item.fspath)).relative_to(ROOT / "tests").parts[0] == "browser")


def _database_url(tmp: Path) -> str:
    if os.environ.get("PORTAL_TEST_DATABASE") == "postgres":
        url = os.environ.get("PORTAL_TEST_POSTGRES_URL")
        if not url:
            pytest.exit("PORTAL_TEST_DATABASE=postgres needs PORTAL_TEST_POSTGRES_URL", returncode=2)
        return url
    return f"sqlite:///{tmp / 'portal-test.sqlite3'}"


async def _reset_postgres(url: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def settings() -> Settings:
    tmp = Path(tempfile.mkdtemp(prefix="portal-test-"))
    url = _database_url(tmp)
    return load_settings(
        {
            "PORTAL_ENV": "test",
            "PORTAL_DATA_DIR": str(tmp),
            "PORTAL_DATABASE_URL": url,
            "PORTAL_SECRET_KEY": TEST_SECRET,
            "PORTAL_ISSUER": "http://testserver",
            # argon2id still, at a cost that keeps the suite fast.
            "PORTAL_ARGON2_TIME_COST": "1",
            "PORTAL_ARGON2_MEMORY_KIB": "1024",
            "PORTAL_LOG_LEVEL": "WARNING",
            # Registration's own throttle is tested against a served portal with a low limit.
            "PORTAL_REGISTRATIONS_PER_HOUR": "1000000",
            # The public rate limits are tested with their own counts (tests/api/test_verify.py).
            "PORTAL_RATE_LIMIT_PUBLIC": "100000000",
            "PORTAL_RATE_LIMIT_VERIFY": "100000000",
            # No audit anchor lands in the log unless a test asks for one (tests/api/test_audit_anchors.py).
            "PORTAL_AUDIT_ANCHOR_EVENTS": "1000000000",
            "PORTAL_AUDIT_ANCHOR_MINUTES": "1000000000",
        }
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Litestar]:
    from portal.app import create_app
    from portal.db import close_engine, open_engine
    from portal.db.migrate import migrate
    from portal.db.tables import Organisation

    if settings.database_url.startswith("postgres"):
        await _reset_postgres(settings.database_url)
    application = create_app(settings)
    # The ASGI transport sends no lifespan events, so the test opens and closes the engine's pool itself.
    engine = Organisation._meta.db
    await open_engine(engine)
    await migrate(engine)
    yield application
    await close_engine(engine)


def clean_order() -> list[str]:
    """Every table, each after the tables that reference it: derived from the schema, never kept by hand."""
    from piccolo.columns import ForeignKey

    from portal.db.tables import ALL_TABLES

    remaining = {table._meta.tablename: table for table in ALL_TABLES}
    order: list[str] = []
    while remaining:
        referenced = {
            column._foreign_key_meta.resolved_references._meta.tablename
            for table in remaining.values()
            for column in table._meta.columns
            if isinstance(column, ForeignKey)
        }
        free = sorted(name for name in remaining if name not in referenced)
        assert free, f"foreign keys form a cycle among {sorted(remaining)}"
        order += free
        for name in free:
            del remaining[name]
    return order


@pytest.fixture
def runtime(app: Litestar) -> Any:
    """The app's composition root: its services, settings and keys."""
    return app.state.runtime


@pytest.fixture
async def clean_database(app: Litestar) -> AsyncIterator[None]:
    """After each database test: empty the tables (the login throttle's counters too) and the evidence store."""
    yield
    from portal.db.tables import Organisation

    engine = Organisation._meta.db
    for table in clean_order():
        await engine.run_ddl(f"DELETE FROM {table}")
    evidence_root = app.state.runtime.evidence.store.root
    for stored in sorted(evidence_root.rglob("*"), reverse=True):
        if stored.is_file():
            stored.chmod(0o600)
            stored.unlink()
        elif stored != evidence_root / "tmp":
            stored.rmdir()


@pytest.fixture
async def baseline(app: Litestar) -> None:
    """The built-in catalog, published (the per-test cleanup removes catalogs)."""
    await app.state.runtime.catalogs.ensure_baseline()


class Client(httpx.AsyncClient):
    """An HTTP client on the app, with the CSRF header added for cookie sessions like a browser page would."""

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        csrf = self.cookies.get("portal_csrf")
        if csrf and "x-csrftoken" not in request.headers and request.method not in {"GET", "HEAD", "OPTIONS"}:
            request.headers["x-csrftoken"] = csrf
        return await super().send(request, **kwargs)

    async def prime_csrf(self) -> str:
        # Any page sets the CSRF cookie; the health check is the cheapest (the start page builds a dashboard).
        await self.get("/healthz")
        return self.cookies["portal_csrf"]


@pytest.fixture
def client_factory(app: Litestar) -> Callable[[], Client]:
    def make() -> Client:
        return Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver")

    return make


@pytest.fixture
def anon(client_factory: Callable[[], Client]) -> Client:
    return client_factory()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def registration(**overrides: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    body = {
        "organisation": {
            "name": f"Provider {tag}",
            "legal_name": f"Provider {tag} Ltd",
            "category": "telecom_operator",
            "country": "BH",
            "registration_number": f"CR-{tag}",
            "website": "https://provider.example",
            "contact_email": f"contact-{tag}@provider.example",
        },
        "user": {"email": f"admin-{tag}@provider.example", "password": PASSWORD, "display_name": "Admin"},
    }
    for key, value in overrides.items():
        section, _, field = key.partition("__")
        body[section][field] = value
    return body


def mail_to(settings: Settings, email: str) -> list[str]:
    """The bodies of the messages sent to ``email`` (the test portal writes its mail to the outbox), oldest first."""
    from portal.mail import outbox_messages

    return [
        str(message.get_content())
        for message in outbox_messages(settings.data_path / "outbox")
        if message["To"] == email
    ]


def mailed_link(outbox: Path, email: str, path: str) -> str:
    """The newest link to ``path`` (``/invitations#``, ``/register/confirm#``) in the mail sent to ``email``."""
    from portal.mail import outbox_messages

    bodies = [str(message.get_content()) for message in outbox_messages(outbox) if message["To"] == email]
    links = [line.strip() for body in bodies for line in body.splitlines() if path in line]
    assert links, f"no {path} link was mailed to {email}"
    return links[-1]


def confirmation_code(settings: Settings, email: str) -> str:
    """The secret from the newest confirmation link mailed to ``email`` (the part after '#')."""
    return mailed_link(settings.data_path / "outbox", email, "/register/confirm#").partition("#")[2]


def invitation_code(settings: Settings, email: str) -> str:
    """The secret from the newest invitation link mailed to ``email`` (the part after '#')."""
    return mailed_link(settings.data_path / "outbox", email, "/invitations#").partition("#")[2]


async def register(client: Client, settings: Settings, body: dict[str, Any]) -> dict[str, Any]:
    """Register through the API and confirm with the mailed link, as a person would; returns the user JSON."""
    started = await client.post("/api/v1/auth/register", json=body)
    assert started.status_code == 202, started.text
    code = confirmation_code(settings, body["user"]["email"].lower())
    confirmed = await client.post("/api/v1/auth/register/confirm", json={"code": code})
    assert confirmed.status_code == 201, confirmed.text
    return dict(confirmed.json())


class Actors:
    """Builds organisations and logged-in clients through the real API and services."""

    def __init__(self, app: Litestar, client_factory: Callable[[], Client]) -> None:
        self.app = app
        self.client_factory = client_factory
        self.totp_secrets: dict[str, str] = {}

    async def login(self, email: str, password: str = PASSWORD, *, totp: str | None = None) -> Client:
        client = self.client_factory()
        body: dict[str, Any] = {"email": email, "password": password}
        secret = self.totp_secrets.get(email)
        if totp is None and secret:
            totp = pyotp.TOTP(secret).now()
        if totp:
            body["totp"] = totp
        response = await client.post("/api/v1/auth/login", json=body)
        assert response.status_code == 200, response.text
        await client.prime_csrf()
        return client

    async def provider(
        self, *, verified: bool = True, category: str = "telecom_operator"
    ) -> tuple[Client, dict[str, Any]]:
        """A provider organisation and its logged-in provider_admin; returns (client, user JSON)."""
        body = registration(organisation__category=category)
        user = await register(self.client_factory(), self.app.state.runtime.settings, body)
        if verified:
            admin = await self.regulator("regulator_admin")
            verified_response = await admin.post(f"/api/v1/organisations/{user['organisation_id']}/verify")
            assert verified_response.status_code == 200, verified_response.text
        return await self.login(body["user"]["email"]), user

    async def invite(
        self, admin: Client, organisation_id: str, email: str, role: str = "provider_editor", name: str = "Member"
    ) -> str:
        """Invite ``email`` through the API as ``admin``; returns the secret from the link mailed to it."""
        body = {"email": email, "display_name": name, "role": role}
        invited = await admin.post(f"/api/v1/organisations/{organisation_id}/members", json=body)
        assert invited.status_code == 201, invited.text
        return invitation_code(self.app.state.runtime.settings, email.lower())

    async def member(self, organisation_id: str, role: str) -> tuple[Client, dict[str, Any]]:
        user = await self.create_user(role, organisation_id=organisation_id)
        return await self.login(user["email"]), user

    async def create_user(self, role: str, *, organisation_id: str | None = None) -> dict[str, Any]:
        from portal.domain.context import SYSTEM
        from portal.security.principal import Role

        runtime = self.app.state.runtime
        org = uuid.UUID(organisation_id) if organisation_id else await runtime.organisations.regulator_organisation()
        email = f"{unique(role)}@example.org"
        user, seed = await runtime.accounts.create_user(
            SYSTEM,
            email=email,
            role=Role(role),
            organisation_id=org,
            password=PASSWORD,
        )
        if seed:
            self.totp_secrets[email] = seed
        return {
            "email": email,
            "id": str(user.id),
            "organisation_id": str(user.organisation_id),
            "role": role,
        }

    async def regulator(self, role: str = "regulator_admin") -> Client:
        user = await self.create_user(role)
        return await self.login(user["email"])


@pytest.fixture
def actors(app: Litestar, client_factory: Callable[[], Client]) -> Actors:
    return Actors(app, client_factory)
