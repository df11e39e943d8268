"""Measurements whose features other issues build: each is one function returning named figures, so the
helper who builds the feature fills it in here and ``make bench`` / ``make bench-smoke`` run it at once.

Until the feature exists a hook raises :class:`NotBuilt` (reported, not failed); once its route answers, any
failure is a failure. Each takes the seeded :class:`Database` and whether this is the smoke run.
"""

from __future__ import annotations

import importlib.util

import httpx

from bench import servers
from bench.database import Database
from bench.figures import Figure, NotBuilt


def verify_endpoint(database: Database, smoke: bool) -> list[Figure]:
    """``POST /api/v1/verify`` of a token against raw pyjwt EdDSA verification in one process (target >= 0.50).

    To fill in: wrk (bench.wrk, with a POST script) against the endpoint with a seeded token, beside
    ``jwt.decode(token, key, algorithms=["EdDSA"])`` per second in this process.
    """
    with servers.portal(database.env) as portal:
        answer = httpx.post(f"{portal.base}/api/v1/verify", headers=servers.HOST, json={"token": "x"}, timeout=30)
        if answer.status_code in (404, 405):
            raise NotBuilt("POST /api/v1/verify is not in this build (issue 12)")
    raise NotBuilt("POST /api/v1/verify answers, but its measurement is not written yet (bench/hooks.py)")


def registry_search(database: Database, smoke: bool) -> list[Figure]:
    """Registry search p95 on PostgreSQL at 1,000,000 attestations (target < 100 ms).

    To fill in: search terms drawn from the seeded names, serials and registration numbers; wrk or timed
    requests to ``GET /api/v1/registry?q=``; the registry's tables are seeded by adding to ``bench.seed.TABLES``.
    """
    with servers.portal(database.env) as portal:
        answer = httpx.get(f"{portal.base}/api/v1/registry?q=Gulf", headers=servers.HOST, timeout=30)
        if answer.status_code in (404, 405):
            raise NotBuilt("GET /api/v1/registry is not in this build (issue 12)")
    raise NotBuilt("GET /api/v1/registry answers, but its measurement is not written yet (bench/hooks.py)")


def proofs_and_tiles(database: Database, smoke: bool) -> list[Figure]:
    """Proof and tile serving at the seeded log size: ``bench/log.py``'s ``measure(database, smoke)``."""
    if importlib.util.find_spec("bench.log") is None:
        raise NotBuilt("bench/log.py (the log helper's served proof and tile measurement) is not in this build")
    from bench import log  # type: ignore[attr-defined]

    figures: list[Figure] = log.measure(database, smoke)
    return figures


# Which engines each runs on: the registry's target is PostgreSQL's; the others need one served database.
verify_endpoint.engines = ("sqlite",)  # type: ignore[attr-defined]
registry_search.engines = ("postgres",)  # type: ignore[attr-defined]
proofs_and_tiles.engines = ("sqlite", "postgres")  # type: ignore[attr-defined]
HOOKS = [verify_endpoint, registry_search, proofs_and_tiles]
