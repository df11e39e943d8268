"""Token status lists: random indexes handed out once, statuses changed in a transaction, signed lists served."""

from __future__ import annotations

import asyncio
import json

import pytest

from attestations.keys import KeyPurpose, Keyring
from attestations.status_list import MIN_SIZE, TokenStatus, decode_status_list_token
from portal.db import atomic
from portal.db.tables import StatusEntry, StatusListRow
from tests.served import run_portal


@pytest.fixture
def lists(runtime):
    return runtime.status_lists


async def _keyring(anon) -> Keyring:
    return Keyring.from_jwks((await anon.get("/.well-known/jwks.json")).json())


async def test_indexes_are_random_unique_and_in_a_list_of_at_least_131072(lists) -> None:
    async def one(n: int):
        async with atomic():
            return await lists.allocate(f"PA-2026-{n:06d}")

    refs = await asyncio.gather(*(one(n) for n in range(40)))
    assert len({(r.list_id, r.index) for r in refs}) == 40
    assert {r.list_id for r in refs} == {refs[0].list_id}
    assert all(0 <= r.index < MIN_SIZE for r in refs)
    assert max(r.index for r in refs) - min(r.index for r in refs) > 1000  # drawn at random, not in order
    row = await StatusListRow.select().where(StatusListRow.id == refs[0].list_id).first()
    assert (row["size"], row["bits"], row["allocated"]) == (MIN_SIZE, 2, 40)
    assert await StatusEntry.count() == 40
    assert refs[0].uri == f"http://testserver/api/v1/status-lists/{refs[0].list_id}"


async def test_a_full_list_opens_a_new_one(runtime) -> None:
    from portal.domain.status.services import StatusListService

    small = StatusListService(runtime.keys, "http://testserver", size=8)
    seen = []
    for n in range(10):
        async with atomic():
            seen.append(await small.allocate(f"S-{n}"))
    first = seen[0].list_id
    assert sorted(r.index for r in seen if r.list_id == first) == list(range(8))  # every index once
    assert len({r.list_id for r in seen}) == 2


async def test_a_status_change_rolls_back_with_its_transaction(lists) -> None:
    async with atomic():
        ref = await lists.allocate("PA-2026-000001")

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with atomic():
            await lists.set_status(ref.list_id, ref.index, TokenStatus.INVALID)
            raise Boom
    assert await lists.status(ref.list_id, ref.index) == TokenStatus.VALID
    async with atomic():
        await lists.set_status(ref.list_id, ref.index, TokenStatus.SUSPENDED)
    assert await lists.status(ref.list_id, ref.index) == TokenStatus.SUSPENDED


async def test_the_served_list_is_signed_by_the_status_key_and_follows_every_change(lists, anon, runtime) -> None:
    async with atomic():
        ref = await lists.allocate("PA-2026-000002")
    url = f"/api/v1/status-lists/{ref.list_id}"
    first = await anon.get(url)
    assert first.status_code == 200 and first.headers["content-type"].startswith("application/statuslist+jwt")
    assert first.headers["cache-control"] == "public, max-age=1"
    keyring = await _keyring(anon)
    parsed = decode_status_list_token(first.text, keyring)
    assert parsed.claims.sub == ref.uri and parsed.claims.ttl == 60
    assert parsed.claims.exp - parsed.claims.iat == 86400
    assert parsed.header["kid"] == runtime.keys.signing_key(KeyPurpose.STATUS).kid
    assert parsed.status_list.get(ref.index) == TokenStatus.VALID
    unchanged = await anon.get(url, headers={"if-none-match": first.headers["etag"]})
    assert unchanged.status_code == 304
    async with atomic():
        await lists.set_status(ref.list_id, ref.index, TokenStatus.INVALID)
    changed = await anon.get(url, headers={"if-none-match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]
    assert decode_status_list_token(changed.text, keyring).status_list.get(ref.index) == TokenStatus.INVALID


async def test_an_unknown_list_is_a_404_problem(anon) -> None:
    missing = await anon.get("/api/v1/status-lists/999999")
    assert missing.status_code == 404 and missing.json()["type"] == "/problems/not-found"
    assert (await anon.get("/api/v1/status-lists/abc")).status_code == 404  # no route takes a word


async def test_an_id_beyond_the_column_is_a_400_not_a_database_error(anon) -> None:
    # On PostgreSQL an id past 32 bits reached the database and answered 500 (found by the fuzzer).
    assert (await anon.get("/api/v1/status-lists/122920211611586048")).status_code == 400
    assert (await anon.get("/api/v1/status-lists/0")).status_code == 400


async def test_after_a_rotation_in_another_process_the_list_is_signed_by_the_new_key(
    lists, anon, runtime, settings
) -> None:
    async with atomic():
        ref = await lists.allocate("PA-2026-000003")
    url = f"/api/v1/status-lists/{ref.list_id}"
    await runtime.status_lookup.confirm()  # the worker follows the log (its lifespan task does it every 0.2 s)
    old = decode_status_list_token((await anon.get(url)).text, await _keyring(anon)).header["kid"]
    done = await run_portal(settings, "keys", "rotate", "--purpose", "status", "--json")
    assert done.returncode == 0, done.stderr
    rotated = json.loads(done.stdout)
    assert rotated["retired_kid"] == old
    await runtime.status_lookup.confirm()  # the next follow: the log's key entry reaches this worker
    served = await anon.get(url)
    assert decode_status_list_token(served.text, await _keyring(anon)).header["kid"] == rotated["new_kid"]
