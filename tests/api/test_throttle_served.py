"""Login throttling against a real server (`portal serve`, one and two workers): concurrent bursts.

Every request of a burst is in flight at once, so only an atomic reservation shared by the workers can keep
the number of judged attempts at the limit.
"""

from __future__ import annotations

import asyncio
import json
import os
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

from portal.db.tables import UserSession
from portal.security.throttle import ACCOUNT
from tests.conftest import PASSWORD

PORTAL = str(Path(sys.executable).parent / "portal")
BURST = 40


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


@pytest.fixture(params=[1, 2], ids=["one-worker", "two-workers"])
def served(request: pytest.FixtureRequest, settings, tmp_path: Path) -> Iterator[Served]:
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
    server = Served(base_url, env)
    server.portal("migrate")
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [PORTAL, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(request.param)],
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


def _wrong(secret: str) -> str:
    return "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"


async def _burst(base_url: str, bodies: list[dict[str, str]]) -> Counter[int]:
    async with httpx.AsyncClient(base_url=base_url, timeout=15) as client:
        responses = await asyncio.gather(*(client.post("/api/v1/auth/login", json=body) for body in bodies))
    return Counter(response.status_code for response in responses)


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
