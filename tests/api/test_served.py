"""Against a real server (`portal serve` on a free port, the suite's database): login throttling under
concurrent bursts with one and two workers, and raw requests no test client would send.

Every request of a burst is in flight at once, so only an atomic reservation shared by the workers can keep
the number of judged attempts at the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest
import redis

from portal.db.tables import AuditEvent, PendingRegistration, UserSession
from portal.security.throttle import ACCOUNT
from portal.settings import Settings
from tests.conftest import PASSWORD, registration

PORTAL = str(Path(sys.executable).parent / "portal")
BURST = 40
# A database of its own: the fixture empties the throttle's keys before and after each test.
# One Redis database per pass: make test runs the SQLite and PostgreSQL passes at the same time.
_REDIS_DB = 14 if os.environ.get("PORTAL_TEST_DATABASE") == "postgres" else 15
REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{_REDIS_DB}")


class Served:
    def __init__(self, base_url: str, env: dict[str, str]) -> None:
        self.base_url = base_url
        self.env = env

    def portal(self, *args: str, stdin: str = "") -> str:
        done = subprocess.run(
            [PORTAL, *args], input=stdin, capture_output=True, text=True, env=self.env, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def regulator(self, email: str) -> str:
        """A reviewer made with `portal users create`; returns the TOTP secret."""
        out = self.portal(
            "users", "create", "--email", email, "--role", "reviewer", "--password-stdin", "--json", stdin=PASSWORD
        )
        return str(json.loads(out)["totp_secret"])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _serve(settings, tmp_path: Path, workers: int, redis_url: str = "") -> Iterator[Served]:
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PORTAL_ENV": "test",
        "PORTAL_DATABASE_URL": settings.database_url,  # the suite's database: cleaned after the test
        "PORTAL_DATA_DIR": str(tmp_path),
        "PORTAL_SECRET_KEY": settings.secret_key,
        "PORTAL_ISSUER": base_url,
        "PORTAL_ALLOWED_HOSTS": f"127.0.0.1:{port}",
        "PORTAL_ARGON2_TIME_COST": "1",
        "PORTAL_ARGON2_MEMORY_KIB": "1024",
        "PORTAL_LOG_LEVEL": "WARNING",
    }
    env.pop("PORTAL_REDIS_URL", None)
    if redis_url:
        env["PORTAL_REDIS_URL"] = redis_url
    server = Served(base_url, env)
    server.portal("migrate")
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [PORTAL, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _forget_redis_counters() -> None:
    with redis.Redis.from_url(REDIS_URL) as client:
        for key in client.scan_iter("portal-throttle:*"):
            client.delete(key)


@pytest.fixture(scope="module", params=["one-worker", "two-workers", "two-workers-redis"])
def server(request: pytest.FixtureRequest, settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server per configuration for the module's tests (each test's rows are cleaned after it)."""
    redis_url = ""
    if request.param.endswith("redis"):
        try:
            _forget_redis_counters()
        except redis.ConnectionError as exc:
            pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
        redis_url = REDIS_URL
    workers = 1 if request.param == "one-worker" else 2
    with _serve(settings, tmp_path_factory.mktemp("served"), workers, redis_url) as running:
        yield running


@pytest.fixture
def served(server: Served) -> Iterator[Served]:
    yield server
    if server.env.get("PORTAL_REDIS_URL"):
        _forget_redis_counters()  # the database is cleaned after each test; Redis is not


@pytest.fixture
def one_server(settings, tmp_path: Path) -> Iterator[Served]:
    with _serve(settings, tmp_path, 1) as server:
        yield server


def _wrong(secret: str) -> str:
    return "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"


async def _burst(base_url: str, bodies: list[dict[str, str]]) -> Counter[int]:
    async with httpx.AsyncClient(base_url=base_url, timeout=15) as client:
        responses = await asyncio.gather(*(client.post("/api/v1/auth/login", json=body) for body in bodies))
    return Counter(response.status_code for response in responses)


async def test_a_burst_of_registrations_is_accepted_only_up_to_the_hourly_limit(served: Served) -> None:
    # The served portal keeps the default limit (10 an hour per client address), shared by its workers.
    limit = Settings().registrations_per_hour
    bodies = [registration() for _ in range(BURST)]
    async with httpx.AsyncClient(base_url=served.base_url, timeout=30) as client:
        responses = await asyncio.gather(*(client.post("/api/v1/auth/register", json=body) for body in bodies))
    assert Counter(r.status_code for r in responses) == {202: limit, 429: BURST - limit}
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.headers["content-type"] == "application/problem+json" and int(refused.headers["retry-after"]) > 0
    assert await PendingRegistration.count() == limit


