"""Real servers for the bench: ``portal serve`` and the bare Litestar app, both uvicorn with uvloop and
httptools, on loopback ports, started and stopped by their own process group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
HOST = {"Host": "127.0.0.1"}  # what the portal's allowed hosts expect from a loopback client
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not found")


class Server:
    """A server process on a free port; ``health`` is the path that answers once it is ready."""

    def __init__(self, command: list[str], env: dict[str, str], port: int, health: str) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            command,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 180  # a loaded 2-core machine can take a minute to start 4 workers
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited: {self.process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(self.base + health, headers=HOST, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{command} did not start")

    @property
    def pid(self) -> int:
        return self.process.pid

    def worker_pids(self) -> list[int]:
        """The process itself, or uvicorn's worker processes when it has several."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        found = [int(p) for p in children.read_text().split()] if children.exists() else []
        return found or [self.pid]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def portal(env: dict[str, str], *, workers: int = 1) -> Server:
    port = free_port()
    # The issuer the database was seeded under (its tokens name it), else this server's own address.
    env = {"PORTAL_ISSUER": f"http://127.0.0.1:{port}", **env, "PORTAL_LOG_LEVEL": "WARNING"}
    command = [str(BIN / "portal"), "serve", "--port", str(port), "--workers", str(workers)]
    return Server(command, env, port, "/healthz")


def bare(env: dict[str, str] | None = None) -> Server:
    """``bench.bare`` served exactly as ``portal serve`` serves the portal (uvloop, httptools, warning logs)."""
    port = free_port()
    command = [str(BIN / "uvicorn"), "bench.bare:app", "--port", str(port), "--loop", "uvloop", "--http",
               "httptools", "--log-level", "warning", "--no-server-header"]  # fmt: skip
    return Server(command, env or {}, port, "/status")
