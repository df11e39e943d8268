"""The public status endpoint: the status list's answer now, the event history's answer at an instant, and
never-issued serials told apart from every status; a change is seen by every worker of a served portal."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import httpx
import pytest

from attestations.keys import Keyring
from attestations.policy import ExpectedIssuer
from attestations.status_list import TokenStatus, decode_status_list_token
from attestations.verify import verify_token
from portal.db.tables import AttestationRow
from tests.api.test_issuance import issued, officer, recommended

pytestmark = pytest.mark.usefixtures("baseline")

LISTED = {"active": TokenStatus.VALID, "suspended": TokenStatus.SUSPENDED, "revoked": TokenStatus.INVALID}


async def status_of(client, serial: str, **params: str) -> httpx.Response:
    return await client.get(f"/api/v1/attestations/{serial}/status", params=params)


async def listed(anon, token: str) -> TokenStatus:
    keyring = Keyring.from_jwks((await anon.get("/.well-known/jwks.json")).json())
    reference = verify_token(token, keyring, issuer=ExpectedIssuer("http://testserver")).claims.status.status_list
    signed = (await anon.get(reference.uri.removeprefix("http://testserver"))).text
    return TokenStatus(decode_status_list_token(signed, keyring).status_list.get(reference.idx))


async def test_each_status_is_the_status_lists_answer_right_after_each_change(actors, anon) -> None:
    _, _, signer, _, body = await issued(actors)
    serial = body["serial"]

    async def check(expected: str) -> None:
        response = await status_of(anon, serial)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.headers["cache-control"] == "public, no-cache"
        assert "set-cookie" not in response.headers
        answer = response.json()
        assert set(answer) == {"serial", "status", "expires_at", "checked_at"}
        assert answer["serial"] == serial and answer["status"] == expected
        assert answer["expires_at"] == body["expires_at"].replace("+00:00", "Z")
        checked = dt.datetime.fromisoformat(answer["checked_at"])
        assert dt.timedelta(0) <= dt.datetime.now(dt.UTC) - checked < dt.timedelta(seconds=5)
        assert await listed(anon, body["token"]) == LISTED[expected]

    await check("active")
    await check("active")  # answered from the cache this time
    assert (await signer.post(f"/api/v1/attestations/{serial}/suspend", json={"reason": "audit"})).status_code == 200
    await check("suspended")
    assert (await signer.post(f"/api/v1/attestations/{serial}/reinstate", json={"reason": "closed"})).status_code == 200
    await check("active")
    revoked = await signer.post(
        f"/api/v1/attestations/{serial}/revoke", json={"reason": "non_conformity", "detail": "no IR plan"}
    )
    assert revoked.status_code == 200
    await check("revoked")


async def test_superseded_names_its_successor(actors, anon) -> None:
    provider = await actors.provider()
    _, _, aid = await recommended(actors, provider=provider)
    signer = await officer(actors)
    first = (await signer.post(f"/api/v1/assessments/{aid}/decide", json={"decision": "issue"})).json()
    assert (await status_of(anon, first["serial"])).json()["status"] == "active"
    _, _, aid2 = await recommended(actors, provider=provider)
    second = (await signer.post(f"/api/v1/assessments/{aid2}/decide", json={"decision": "issue"})).json()
    answer = (await status_of(anon, first["serial"])).json()
    assert answer["status"] == "superseded" and answer["superseded_by"] == second["serial"]
    assert (await status_of(anon, second["serial"])).json()["status"] == "active"


async def test_expired_is_recorded_by_the_first_status_request_after_it(actors, anon) -> None:
    _, _, _, _, body = await issued(actors)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    await AttestationRow.update({AttestationRow.expires_at: past}).where(AttestationRow.serial == body["serial"])
    assert (await status_of(anon, body["serial"])).json()["status"] == "expired"
    events = (await anon.get(f"/api/v1/attestations/{body['serial']}")).json()["events"]
    assert [e["event"] for e in events] == ["issue", "expire"]


async def test_never_issued_malformed_serials_and_instants(actors, anon) -> None:
    never = await status_of(anon, "PA-2026-999999")
    assert never.status_code == 404 and never.headers["content-type"] == "application/problem+json"
    assert never.json()["type"] == "/problems/never-issued"
    assert (await status_of(anon, "PA-2026-999999", at="2026-01-01T00:00:00Z")).json()["type"] == (
        "/problems/never-issued"
    )
    malformed = await status_of(anon, "PA-26-1")
    assert malformed.status_code == 400 and malformed.json()["field"] == "serial"
    _, _, _, _, body = await issued(actors)
    for bad in ("yesterday", "2026-01-01", "2026-01-01T00:00:00", "2026-13-01T00:00:00Z", "20260101T000000Z", ""):
        refused = await status_of(anon, body["serial"], at=bad)
        assert refused.status_code == 400, (bad, refused.text)
        assert refused.json()["field"] == "at"


async def test_at_answers_from_the_event_history(actors, anon) -> None:
    _, _, signer, _, body = await issued(actors)
    serial = body["serial"]
    for path, payload in (
        ("suspend", {"reason": "audit"}),
        ("reinstate", {"reason": "closed"}),
        ("revoke", {"reason": "misrepresentation", "detail": "forged evidence"}),
    ):
        # The log dates events to the second: each in a second of its own, so each midpoint falls between two.
        await asyncio.sleep(1.01 - time.time() % 1)
        assert (await signer.post(f"/api/v1/attestations/{serial}/{path}", json=payload)).status_code == 200
    events = (await anon.get(f"/api/v1/attestations/{serial}")).json()["events"]
    assert [e["event"] for e in events] == ["issue", "suspend", "reinstate", "revoke"]
    times = [dt.datetime.fromisoformat(e["at"]) for e in events]

    def between(first: dt.datetime, second: dt.datetime) -> str:
        return (first + (second - first) / 2).isoformat().replace("+00:00", "Z")

    before = await status_of(anon, serial, at=(times[0] - dt.timedelta(days=1)).isoformat())
    assert before.status_code == 404 and before.json()["type"] == "/problems/never-issued"
    assert before.json()["valid_from"] == times[0].isoformat()
    expected = {
        between(times[0], times[1]): "active",
        between(times[1], times[2]): "suspended",
        between(times[2], times[3]): "active",
        (times[3] + dt.timedelta(seconds=1)).isoformat(): "revoked",
        "2999-01-01T00:00:00+04:00": "revoked",  # revoked before it would have expired
    }
    for instant, status in expected.items():
        answer = await status_of(anon, serial, at=instant)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == status, instant
        assert answer.json()["serial"] == serial and answer.json()["expires_at"] == body["expires_at"].replace(
            "+00:00", "Z"
        )
    assert (await status_of(anon, serial, at=times[0].isoformat())).json()["status"] == "active"  # from issue on
    # Each event is in force from the second the log publishes for it.
    for moment, status in zip(times[1:], ("suspended", "active", "revoked"), strict=True):
        assert (await status_of(anon, serial, at=moment.isoformat())).json()["status"] == status, moment


async def test_at_after_the_expiry_of_an_active_attestation_is_expired(actors, anon) -> None:
    _, _, _, _, body = await issued(actors)
    expires = dt.datetime.fromisoformat(body["expires_at"])
    later = (expires + dt.timedelta(seconds=1)).isoformat()
    assert (await status_of(anon, body["serial"], at=later)).json()["status"] == "expired"
    earlier = (expires - dt.timedelta(seconds=1)).isoformat()
    assert (await status_of(anon, body["serial"], at=earlier)).json()["status"] == "active"


async def test_a_revoke_is_seen_by_every_worker_of_a_served_portal(actors, settings) -> None:
    from tests.served import Served

    _, _, signer, _, body = await issued(actors)
    serial = body["serial"]
    server = Served(settings, workers=2)
    try:
        path = f"{server.base}/api/v1/attestations/{serial}/status"

        async def round_of(count: int) -> list[str]:
            # No keep-alive: a new connection each time, so the kernel spreads the requests over both workers.
            limits = httpx.Limits(max_keepalive_connections=0)
            async with httpx.AsyncClient(headers={"host": "127.0.0.1"}, limits=limits) as client:
                return [(await client.get(path)).json()["status"] for _ in range(count)]

        assert await round_of(20) == ["active"] * 20  # both workers now hold the active answer
        # The change is made by this test's process, not by either worker: they learn of it from the log.
        revoked = await signer.post(
            f"/api/v1/attestations/{serial}/revoke", json={"reason": "other", "detail": "seen everywhere"}
        )
        assert revoked.status_code == 200
        rounds = []
        for _ in range(20):  # at most 20 rounds of 20 requests: about 2 s
            rounds.append(await round_of(20))
            if rounds[-1] == ["revoked"] * 20:
                break
            await asyncio.sleep(0.05)
        assert rounds[-1] == ["revoked"] * 20, rounds
    finally:
        server.stop()
