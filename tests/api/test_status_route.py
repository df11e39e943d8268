"""The status route ahead of the router: a kept answer is the route's own bytes and headers, after the same host
check and rate limit, and everything else (errors included) still reaches the route."""

from __future__ import annotations

import json

import pytest

from portal.domain.issuance.status_route import StatusRoute
from portal.security.throttle import MemoryCounters
from tests.api.test_issuance import issued

pytestmark = pytest.mark.usefixtures("baseline")


@pytest.fixture
def routed(app, runtime):
    """The paths the router saw during the test (what the status route passed on). No follower task runs in
    these tests, so the staleness bound is an hour: a slow request must not make the next one go stale."""
    lookup = runtime.status_lookup
    saved, lookup.max_staleness = lookup.max_staleness, 3600.0
    front = app.asgi_handler
    assert isinstance(front, StatusRoute)
    inner, seen = front.app, []

    async def recorded(scope, receive, send):
        seen.append((scope.get("method"), scope.get("path"), scope.get("query_string")))
        await inner(scope, receive, send)

    front.app = recorded
    yield seen
    front.app, lookup.max_staleness = inner, saved


@pytest.fixture
def limited(runtime):
    limiter = runtime.rate_limiter
    saved = limiter.counters, limiter.default, limiter.window
    limiter.counters, limiter.window = MemoryCounters(), 10**9  # this test's counts; a window that ends in 2033
    yield limiter
    limiter.counters, limiter.default, limiter.window = saved


def without_date(headers) -> list[tuple[str, str]]:
    return [(name, value) for name, value in headers.multi_items() if name != "date"]


async def test_a_kept_answer_is_the_routes_bytes_and_headers_without_the_router(actors, anon, routed) -> None:
    _, _, _, _, body = await issued(actors)
    path = f"/api/v1/attestations/{body['serial']}/status"
    routed.clear()
    first = await anon.get(path)  # not kept yet: the route answers and the read model keeps it
    assert first.status_code == 200 and routed == [("GET", path, b"")]
    second = await anon.get(path)
    assert routed == [("GET", path, b"")]  # answered ahead of the router
    assert second.status_code == 200
    assert without_date(second.headers) == without_date(first.headers)
    assert second.headers["content-security-policy"].startswith("default-src 'self'")  # the before-send hook ran
    kept, routed_answer = json.loads(second.content), json.loads(first.content)
    assert kept.pop("checked_at") and routed_answer.pop("checked_at")
    assert kept == routed_answer == {"serial": body["serial"], "status": "active", "expires_at": kept["expires_at"]}


async def test_a_change_is_not_answered_from_what_was_kept(actors, anon, routed) -> None:
    _, _, signer, _, body = await issued(actors)
    path = f"/api/v1/attestations/{body['serial']}/status"
    routed.clear()
    assert [(await anon.get(path)).json()["status"] for _ in range(2)] == ["active", "active"]
    assert len(routed) == 1
    suspended = await signer.post(f"/api/v1/attestations/{body['serial']}/suspend", json={"reason": "audit"})
    assert suspended.status_code == 200
    assert (await anon.get(path)).json()["status"] == "suspended"  # forgotten at commit: the route answered
    assert [p for _, p, _ in routed] == [path, f"/api/v1/attestations/{body['serial']}/suspend", path]


async def test_everything_but_a_kept_answer_reaches_the_route(actors, anon, app, routed, runtime) -> None:
    _, _, _, _, body = await issued(actors)
    serial = body["serial"]
    path = f"/api/v1/attestations/{serial}/status"
    assert (await anon.get(path)).status_code == 200  # now kept
    routed.clear()
    at = await anon.get(path, params={"at": "2020-01-01T00:00:00Z"})
    assert at.status_code == 404 and at.json()["type"] == "/problems/never-issued"
    origin = await anon.get(path, headers={"origin": "https://wallet.example"})
    assert origin.status_code == 200
    host = await anon.get(path, headers={"host": "evil.example"})
    assert host.status_code == 400 and host.json()["detail"].startswith("The portal does not serve this host name")
    allowed = anon.base_url.host
    twice = await anon.get(path, headers=[("host", "evil.example"), ("host", allowed)])  # the router reads the first
    assert twice.status_code == 400 and twice.json()["detail"].startswith("The portal does not serve this host name")
    never = await anon.get("/api/v1/attestations/PA-2026-999999/status")
    assert never.status_code == 404 and never.json()["type"] == "/problems/never-issued"
    malformed = await anon.get("/api/v1/attestations/PA-26-1/status")
    assert malformed.status_code == 400
    head = await anon.head(path)
    post = await anon.post(path)
    assert head.status_code == post.status_code == 405
    runtime.status_lookup._confirmed = -float("inf")  # the last confirmation of the log's head is too old
    stale = await anon.get(path)
    assert stale.status_code == 200 and stale.json()["status"] == "active"
    assert [(method, p) for method, p, _ in routed] == [
        ("GET", path),
        ("GET", path),
        ("GET", path),
        ("GET", path),
        ("GET", "/api/v1/attestations/PA-2026-999999/status"),
        ("GET", "/api/v1/attestations/PA-26-1/status"),
        ("HEAD", path),
        ("POST", path),
        ("GET", path),
    ]
    assert (await anon.get(path)).status_code == 200 and len(routed) == 9  # confirmed again: kept once more


async def test_answers_ahead_of_the_router_count_against_the_rate_limit(actors, anon, limited, routed) -> None:
    _, _, _, _, body = await issued(actors)
    path = f"/api/v1/attestations/{body['serial']}/status"
    limited.default = 3
    routed.clear()
    assert [(await anon.get(path)).status_code for _ in range(3)] == [200, 200, 200]
    assert len(routed) == 1  # two of the three answered ahead of the router, and counted
    refused = await anon.get(path)
    assert refused.status_code == 429 and refused.json()["type"] == "/problems/too-many-requests"
    assert 1 <= int(refused.headers["retry-after"]) <= limited.window
    assert len(routed) == 2  # the route answered the refusal
