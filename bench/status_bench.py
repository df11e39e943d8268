"""The public status lookup against the bare Litestar endpoint, and how soon a revoke is public.

Status lookup: ``portal serve`` (1 worker) on a seeded database and ``bench.bare`` (1 worker), served the same
way in the same run, each loaded by wrk (1 thread, 32 connections) cycling through a random sample of the
seeded serials of every status; bare and portal runs alternate, three each, the median kept. The sample is
read once before the runs, so they measure the worker's kept answers; a second portal with no answers kept
(``PORTAL_STATUS_CACHE_ENTRIES=0``) measures the other case, every request one ``SELECT``.

Revoke visibility: four ``portal serve`` processes of one worker each on the one database (what ``--workers
4`` runs, but each asked directly: with one listening socket the kernel picks the worker of a connection, so
no client could be sure it had asked all four). Every one holds the serial's active answer; the bench's
signing officer revokes it through the first, and rounds of requests on fresh connections ask each of the
four for the status and for the signed status list, until a round finds it revoked on every one, in both,
and three more rounds say the same. The time from the revoke's answer (its transaction has committed) to
the end of that first round, median of three serials; the revoke request's own time is printed beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx
import pyotp

from bench import servers, wrk
from bench.database import SIGNER, Database, query
from bench.figures import Figure, median

SAMPLE = 10_000


def _paths(database: Database, smoke: bool) -> list[str]:
    serials = database.serials(limit=1_000 if smoke else SAMPLE)
    return [f"/api/v1/attestations/{s}/status" for s in serials]


def lookup(database: Database, *, seconds: float) -> list[Figure]:
    paths = _paths(database, seconds < 5)
    bare_runs, portal_runs = [], []
    with servers.bare() as bare, servers.portal(database.env) as portal:
        # Warm both: every sampled serial is read at least once (the script cycles through them in order), so
        # the runs measure the read model's answers, not its filling.
        served = 0
        while served < len(paths):
            warm = wrk.run(portal.base, paths, seconds=max(1.0, seconds / 3))
            served += round(warm.rate * max(1.0, seconds / 3))
        wrk.run(bare.base, ["/status"], seconds=1)
        for _ in range(3):
            bare_runs.append(wrk.run(bare.base, ["/status"], seconds=seconds))
            portal_runs.append(wrk.run(portal.base, paths, seconds=seconds))
        # The other case: nothing kept, so every request is one SELECT (the first request for each serial).
        with servers.portal({**database.env, "PORTAL_STATUS_CACHE_ENTRIES": "0"}) as cold:
            misses, _ = wrk.median_of(cold.base, paths, seconds=seconds)
    bare_rate = median([r.rate for r in bare_runs])
    rate = median([r.rate for r in portal_runs])
    p99 = median([r.p99_ms for r in portal_runs])
    label = database.label
    return [
        Figure(f"bare Litestar constant struct ({label.split(',')[0]} run)", bare_rate, "req/s",
               detail="runs " + ", ".join(f"{r.rate:,.0f}" for r in bare_runs)),
        Figure(f"status lookup, {label}", rate, "req/s",
               detail="runs " + ", ".join(f"{r.rate:,.0f}" for r in portal_runs)),
        Figure(f"status lookup / bare, {label}", rate / bare_rate, "x", 0.60),
        Figure(f"status lookup p99, {label}", p99, "ms", 20, at_least=False,
               detail=f"bare p99 {median([r.p99_ms for r in bare_runs]):.1f} ms"),
        Figure(f"status lookup, nothing kept (a SELECT each), {label}", misses.rate, "req/s",
               detail=f"{misses.rate / bare_rate:.2f} of bare; p99 {misses.p99_ms:.1f} ms"),
    ]  # fmt: skip


async def _login(base: str, database: Database, email: str) -> str:
    account = database.logins[email]
    async with httpx.AsyncClient(base_url=base, headers=servers.HOST, timeout=30) as client:
        for _ in range(3):  # a one-time code is accepted once: wait for the next one if it was used
            code = pyotp.TOTP(account["totp_secret"]).now()
            response = await client.post(
                "/api/v1/auth/login", json={"email": email, "password": account["password"], "totp": code}
            )
            if response.status_code == 200:
                return str(response.json()["token"])
            await asyncio.sleep(30 - time.time() % 30 + 0.5)
    raise RuntimeError(f"login as {email} failed: {response.status_code} {response.text}")


async def _visibility(bases: list[str], entries: dict[str, tuple[int, int]], token: str) -> list[tuple[float, float]]:
    """Per serial: (seconds from the revoke's answer, when it has committed, to visible on every server in the
    status and the status list; seconds the revoke request itself took)."""
    from attestations.keys import Keyring
    from attestations.status_list import TokenStatus, decode_status_list_token

    seconds: list[tuple[float, float]] = []
    # No keep-alive: every request opens its own connection, as a new client's would.
    fresh = httpx.AsyncClient(headers=servers.HOST, timeout=10, limits=httpx.Limits(max_keepalive_connections=0))
    async with fresh:
        keyring = Keyring.from_jwks((await fresh.get(f"{bases[0]}/.well-known/jwks.json")).json())
        for serial, (list_id, index) in entries.items():

            async def status(base: str, serial: str = serial) -> str:
                return str((await fresh.get(f"{base}/api/v1/attestations/{serial}/status")).json()["status"])

            async def listed(base: str, list_id: int = list_id, index: int = index) -> str:
                signed = (await fresh.get(f"{base}/api/v1/status-lists/{list_id}")).text
                entry = TokenStatus(decode_status_list_token(signed, keyring).status_list.get(index))
                return "revoked" if entry == TokenStatus.INVALID else entry.name.lower()

            async def round_of() -> list[str]:
                asked = [status(base) for base in bases] + [listed(base) for base in bases]
                return list(await asyncio.gather(*asked))

            assert await round_of() == ["active"] * len(bases) + ["valid"] * len(bases)
            sent = time.perf_counter()
            revoked = await fresh.post(
                f"{bases[0]}/api/v1/attestations/{serial}/revoke",
                json={"reason": "other", "detail": "bench: revoke visibility"},
                headers={"authorization": f"Bearer {token}"},
            )
            assert revoked.status_code == 200, revoked.text
            committed = time.perf_counter()
            everywhere = ["revoked"] * 2 * len(bases)
            streak: list[float] = []
            while len(streak) < 4:
                answers = await round_of()
                if answers == everywhere:
                    streak.append(time.perf_counter() - committed)
                elif streak:  # once public, an answer never goes back
                    raise RuntimeError(f"{serial} was revoked everywhere, then not: {answers}")
                if time.perf_counter() - sent > 15:
                    raise RuntimeError(f"{serial} still not revoked everywhere after 15 s: {answers}")
            seconds.append((streak[0], committed - sent))
    return seconds


def revoke_visibility(database: Database, workers: int = 4) -> list[Figure]:
    entries = {}
    for serial in database.serials("active", limit=3):
        found = query(database, f"SELECT status_list, status_index FROM attestation WHERE serial = '{serial}'")
        entries[serial] = (int(found[0][0]), int(found[0][1]))
    with contextlib.ExitStack() as stack:
        started = [stack.enter_context(servers.portal(database.env)) for _ in range(workers)]
        bases = [server.base for server in started]
        token = asyncio.run(_login(bases[0], database, SIGNER))
        seconds = asyncio.run(_visibility(bases, entries, token))
    return [
        Figure(f"revoke visible on status + status list, {workers} workers, {database.label}",
               median([after for after, _ in seconds]), "s", 1.0, at_least=False,
               detail="from its commit; runs " + ", ".join(f"{a * 1000:.0f} ms" for a, _ in seconds)
               + "; the revoke request itself " + ", ".join(f"{r * 1000:.0f} ms" for _, r in seconds)),
    ]  # fmt: skip
