"""Measurements of the public features other issues built: each is one function returning named figures, run by
``make bench`` and ``make bench-smoke``; any failure (a route that does not answer 2xx included) fails the
bench. Each takes the seeded :class:`Database` and whether this is the smoke run.
"""

from __future__ import annotations

import httpx

from bench import servers, wrk
from bench.database import Database, query
from bench.figures import Figure, percentile


def verify_endpoint(database: Database, smoke: bool) -> list[Figure]:
    """``POST /api/v1/verify`` of a token (wrk, 32 connections) against raw pyjwt EdDSA verification of the same
    token in one process (target >= 0.50): as served (the worker keeps the valid verdict, so a token checked
    again is answered from it), and with no verdict kept (``PORTAL_VERDICT_CACHE_ENTRIES=0``: every request
    runs every check, as the first check of each token does)."""
    import json
    import time

    import jwt

    # an active one: the seed decides each attestation's fate afresh, so the first may be expired or revoked
    token = str(query(database, "SELECT token FROM attestation WHERE status = 'active' ORDER BY serial LIMIT 1")[0][0])
    body = json.dumps({"token": token})
    rates: dict[str, wrk.Load] = {}
    for kept, env in (("kept", database.env), ("not kept", {**database.env, "PORTAL_VERDICT_CACHE_ENTRIES": "0"})):
        with servers.portal(env) as portal:
            answer = httpx.post(f"{portal.base}/api/v1/verify", headers=servers.HOST, json={"token": token}, timeout=30)
            answer.raise_for_status()
            if answer.json()["valid"] is not True:  # a failing verdict is not what a wallet's check costs
                failed = [c for c in answer.json()["checks"] if c["outcome"] != "passed"]
                raise RuntimeError(f"the seeded token does not verify: {failed}")
            if kept == "kept":
                jwks = httpx.get(f"{portal.base}/.well-known/jwks.json", headers=servers.HOST, timeout=30).json()
                kid = jwt.get_unverified_header(token)["kid"]
                key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid)).key
                seconds = 1.0 if smoke else 5.0
                done, started = 0, time.perf_counter()
                while time.perf_counter() - started < seconds:
                    jwt.decode(token, key, algorithms=["EdDSA"], options={"verify_exp": False, "verify_aud": False})
                    done += 1
                raw = done / (time.perf_counter() - started)
            rates[kept], _ = wrk.median_of(
                portal.base, ["/api/v1/verify"], seconds=2 if smoke else 10, repeats=1 if smoke else 3,
                json_body=body,
            )  # fmt: skip
    load, cold = rates["kept"], rates["not kept"]
    return [
        Figure("verify: POST /api/v1/verify of a token", load.rate, "req/s"),
        Figure("verify: raw pyjwt EdDSA decode, one process", raw, "/s"),
        Figure("verify: endpoint / raw pyjwt", load.rate / raw, "ratio", target=0.50),
        Figure("verify: p99", load.p99_ms, "ms"),
        Figure("verify, no verdict kept (every check, every time)", cold.rate, "req/s",
               detail=f"{cold.rate / raw:.2f} of raw pyjwt; p99 {cold.p99_ms:.1f} ms"),
    ]  # fmt: skip


