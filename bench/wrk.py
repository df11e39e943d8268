"""Load from wrk (the Debian package; installed with apt-get when absent, as root): requests per second and
latency percentiles, each run repeated and the median kept."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.figures import median

SCRIPT = """
local paths = {%s}
local method, body = "%s", %s
local n = 0
wrk.headers["Host"] = "127.0.0.1"
if body then wrk.headers["Content-Type"] = "application/json" end
request = function()
  n = n + 1
  return wrk.format(method, paths[(n %% #paths) + 1], nil, body)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), summary.errors.status + summary.errors.connect +
    summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


@dataclass(frozen=True)
class Load:
    rate: float  # requests per second
    p50_ms: float
    p99_ms: float


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is not installed: apt-get install -y wrk")
    install = ["apt-get", "install", "-y", "-qq", "wrk"]
    if subprocess.run(install, stdout=subprocess.DEVNULL).returncode != 0:  # a fresh image has no package lists
        subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(install, check=True, stdout=subprocess.DEVNULL)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk could not be installed; install the Debian package wrk")
    return found


def version() -> str:
    """The wrk binary and the Debian package it came from (the release pins its version)."""
    path = ensure_wrk()
    package = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", "wrk"], capture_output=True, text=True, check=False
    ).stdout.strip()
    first = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    said = (first.stdout + first.stderr).splitlines()
    return f"{said[0].strip() if said else path}" + (f" (Debian package {package})" if package else "")


def run(base: str, paths: list[str], *, seconds: float, connections: int = 32, json_body: str | None = None) -> Load:
    """One wrk run (1 thread) cycling through ``paths`` (GET, or POST of ``json_body``); non-2xx answers or
    socket errors fail it."""
    if json_body is not None and ("]]" in json_body or "\n" in json_body):
        raise ValueError("the body must fit a Lua long string on one line")
    body = "nil" if json_body is None else f"[[{json_body}]]"
    script = SCRIPT % (", ".join(f'"{p}"' for p in paths), "GET" if json_body is None else "POST", body)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        done = subprocess.run(
            [ensure_wrk(), "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "5s", "-s",
             handle.name, base],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        Path(handle.name).unlink()
    found = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+)", done.stdout)
    if found is None:
        raise RuntimeError(f"wrk printed no result: {done.stdout}{done.stderr}")
    requests, micros, p50, p99, errors = (int(g) for g in found.groups())
    if errors or requests == 0:
        raise RuntimeError(f"wrk: {errors} errors or non-2xx answers in {requests} requests\n{done.stdout}")
    return Load(requests / (micros / 1e6), p50 / 1000, p99 / 1000)


def median_of(
    base: str, paths: list[str], *, seconds: float, repeats: int = 3, json_body: str | None = None
) -> tuple[Load, list[Load]]:
    """The median run by rate, and every run."""
    runs = [run(base, paths, seconds=seconds, json_body=json_body) for _ in range(repeats)]
    rates = median([r.rate for r in runs])
    chosen = min(runs, key=lambda r: abs(r.rate - rates))
    return Load(rates, chosen.p50_ms, median([r.p99_ms for r in runs])), runs
