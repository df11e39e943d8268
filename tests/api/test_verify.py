"""POST /api/v1/verify and the /verify page: a certificate PDF online (genuine and altered), a tampered token,
bodies that are neither, a 1 GB upload refused while it streams, and the public rate limit's 429."""

from __future__ import annotations

import base64
import json

import pytest

from attestations.certificate import CertificateData, render_certificate
from attestations.keys import KeyPurpose
from portal.security.throttle import MemoryCounters
from tests.api.test_issuance import issued

pytestmark = pytest.mark.usefixtures("baseline")


def _outcomes(verdict: dict) -> dict[str, str]:
    return {c["name"]: c["outcome"] for c in verdict["checks"]}


def _tampered(token: str) -> str:
    """The same token with its payload's level changed: the signature no longer covers it."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["att"]["level"] = "full" if claims["att"]["level"] != "full" else "conditional"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


async def test_certificates_and_tokens_are_verified_online(actors, anon) -> None:
    _, _, _, _, body = await issued(actors)
    serial, token = body["serial"], body["token"]
    pdf = (await anon.get(f"/api/v1/attestations/{serial}/certificate.pdf")).content
    genuine = await anon.post("/api/v1/verify", files={"file": ("certificate.pdf", pdf, "application/pdf")})
    assert genuine.status_code == 200, genuine.text
    verdict = genuine.json()
    assert verdict["valid"] is True and verdict["serial"] == serial and verdict["status"] == "active"
    assert [c["step"] for c in verdict["checks"]] == list(range(1, 13))
    assert [c["name"] for c in verdict["checks"]] == [
        "token format", "algorithm", "key id", "signature", "type", "claims", "issuer", "not before", "expiry",
        "status", "log inclusion", "registry record",
    ]  # fmt: skip
    assert all(c["passed"] and c["outcome"] == "passed" for c in verdict["checks"])
    assert verdict["source"] == "certificate"
    raw = await anon.post("/api/v1/verify", content=pdf, headers={"content-type": "application/pdf"})
    assert raw.json()["valid"] is True

    header, payload, signature = token.split(".")
    altered_pdf = render_certificate(
        CertificateData.from_token(f"{header}.{payload}.{('A' if signature[0] != 'A' else 'B') + signature[1:]}")
    )
    altered = (await anon.post("/api/v1/verify", files={"file": ("c.pdf", altered_pdf, "application/pdf")})).json()
    assert altered["valid"] is False and _outcomes(altered)["signature"] == "failed"
    assert _outcomes(altered)["expiry"] == "skipped" and _outcomes(altered)["registry record"] == "failed"

    tampered = (await anon.post("/api/v1/verify", json={"token": _tampered(token)})).json()
    assert tampered["valid"] is False and _outcomes(tampered)["signature"] == "failed"
    assert tampered["status"] == "active"  # the serial's record is fine; this token is not it
    assert "different token" in tampered["checks"][-1]["detail"]

    # The page: each of the three forms, without JavaScript or a CSRF token.
    page = await anon.post("/verify", files={"file": ("certificate.pdf", pdf, "application/pdf")})
    assert page.status_code == 200 and "This attestation is genuine and in force." in page.text
    assert page.headers["cache-control"] == "no-store"
    pasted = await anon.post("/verify", data={"token": _tampered(token)})
    assert pasted.status_code == 200 and "Not valid" in pasted.text and "a check below failed" in pasted.text
    typed = await anon.get(f"/verify?serial={serial}")
    assert typed.status_code == 200 and "genuine and in force" in typed.text
    assert (await anon.post("/verify", data={"token": "nonsense"})).status_code == 400


async def test_bodies_that_are_neither_a_token_nor_a_pdf_are_400(anon) -> None:
    for request in (
        {"json": {"token": "not-a-token"}},
        {"json": {"token": "a.b.c"}},
        {"json": {"serial": "not-a-serial"}},
        {"json": {}},
        {"json": {"token": "x", "serial": "PA-2026-000001"}},
        {"json": {"unknown": 1}},
        {"content": b"\x00\x01binary", "headers": {"content-type": "application/octet-stream"}},
        {"content": b"", "headers": {"content-type": "text/plain"}},
        {"files": {"file": ("c.pdf", b"GIF89a not a pdf", "application/pdf")}},
        {"files": {"file": ("c.pdf", b"%PDF-1.4 broken", "application/pdf")}},
        {"files": {"other": ("c.pdf", b"%PDF-1.4", "application/pdf")}},
    ):
        response = await anon.post("/api/v1/verify", **request)
        assert response.status_code == 400, (request, response.text)
        assert response.headers["content-type"] == "application/problem+json"

    # A well-formed JWS with odd claims is a verdict, not an error: its signature fails, and it names no issue.
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    header = part({"alg": "EdDSA", "typ": "attestation+jwt", "kid": "x"})
    odd = f"{header}.{part({'status': 'x', 'jti': 'PA-2026-000007'})}"
    signature = base64.urlsafe_b64encode(b"\0" * 64).rstrip(b"=").decode()
    verdict = await anon.post("/api/v1/verify", json={"token": f"{odd}.{signature}"})
    assert verdict.status_code == 200 and verdict.json()["valid"] is False
    assert verdict.json()["status"] == "never-issued" and _outcomes(verdict.json())["key id"] == "failed"


async def test_a_1_gb_upload_is_refused_while_it_streams(anon, runtime) -> None:
    sent = 0
    chunk = b"\0" * (1024 * 1024)

    async def body():
        nonlocal sent
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="c.pdf"\r\n\r\n%PDF-1.7\n'
        for _ in range(1024):
            sent += len(chunk)
            yield chunk

    response = await anon.post(
        "/api/v1/verify", content=body(), headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert response.status_code == 413 and response.json()["type"] == "/problems/too-large"
    limit = runtime.verification.max_upload_bytes
    assert limit < sent <= limit + len(chunk)  # stopped at the limit, not after the gigabyte
    declared = await anon.post(
        "/api/v1/verify", content=b"x", headers={"content-type": "application/pdf", "content-length": str(2**30)}
    )
    assert declared.status_code == 413


async def test_a_token_longer_than_64_kib_is_refused_however_it_comes_and_a_long_text_is_not_read(anon) -> None:
    from portal.domain.verification.body import SMALL
    from portal.domain.verification.schemas import TOKEN_MAX

    # Between the token's limit and the body's: read, then refused before it is parsed.
    long = "a" * (TOKEN_MAX + 1)
    for request in (
        {"content": long.encode(), "headers": {"content-type": "text/plain"}},
        {"data": {"token": long}},
    ):
        refused = await anon.post("/api/v1/verify", **request)
        assert refused.status_code == 400, refused.text
        assert refused.json()["detail"] == f"a token is at most 65,536 characters; this one has {TOKEN_MAX + 1:,}"
    assert (await anon.post("/api/v1/verify", json={"token": long})).status_code == 400  # the JSON schema's bound

    # Longer than any token could be: the read stops a chunk past SMALL, however much more is sent.
    sent = 0
    chunk = b"a" * 16384

    async def body():
        nonlocal sent
        for _ in range(64 * 40):  # 40 MB
            sent += len(chunk)
            yield chunk

    for kind in ("text/plain", "application/x-www-form-urlencoded", "application/json"):
        sent = 0
        refused = await anon.post("/api/v1/verify", content=body(), headers={"content-type": kind})
        assert refused.status_code == 413 and refused.json()["type"] == "/problems/too-large", refused.text
        assert refused.json()["detail"] == "a token, a serial or a form is at most 68 KiB; send a certificate as a PDF"
        assert SMALL < sent <= SMALL + 2 * len(chunk)
    # The page says it in the visitor's language, with the form kept usable.
    page = await anon.post("/verify?lang=ar", data={"token": long})
    assert page.status_code == 400
    assert "لا يزيد طول رمز الشهادة عن 65,536 حرفًا، وطول هذا الرمز 65,537 حرفًا." in page.text
    assert "<textarea" in page.text


async def test_public_routes_answer_429_with_retry_after_over_the_limit(anon, runtime) -> None:
    limiter = runtime.rate_limiter
    saved = limiter.counters, dict(limiter.groups), limiter.window
    limiter.counters = MemoryCounters()  # this test's counts only
    limiter.groups.update({"jwks": 3, "verify": 2})
    # Fixed windows: one that ended mid-test would start the counts afresh. This one ends in 2033.
    limiter.window = 10**9
    try:
        assert [(await anon.get("/.well-known/jwks.json")).status_code for _ in range(3)] == [200, 200, 200]
        refused = await anon.get("/.well-known/jwks.json")
        assert refused.status_code == 429 and refused.json()["type"] == "/problems/too-many-requests"
        assert 1 <= int(refused.headers["retry-after"]) <= limiter.window
        # Groups are counted apart: the log is still open to this address.
        assert (await anon.get("/api/v1/log/checkpoint")).status_code == 200
        codes = [(await anon.post("/api/v1/verify", json={"serial": "PA-2026-999999"})).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert (await anon.get("/verify")).status_code == 429
    finally:
        limiter.counters, limiter.groups, limiter.window = saved
    assert (await anon.get("/.well-known/jwks.json")).status_code == 200


async def test_a_valid_verdict_is_kept_per_worker_until_the_log_names_its_serial(actors, anon, runtime) -> None:
    _, _, signer, _, body = await issued(actors)
    serial, token = body["serial"], body["token"]
    verdicts = runtime.verification.verdicts
    verdicts.changed(None)  # what earlier tests left
    first = await anon.post("/api/v1/verify", json={"token": token})
    assert first.json()["valid"] is True and len(verdicts) == 1
    again = await anon.post("/api/v1/verify", json={"token": token})
    assert again.content == first.content  # the kept verdict, byte for byte
    pdf = (await anon.get(f"/api/v1/attestations/{serial}/certificate.pdf")).content
    by_pdf = (await anon.post("/api/v1/verify", files={"file": ("c.pdf", pdf, "application/pdf")})).json()
    assert by_pdf["valid"] is True and by_pdf["source"] == "certificate"
    assert (await anon.post("/api/v1/verify", json={"serial": serial})).json()["source"] == "serial"
    # An altered token is never the kept one: it takes the whole checklist and fails, and is not kept.
    tampered = (await anon.post("/api/v1/verify", json={"token": _tampered(token)})).json()
    assert tampered["valid"] is False and _outcomes(tampered)["signature"] == "failed" and len(verdicts) == 1

    revoked = await signer.post(
        f"/api/v1/attestations/{serial}/revoke", json={"reason": "other", "detail": "kept no longer"}
    )
    assert revoked.status_code == 200, revoked.text
    assert len(verdicts) == 0  # this worker's own change: forgotten at its commit
    after = (await anon.post("/api/v1/verify", json={"token": token})).json()
    assert after["valid"] is False and after["status"] == "revoked"
    assert after["checks"][-1] == {
        "step": 12, "name": "registry record", "passed": False, "outcome": "failed", "detail": f"{serial} is revoked"
    }  # fmt: skip
    assert _outcomes(after)["status"] == "failed" and len(verdicts) == 0  # an invalid verdict is never kept


async def test_a_key_entry_in_the_log_forgets_every_kept_verdict(actors, anon, runtime) -> None:
    from portal.domain.context import SYSTEM

    _, _, _, _, body = await issued(actors)
    verdicts = runtime.verification.verdicts
    verdicts.changed(None)  # what earlier tests left
    assert (await anon.post("/api/v1/verify", json={"token": body["token"]})).json()["valid"] is True
    assert len(verdicts) == 1
    await runtime.status_lookup.confirm()
    await runtime.keys.rotate(SYSTEM, KeyPurpose.STATUS)
    await runtime.status_lookup.confirm()  # what each worker's follower does every poll
    assert len(verdicts) == 0
    # The retired key stays published, so the token is still valid, checked again in full.
    assert (await anon.post("/api/v1/verify", json={"token": body["token"]})).json()["valid"] is True


def test_verdicts_expire_with_the_token_and_never_keep_old_news() -> None:
    import time

    from portal.domain.verification.schemas import VerifyOut
    from portal.domain.verification.verdicts import Verdicts

    kept = Verdicts(max_entries=2)
    good = VerifyOut(valid=True, serial="PA-2026-000001", status="active", checks=[], source="token")
    kept.put("PA-2026-000001", "t1", good, until=time.time() + 60, generation=kept.generation)
    assert kept.get("t1") is good and kept.get("t2") is None
    kept.put("PA-2026-000001", "t1b", good, until=time.time() + 60, generation=kept.generation)
    assert kept.get("t1") is None and kept.get("t1b") is good and len(kept) == 1  # one token per serial
    kept.put("PA-2026-000002", "t2", good, until=time.time() - 1, generation=kept.generation)
    assert kept.get("t2") is None and len(kept) == 1  # past the token's expiry: checked again in full
    started = kept.generation
    kept.changed("PA-2026-000009")
    kept.put("PA-2026-000003", "t3", good, until=time.time() + 60, generation=started)
    assert kept.get("t3") is None  # something changed while its checks ran
    bad = VerifyOut(valid=False, serial="PA-2026-000004", status="revoked", checks=[], source="token")
    kept.put("PA-2026-000004", "t4", bad, until=time.time() + 60, generation=kept.generation)
    assert kept.get("t4") is None
    for n in (5, 6, 7):
        kept.put(f"PA-2026-00000{n}", f"t{n}", good, until=time.time() + 60, generation=kept.generation)
    assert len(kept) == 2 and kept.get("t5") is None and kept.get("t7") is good  # the oldest went first
    kept.changed(None)
    assert len(kept) == 0


async def test_a_revoke_reaches_the_verdicts_of_every_worker_of_a_served_portal(actors, settings) -> None:
    import asyncio

    import httpx

    from tests.served import Served

    _, _, signer, _, body = await issued(actors)
    token = body["token"]
    server = Served(settings, workers=2, PORTAL_ISSUER="http://testserver")  # the issuer the token names
    try:

        async def round_of(count: int) -> list[bool]:
            limits = httpx.Limits(max_keepalive_connections=0)  # new connections: both workers answer
            async with httpx.AsyncClient(headers={"host": "127.0.0.1"}, limits=limits) as client:
                answers = [
                    await client.post(f"{server.base}/api/v1/verify", json={"token": token}) for _ in range(count)
                ]
                return [a.json()["valid"] for a in answers]

        assert await round_of(20) == [True] * 20  # both workers now keep the valid verdict
        revoked = await signer.post(
            f"/api/v1/attestations/{body['serial']}/revoke", json={"reason": "other", "detail": "everywhere"}
        )
        assert revoked.status_code == 200
        rounds = []
        for _ in range(20):
            rounds.append(await round_of(20))
            if rounds[-1] == [False] * 20:
                break
            await asyncio.sleep(0.05)
        assert rounds[-1] == [False] * 20, rounds
    finally:
        server.stop()
