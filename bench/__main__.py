"""``make bench`` (every measurement, at 1,000,000 attestations) and ``make bench-smoke`` (``--smoke``: the same
code paths at 2,000 attestations with short runs; exits 1 when any measurement cannot run).

    .venv/bin/python -m bench [--smoke] [--only status,revoke,issuance,hooks,upload,library]

``BENCH_ATTESTATIONS`` changes N, ``BENCH_DATABASES`` the engines (``sqlite,postgres``), ``BENCH_DIR`` keeps
seeded databases between runs, ``BENCH_POSTGRES_URL`` names the PostgreSQL server (see bench/database.py).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import attestations_bench, hooks, issuance_bench, log_bench, status_bench, upload_bench, wrk
from bench.database import Database, prepare, workspace
from bench.figures import Figure, report

PARTS = ("status", "revoke", "issuance", "hooks", "upload", "library")


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "an unnamed CPU"


def _memory_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 2**20
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--smoke", action="store_true", help="small N, short runs: that every measurement runs")
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts: " + ", ".join(PARTS))
    args = parser.parse_args()
    parts = set(args.only.split(","))
    smoke = bool(args.smoke)
    n = int(os.environ.get("BENCH_ATTESTATIONS") or (2_000 if smoke else 1_000_000))
    seconds = 1.0 if smoke else 10.0
    kinds = os.environ.get("BENCH_DATABASES", "sqlite,postgres").split(",")
    started = time.perf_counter()
    print(f"bench {'smoke ' if smoke else ''}{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
          f"{platform.node()}: {_cpu()}, {os.cpu_count()} cores, {_memory_gb():.0f} GB, "
          f"load average {os.getloadavg()[0]:.1f}; {wrk.version()}")  # fmt: skip
    failures: list[str] = []
    every: list[Figure] = []

    def measure(title: str, work: Callable[[], list[Figure]]) -> None:
        try:
            figures = work()
        except Exception:
            traceback.print_exc()
            print(f"== {title} ==\n  FAILED: the measurement could not run")
            failures.append(title)
            return
        report(title, figures)
        every.extend(figures)

    work = workspace()
    try:
        for kind in kinds if parts & {"status", "revoke", "issuance", "hooks"} else []:  # the parts on a seed
            databases: list[Database] = []

            def seeded(kind: str = kind, databases: list[Database] = databases) -> list[Figure]:
                begun = time.perf_counter()
                database = prepare(kind, n, work)
                databases.append(database)
                took = database.seeded.get("seconds", 0)
                ready = f"ready in {time.perf_counter() - begun:.0f} s, {database.seeded['statuses']}"
                return [Figure(f"seeded {database.label}", took, "s", detail=ready)]

            measure(f"seed ({kind})", seeded)
            if not databases:
                continue
            database = databases[0]
            if "status" in parts:
                measure(f"status lookup ({kind})", lambda d=database: status_bench.lookup(d, seconds=seconds))
            if "revoke" in parts:
                measure(f"revoke visibility ({kind})", lambda d=database: status_bench.revoke_visibility(d))
            if "issuance" in parts:
                issues = 5 if smoke else 200
                measure(f"issuance ({kind})", lambda d=database, c=issues: issuance_bench.issuance(d, count=c))
            if "hooks" in parts:
                for hook in hooks.HOOKS:
                    if kind in hook.engines:  # type: ignore[attr-defined]
                        measure(f"{hook.__name__} ({kind})", lambda d=database, h=hook: h(d, smoke))
        if "upload" in parts:
            size = 20 * 2**20 if smoke else upload_bench.SIZE
            measure("evidence upload", lambda: upload_bench.upload(size=size))
        if "library" in parts and not smoke:
            attestations_bench.run()
            log_bench.run()
    finally:
        if not os.environ.get("BENCH_DIR"):
            shutil.rmtree(work, ignore_errors=True)
    report(f"summary ({time.perf_counter() - started:.0f} s)", [f for f in every if f.target is not None])
    if failures:
        print("FAILED: " + ", ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