def registry_search(database: Database, smoke: bool) -> list[Figure]:
    """Registry search latency (p50, p95) on PostgreSQL at the seeded size (target p95 < 100 ms): one client,
    queries drawn from the seeded names, serials and registration numbers, plus a filtered and a sorted one."""
    import random
    import time

    rng = random.Random(5)
    rows = query(database, "SELECT serial, provider_name, registration_number FROM registry_entry ORDER BY serial")
    if not rows:
        raise RuntimeError("registry_entry is empty: bench.seed fills it (bench.seed_slices.build)")
    picks = [rows[rng.randrange(len(rows))] for _ in range(30)]
    kinds: dict[str, list[str]] = {
        "a serial": [f"q={serial}" for serial, _, _ in picks[:10]],
        "a name's first word": [f"q={name.split()[0]}" for _, name, _ in picks[10:20]],
        "a registration number": [f"q={number}" for _, _, number in picks[20:]],
        "filters, no words": ["category=cloud_hosting&status=active&sort=-issued"],
        "a word and a filter": ["q=cloud&country=BH&sort=name"],
    }
    with servers.portal(database.env) as portal:
        httpx.get(f"{portal.base}/api/v1/registry?q=x", headers=servers.HOST, timeout=30).raise_for_status()
        samples: dict[str, list[float]] = {kind: [] for kind in kinds}
        with httpx.Client(base_url=portal.base, headers=servers.HOST, timeout=30) as client:
            for _ in range(1 if smoke else 5):
                for kind, queries in kinds.items():
                    for q in queries:
                        started = time.perf_counter()
                        answer = client.get(f"/api/v1/registry?{q}&per_page=20")
                        samples[kind].append((time.perf_counter() - started) * 1000)
                        answer.raise_for_status()
    every = [sample for kind in samples.values() for sample in kind]
    words = [*samples["a name's first word"], *samples["a word and a filter"]]
    return [
        Figure("registry search p50", percentile(every, 50), "ms"),
        Figure("registry search p95", percentile(every, 95), "ms", target=100, at_least=False),
        Figure("registry search p95, searches by a word only", percentile(words, 95), "ms",
               detail=f"{len(words)} of {len(every)} queries; p50 {percentile(words, 50):.1f} ms"),
        *(Figure(f"registry search, {kind}: p50 / slowest", percentile(times, 50), "ms",
                 detail=f"slowest {max(times):.1f} ms") for kind, times in samples.items()),
    ]  # fmt: skip


def log_served(database: Database, smoke: bool) -> list[Figure]:
    """Proofs, tiles and checkpoints of the seeded transparency log (one entry per attestation event, so more
    than N entries) through ``portal serve`` (1 worker): wrk, 32 connections, median of 3, each run cycling
    through random serials or tile indexes."""
    import random

    from portal.domain.log import tree

    rng = random.Random(11)
    with servers.portal(database.env) as portal:
        checkpoint = httpx.get(f"{portal.base}/log/checkpoint", headers=servers.HOST, timeout=30)
        checkpoint.raise_for_status()
        size = int(checkpoint.text.splitlines()[1])
        tiles = [tree.encode_tile_index(rng.randrange(size // 256)) for _ in range(1_000)]
        kinds = {
            "inclusion proof (log-proof.json)": [f"/api/v1/log/proof/{s}" for s in database.serials(limit=1_000)],
            "hash tile, level 0": [f"/log/tile/0/{t}" for t in tiles],
            "entry bundle": [f"/log/tile/entries/{t}" for t in tiles],
            "consistency proof": [f"/api/v1/log/consistency?from={rng.randrange(1, size)}" for _ in range(1_000)],
            "checkpoint": ["/log/checkpoint"],
        }
        for paths in kinds.values():  # every path answers before it is measured: wrk fails on a non-2xx
            httpx.get(portal.base + paths[0], headers=servers.HOST, timeout=30).raise_for_status()
        figures = []
        for kind, paths in kinds.items():
            load, _ = wrk.median_of(portal.base, paths, seconds=1 if smoke else 10, repeats=1 if smoke else 3)
            figures.append(Figure(f"log ({size:,} entries), served: {kind}", load.rate, "req/s",
                                  detail=f"p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms"))  # fmt: skip
    return figures


def proofs_and_tiles(database: Database, smoke: bool) -> list[Figure]:
    """Append rate, proof, tile and checkpoint latency from ``bench/log.py``, on a log of its own (SQLite; it
    builds its database, so it never touches the seeded one): 1,000,000 entries, 5,000 in the smoke run."""
    from bench import log

    figures = log.measure(5_000 if smoke else 1_000_000, None)
    out = []
    for name, value in figures.items():
        if isinstance(value, int | float) and name != "entries":
            unit = "ms" if "_ms" in name else "/s" if name.endswith("_per_s") else "s" if name.endswith("_s") else ""
            out.append(Figure(f"log ({figures['entries']:,} entries): {name}", float(value), unit))
    return out


# Which engines each runs on: the registry's target is PostgreSQL's; the library-level log figures build a
# database of their own; the served ones run on each seeded database.
verify_endpoint.engines = ("sqlite", "postgres")  # type: ignore[attr-defined]
registry_search.engines = ("postgres",)  # type: ignore[attr-defined]
log_served.engines = ("sqlite", "postgres")  # type: ignore[attr-defined]
proofs_and_tiles.engines = ("sqlite",)  # type: ignore[attr-defined]
HOOKS = [verify_endpoint, registry_search, log_served, proofs_and_tiles]
