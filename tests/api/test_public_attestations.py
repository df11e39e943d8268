"""The public side of an attestation: its page and API for anyone (and each role), the never-issued / suspended /
revoked / superseded / expired distinction on the page, the API and verify, and nothing private in any of them."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.db.tables import AttestationRow
from tests.api.test_issuance import issued, officer, recommended
from tests.api.test_reviews import TELECOM

pytestmark = pytest.mark.usefixtures("baseline")

NARRATIVE = "Done and documented."  # every answer's narrative (tests.api.test_assessments.implemented)
FINDING = "No IR plan"  # the reviewer's finding comment on a conditional attestation
RATIONALE = "Meets the baseline"  # the reviewer's recommendation


async def _names(actors) -> list[str]:
    from portal.db.tables import User

    return [row["display_name"] for row in await User.select(User.display_name).run()]


async def test_the_page_and_api_show_the_public_record_to_everyone_and_nothing_private(actors, anon) -> None:
    provider, reviewer, signer, _, body = await issued(actors, conditional=True)
    serial = body["serial"]
    admin = await actors.regulator("regulator_admin")
    api = await anon.get(f"/api/v1/attestations/{serial}")
    assert api.status_code == 200 and api.headers["cache-control"] == "public, max-age=1"
    public = api.json()
    assert public["status"] == "active" and public["level"] == "conditional"
    assert public["conditions"] == [
        {"control_id": TELECOM[1], "text": "Adopt", "due_date": public["conditions"][0]["due_date"], "state": "open"}
    ]
    # Each event's date and index are its transparency log entry's.
    size = public["events"][-1]["log_index"] + 1
    entries = (await anon.get(f"/api/v1/log/entries?start=0&end={size}")).json()["entries"]
    logged = [(e["index"], e["body"]["event"], e["body"]["at"]) for e in entries if e["body"].get("jti") == serial]
    events = [
        (e["log_index"], e["event"], int(dt.datetime.fromisoformat(e["at"]).timestamp())) for e in public["events"]
    ]
    assert events == logged and [e[1] for e in events] == ["issue"]

    page = await anon.get(f"/attestations/{serial}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-cache"
    for link in (
        f'href="/verify?serial={serial}"',
        f'href="/api/v1/attestations/{serial}/certificate.pdf"',
        f'href="/api/v1/log/proof/{serial}"',
        f'href="/catalogs/{public["catalog"]["id"]}/{public["catalog"]["version"]}"',
    ):
        assert link in page.text
    assert public["token"] in page.text and "This attestation is genuine and in force." in page.text
    assert 'action="/attestations/' not in page.text  # no lifecycle form for the public

    names = [n for n in await _names(actors) if len(n) > 5]
    assert len(names) >= 4  # the provider admin, the reviewers, the officer, the admin
    verdict = (await anon.post("/api/v1/verify", json={"serial": serial})).json()
    for client in (anon, provider, reviewer, signer, admin):
        seen_page = await client.get(f"/attestations/{serial}")
        seen_api = await client.get(f"/api/v1/attestations/{serial}")
        assert seen_page.status_code == 200 and seen_api.json() == public
        assert (await client.post("/api/v1/verify", json={"serial": serial})).json() == verdict
        assert (await client.get(f"/verify?serial={serial}")).status_code == 200
        # The page's content (the header names the signed-in viewer to themselves, as on every page).
        content = seen_page.text.split("<main", 1)[1].split("</main>", 1)[0]
        for text in (content, seen_api.text, str(verdict)):
            for private in (NARRATIVE, FINDING, RATIONALE, *names):
                assert private not in text, (private, client)
    # Regulators who may manage it still find their lifecycle actions on the same page.
    for client in (signer, admin):
        assert f'action="/attestations/{serial}/suspend"' in (await client.get(f"/attestations/{serial}")).text
    for client in (provider, reviewer):
        assert f'action="/attestations/{serial}/suspend"' not in (await client.get(f"/attestations/{serial}")).text
    met = await signer.post(f"/api/v1/attestations/{serial}/conditions/1/met", json={"note": "Seen by the officer"})
    assert met.status_code == 200
    after = (await anon.get(f"/api/v1/attestations/{serial}")).json()
    assert after["conditions"][0]["state"] == "met" and "note" not in after["conditions"][0]
    assert "Seen by the officer" not in (await anon.get(f"/attestations/{serial}")).text


async def _states(anon, serial: str, token: str) -> tuple[str, str, dict, dict]:
    api = (await anon.get(f"/api/v1/attestations/{serial}")).json()["status"]
    page = (await anon.get(f"/attestations/{serial}")).text
    by_serial = (await anon.post("/api/v1/verify", json={"serial": serial})).json()
    by_token = (await anon.post("/api/v1/verify", json={"token": token})).json()
    return api, page, by_serial, by_token


def _outcomes(verdict: dict) -> dict[str, str]:
    return {c["name"]: c["outcome"] for c in verdict["checks"]}


async def test_never_issued_suspended_superseded_revoked_and_expired_are_told_apart(actors, anon) -> None:
    never = await anon.get("/api/v1/attestations/PA-2026-999999")
    assert never.status_code == 404 and never.json()["type"] == "/problems/never-issued"
    page = await anon.get("/attestations/PA-2026-999999")
    assert page.status_code == 404 and "has never issued an attestation with the serial" in page.text
    assert "It is not revoked, suspended or expired: it does not exist." in page.text
    assert (await anon.get("/attestations/not-a-serial")).status_code == 400
    verdict = (await anon.post("/api/v1/verify", json={"serial": "PA-2026-999999"})).json()
    assert verdict["valid"] is False and verdict["status"] == "never-issued"
    assert [(c["step"], c["name"], c["passed"]) for c in verdict["checks"]] == [(1, "registry record", False)]
    assert "never issued" in (await anon.get("/verify?serial=PA-2026-999999")).text

    pair = await actors.provider()
    _, _, aid = await recommended(actors, provider=pair)
    signer = await officer(actors)
    first = (await signer.post(f"/api/v1/assessments/{aid}/decide", json={"decision": "issue"})).json()
    serial, token = first["serial"], first["token"]
    api, page_text, by_serial, by_token = await _states(anon, serial, token)
    assert api == "active" and by_serial["valid"] is True and by_token["valid"] is True
    assert set(_outcomes(by_token).values()) == {"passed"} and len(by_token["checks"]) == 12
    assert "genuine and in force" in page_text

    await signer.post(f"/api/v1/attestations/{serial}/suspend", json={"reason": "audit"})
    api, page_text, by_serial, by_token = await _states(anon, serial, token)
    assert api == "suspended" and "is suspended" in page_text
    for verdict in (by_serial, by_token):
        assert verdict["valid"] is False and verdict["status"] == "suspended"
        assert _outcomes(verdict)["status"] == "failed" and _outcomes(verdict)["signature"] == "passed"
    assert "Not valid" in (await anon.get(f"/verify?serial={serial}")).text

    await signer.post(f"/api/v1/attestations/{serial}/reinstate", json={"reason": "audit closed"})
    _, _, aid2 = await recommended(actors, provider=pair)
    second = (await signer.post(f"/api/v1/assessments/{aid2}/decide", json={"decision": "issue"})).json()
    api, page_text, by_serial, by_token = await _states(anon, serial, token)
    assert api == "superseded" and "replaced by a newer one" in page_text and second["serial"] in page_text
    for verdict in (by_serial, by_token):
        assert verdict["valid"] is False and verdict["status"] == "superseded"
        assert _outcomes(verdict)["status"] == "failed"
        assert second["serial"] in verdict["checks"][-1]["detail"]

    revoked = await signer.post(
        f"/api/v1/attestations/{second['serial']}/revoke", json={"reason": "other", "detail": "withdrawn"}
    )
    assert revoked.status_code == 200
    api, page_text, by_serial, by_token = await _states(anon, second["serial"], second["token"])
    assert api == "revoked" and "has been revoked" in page_text
    for verdict in (by_serial, by_token):
        assert verdict["valid"] is False and verdict["status"] == "revoked"
        assert _outcomes(verdict)["status"] == "failed"

    _, _, _, _, third = await issued(actors)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    await AttestationRow.update({AttestationRow.expires_at: past}).where(AttestationRow.serial == third["serial"])
    api, page_text, by_serial, by_token = await _states(anon, third["serial"], third["token"])
    assert api == "expired" and "has expired" in page_text
    for verdict in (by_serial, by_token):
        # The token's own exp is 30 days ahead; the registry's record and the status list say it expired.
        assert verdict["valid"] is False and verdict["status"] == "expired"
        assert _outcomes(verdict)["registry record"] == "failed"