async def test_a_burst_of_wrong_passwords_is_judged_only_up_to_the_limit(served: Served) -> None:
    email = "burst@regulator.example"
    secret = served.regulator(email)
    wrong = {"email": email, "password": "not the password at all"}
    assert await _burst(served.base_url, [wrong] * BURST) == {401: ACCOUNT.free, 429: BURST - ACCOUNT.free}
    # After the limit, the right password (and code) inside a burst of wrong ones does not log in.
    right = {"email": email, "password": PASSWORD, "totp": pyotp.TOTP(secret).now()}
    assert await _burst(served.base_url, [wrong] * 20 + [right] + [wrong] * 19) == {429: BURST}
    assert await UserSession.count() == 0


async def test_a_burst_of_wrong_codes_is_judged_only_up_to_the_limit(served: Served) -> None:
    email = "codes@regulator.example"
    secret = served.regulator(email)
    wrong = {"email": email, "password": PASSWORD, "totp": _wrong(secret)}
    statuses = await _burst(served.base_url, [wrong] * BURST)
    # A right password gives its reservation back, so some of the burst may be refused while others are in
    # flight; the codes judged wrong never exceed the limit.
    assert set(statuses) <= {401, 429} and 1 <= statuses[401] <= ACCOUNT.free and statuses.total() == BURST
    async with httpx.AsyncClient(base_url=served.base_url, timeout=15) as client:
        judged = statuses[401]
        while (response := await client.post("/api/v1/auth/login", json=wrong)).status_code == 401:
            judged += 1
        assert response.status_code == 429 and judged == ACCOUNT.free
        right = {"email": email, "password": PASSWORD, "totp": pyotp.TOTP(secret).now()}
        assert (await client.post("/api/v1/auth/login", json=right)).status_code == 429
    assert await UserSession.count() == 0


def _raw(base_url: str, request: str) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (test clients tidy header values) and read the whole answer."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request.encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode().split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def test_a_bad_host_is_a_400_problem_with_the_security_headers(one_server: Served) -> None:
    netloc = one_server.base_url.removeprefix("http://")
    for host in [f"{netloc} ", f"{netloc}x", "evil.example", ""]:
        for accept in ["application/json", "text/html"]:
            status, headers, body = _raw(
                one_server.base_url,
                f"GET /login HTTP/1.1\r\nHost: {host}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n",
            )
            assert status == 400 and headers["content-type"] == "application/problem+json", (host, accept, body)
            assert json.loads(body) == {
                "type": "/problems/invalid-host",
                "title": "Invalid host header",
                "status": 400,
                "detail": "The portal does not serve this host name. Set PORTAL_ISSUER to the portal's public URL, "
                "or list the host (with its port) in PORTAL_ALLOWED_HOSTS.",
                "instance": "/login",
            }
            assert headers["content-security-policy"].startswith("default-src 'self'")
            assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"


async def test_a_burst_of_wrong_codes_on_the_page_step_is_judged_only_up_to_the_limit(served: Served) -> None:
    email = "page@regulator.example"
    secret = served.regulator(email)
    async with httpx.AsyncClient(base_url=served.base_url, timeout=15) as browser:
        form = await browser.get("/login")
        fields = {"email": email, "password": PASSWORD, "_csrf_token": _csrf(form.text)}
        step = await browser.post("/login", data=fields)
        assert step.status_code == 200 and "portal_mfa" in browser.cookies
        wrong = {"totp": _wrong(secret), "_csrf_token": _csrf(step.text)}
        statuses = Counter(
            response.status_code
            for response in await asyncio.gather(*(browser.post("/login/totp", data=wrong) for _ in range(BURST)))
        )
        assert set(statuses) <= {401, 429} and statuses.total() == BURST
        right = {"totp": pyotp.TOTP(secret).now(), "_csrf_token": _csrf(step.text)}
        assert (await browser.post("/login/totp", data=right)).status_code in {401, 429}
    events = await AuditEvent.select(AuditEvent.after).where(AuditEvent.object_id == email).output(load_json=True)
    judged = [event for event in events if event["after"] == {"reason": "bad one-time code"}]
    assert 1 <= len(judged) <= ACCOUNT.free and await UserSession.count() == 0


def _csrf(page: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)
