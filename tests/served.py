"""A real `portal serve` process on the suite's database, for tests that need one (crashes, bursts)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from portal.settings import Settings

PORTAL = str(Path(sys.executable).parent / "portal")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def portal_env(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PORTAL_DATABASE_URL": settings.database_url,
        "PORTAL_DATA_DIR": settings.data_dir,
        "PORTAL_SECRET_KEY": settings.secret_key,
        "PORTAL_ARGON2_TIME_COST": "1",
        "PORTAL_ARGON2_MEMORY_KIB": "1024",
        "PORTAL_LOG_LEVEL": "WARNING",
        **extra,
    }


async def run_portal(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed ``portal`` command on the test database, in another process, off the event loop."""
    return await asyncio.to_thread(
        subprocess.run, [PORTAL, *args], env=portal_env(settings), capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip


class Served:
    """``portal serve`` on a free loopback port; ``kill()`` is a kill -9, ``stop()`` a clean stop."""

    def __init__(self, settings: Settings, *, workers: int = 1, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        environment = portal_env(settings, **{"PORTAL_ISSUER": self.base, **env})
        self.process = subprocess.Popen(
            [PORTAL, "serve", "--port", str(self.port), "--workers", str(workers)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("portal serve did not start")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
