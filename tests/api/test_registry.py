"""The public registry: search by every field, filters, sorts and pages, the export, the change feeds and the
statistics; the same public answer for every caller, and nothing private in any of it."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
from urllib.parse import parse_qs
from xml.etree import ElementTree as ET

import pytest

import controls
from portal.db.tables import Decision, Revision
from tests.conftest import register, registration

pytestmark = pytest.mark.usefixtures("baseline")
BASELINE = controls.baseline_catalog()
NARRATIVE = "Our secret runbook lives on server X."
ATOM = "{http://www.w3.org/2005/Atom}"


def applicable(category: str) -> list[str]:
    return [c.id for c in controls.applicable_controls(BASELINE, controls.ProviderCategory(category))]


async def provider(actors, *, category: str, country: str, name_ar: str = ""):
    body = registration(organisation__category=category, organisation__country=country)
    created = await register(actors.client_factory(), actors.app.state.runtime.settings, body)
    organisation = created["organisation_id"]
    admin = await actors.regulator("regulator_admin")
    assert (await admin.post(f"/api/v1/organisations/{organisation}/verify")).status_code == 200
    if name_ar:
        renamed = await admin.patch(f"/api/v1/organisations/{organisation}", json={"name_ar": name_ar})
        assert renamed.status_code == 200, renamed.text
    return await actors.login(body["user"]["email"]), body["organisation"]


async def attest(actors, *, category="telecom_operator", country="BH", name_ar="", scope=None, signer=None):
    """Provider, assessment, review and decision through the API; (issued attestation, organisation, reviewer)."""
    client, organisation = await provider(actors, category=category, country=country, name_ar=name_ar)
    scope = scope or {"summary": "Broadband", "services": ["FTTH broadband"], "products": []}
    opened = await client.post(
        "/api/v1/assessments",
        json={"catalog_id": BASELINE.id, "catalog_version": BASELINE.version, "scope": scope},
    )
    assert opened.status_code == 201, opened.text
    aid = opened.json()["id"]
    ids = applicable(category)
    for control_id in ids:
        answer = {"status": "implemented", "narrative": NARRATIVE}
        assert (await client.put(f"/api/v1/assessments/{aid}/answers/{control_id}", json=answer)).status_code == 200
    assert (await client.post(f"/api/v1/assessments/{aid}/submit")).status_code == 200
    reviewer_user = await actors.create_user("reviewer")
    reviewer = await actors.login(reviewer_user["email"])
    assert (await reviewer.post(f"/api/v1/assessments/{aid}/claim")).status_code == 200
    for control_id in ids:
        finding = {"verdict": "satisfied", "comment": "Checked the runbook carefully."}
        assert (await reviewer.put(f"/api/v1/assessments/{aid}/findings/{control_id}", json=finding)).status_code == 200
    recommend = {"decision": "approve", "rationale": "Meets the baseline"}
    assert (await reviewer.post(f"/api/v1/assessments/{aid}/recommend", json=recommend)).status_code == 200
    if signer is None:
        signer = await actors.regulator("signing_officer")
    decided = await signer.post(f"/api/v1/assessments/{aid}/decide", json={"decision": "issue", "valid_days": 30})
    assert decided.status_code == 201, decided.text
    return decided.json(), organisation, reviewer


async def world(actors):
    """Three attestations: a telecom in BH (Arabic name, a router), a cloud host in AE (a camera), and a
    telecom in BH that is then revoked."""
    signer = await actors.regulator("signing_officer")
    router = {"summary": "Home broadband", "services": ["FTTH broadband"], "products": [
        {"name": "Home router", "model": "GT-R5", "version": "2.1"}]}  # fmt: skip
    camera = {"summary": "Video hosting", "services": ["Object storage"], "products": [
        {"name": "Camera", "model": "CAM-9000", "version": ""}]}  # fmt: skip
    first, first_org, reviewer = await attest(actors, name_ar="الخليج للاتصالات", scope=router, signer=signer)
    second, second_org, _ = await attest(actors, category="cloud_hosting", country="AE", scope=camera, signer=signer)
    third, third_org, _ = await attest(actors, signer=signer)
    revoked = await signer.post(
        f"/api/v1/attestations/{third['serial']}/revoke", json={"reason": "non_conformity", "detail": "Audit failed"}
    )
    assert revoked.status_code == 200
    return {
        "signer": signer,
        "reviewer": reviewer,
        "serials": [first["serial"], second["serial"], third["serial"]],
        "orgs": [first_org, second_org, third_org],
    }


def language_link(page: str) -> dict[str, list[str]]:
    href = re.search(r'<a class="lang" href="\?([^"]*)"', page)
    assert href is not None
    return parse_qs(html.unescape(href.group(1)))


def serials(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["serial"] for item in response.json()["items"]]


async def test_search_matches_every_public_field_and_filters_sorts_and_pages(actors, anon) -> None:
    w = await world(actors)
    a, b, c = w["serials"]
    first, second, third = w["orgs"]
    url = "/api/v1/registry"
    everything = await anon.get(url)
    assert everything.json()["total"] == 3 and everything.json()["page"] == 1 and everything.json()["per_page"] == 20
    assert set(serials(everything)) == {a, b, c}
    for q, expected in [
        (first["name"], [a]),
        (first["name"].upper(), [a]),
        ("الخليج", [a]),
        ("الخليج للإتصالات", [a]),  # hamza on the alef: searched as the plain letter
        (second["legal_name"], [b]),
        (second["registration_number"], [b]),
        (c, [c]),
        ("GT-R5", [a]),
        ("cam-9000", [b]),
        ("camera", [b]),
        ("object storage", [b]),
        ("FTTH", sorted([a, c])),
        ("nothing-like-this", []),
        ("100%", []),
    ]:
        assert sorted(serials(await anon.get(url, params={"q": q}))) == expected, q
    assert serials(await anon.get(url, params={"category": "cloud_hosting"})) == [b]
    assert sorted(serials(await anon.get(url, params={"country": "BH"}))) == sorted([a, c])
    assert serials(await anon.get(url, params={"country": "ae"})) == [b]
    assert serials(await anon.get(url, params={"status": "revoked"})) == [c]
    assert sorted(serials(await anon.get(url, params={"status": "active"}))) == sorted([a, b])
    assert len(serials(await anon.get(url, params={"catalog": BASELINE.id}))) == 3
    assert len(serials(await anon.get(url, params={"catalog": f"{BASELINE.id}@{BASELINE.version}"}))) == 3
    assert serials(await anon.get(url, params={"catalog": f"{BASELINE.id}@0.0-none"})) == []
    assert serials(await anon.get(url, params={"q": "FTTH", "status": "active"})) == [a]
    by_name = sorted([(first["name"].lower(), a), (second["name"].lower(), b), (third["name"].lower(), c)])
    assert serials(await anon.get(url, params={"sort": "name"})) == [s for _, s in by_name]
    assert serials(await anon.get(url, params={"sort": "-name"})) == [s for _, s in reversed(by_name)]
    assert serials(await anon.get(url, params={"sort": "issued"})) == [c, b, a]
    assert serials(await anon.get(url, params={"sort": "-issued"})) == [a, b, c]
    assert serials(await anon.get(url, params={"sort": "expires"})) == [a, b, c]
    pages = [await anon.get(url, params={"sort": "-issued", "per_page": 2, "page": n}) for n in (1, 2, 3)]
    assert [serials(p) for p in pages] == [[a, b], [c], []]
    assert [p.json()["total"] for p in pages] == [3, 3, 3] and pages[1].json()["page"] == 2
    item = everything.json()["items"][[i["serial"] for i in everything.json()["items"]].index(a)]
    assert item["provider"]["name_ar"] == "الخليج للاتصالات" and item["provider"]["country"] == "BH"
    assert item["scope"]["products"] == [{"name": "Home router", "model": "GT-R5", "version": "2.1"}]
    assert item["catalog"] == {"id": BASELINE.id, "version": BASELINE.version} and item["level"] == "full"
    assert item["url"] == f"http://testserver/attestations/{a}" and item["status"] == "active"
    assert set(item) == {"serial", "status", "provider", "scope", "catalog", "level", "result", "valid_from",
                         "expires_at", "url"}  # fmt: skip


async def test_bad_queries_are_400_problems(anon) -> None:
    for params in [
        {"page": 0},
        {"page": "x"},
        {"per_page": 101},
        {"per_page": 0},
        {"sort": "price"},
        {"status": "valid"},
        {"category": "bakery"},
        {"country": "Bahrain"},
        {"catalog": "a b"},
        {"q": "x" * 201},
    ]:
        response = await anon.get("/api/v1/registry", params=params)
        assert response.status_code == 400, params
        assert response.headers["content-type"].startswith("application/problem+json")
    for params in [{"since": -1}, {"since": "soon"}, {"since": 1}, {"limit": 0}, {"limit": 1001}]:
        assert (await anon.get("/api/v1/registry/changes", params=params)).status_code == 400, params
    assert (await anon.get("/api/v1/registry/export", params={"format": "xml"})).status_code == 400
    page = await anon.get("/registry", params={"per_page": "500"})
    assert page.status_code == 400 and "per_page" in page.text
    for params in [{"page": "²"}, {"per_page": "¹"}, {"page": "١"}]:  # digits to str.isdigit(), not to the page
        page = await anon.get("/registry", params=params)
        assert page.status_code == 400 and next(iter(params)) in page.text, params
        assert (await anon.get("/api/v1/registry", params=params)).status_code == 400, params


async def test_every_caller_gets_the_same_public_answer_with_nothing_private(actors, anon) -> None:
    w = await world(actors)
    reviewer_name = (await w["reviewer"].get("/api/v1/me")).json()["display_name"]
    provider_client, _ = await actors.provider()
    callers = [anon, provider_client, w["reviewer"], w["signer"], await actors.regulator("regulator_admin")]
    routes = [
        "/api/v1/registry?sort=issued",
        "/api/v1/registry/export?format=csv",
        "/api/v1/registry/export?format=jsonl",
        "/api/v1/registry/changes?since=0",
        "/registry/feed.atom",
    ]
    for route in routes:
        answers = [await caller.get(route) for caller in callers]
        assert {a.status_code for a in answers} == {200}, route
        assert len({a.content for a in answers}) == 1, route
        text = answers[0].text
        for private in (NARRATIVE, "Checked the runbook", reviewer_name, "Audit failed", "Meets the baseline"):
            assert private not in text, (route, private)
    statistics = [(await caller.get("/api/v1/registry/statistics")).json() for caller in callers]
    assert len({json.dumps({k: v for k, v in s.items() if k != "generated_at"}) for s in statistics}) == 1
    for route in ("/registry", "/registry/statistics"):
        for caller in callers:
            page = await caller.get(route)
            assert page.status_code == 200
            assert NARRATIVE not in page.text and "Checked the runbook" not in page.text


async def test_export_lists_exactly_the_registry_with_validators(actors, anon) -> None:
    w = await world(actors)
    registry = {i["serial"]: i for i in (await anon.get("/api/v1/registry", params={"per_page": 100})).json()["items"]}
    exported = await anon.get("/api/v1/registry/export", params={"format": "csv"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert list(rows[0]) == [
        "serial", "status", "provider_name", "provider_name_ar", "legal_name", "registration_number", "category",
        "country", "catalog_id", "catalog_version", "level", "scope_summary", "services", "products", "sites",
        "valid_from", "expires_at", "superseded_by", "url",
    ]  # fmt: skip
    assert {r["serial"]: r["status"] for r in rows} == {s: i["status"] for s, i in registry.items()}
    assert sorted(r["serial"] for r in rows) == [r["serial"] for r in rows]
    router = next(r for r in rows if r["serial"] == w["serials"][0])
    assert router["products"] == "Home router GT-R5 2.1" and router["provider_name_ar"] == "الخليج للاتصالات"
    lines = (await anon.get("/api/v1/registry/export", params={"format": "jsonl"})).text.splitlines()
    assert {json.loads(line)["serial"]: json.loads(line) for line in lines} == registry
    etag, modified = exported.headers["etag"], exported.headers["last-modified"]
    url = "/api/v1/registry/export?format=csv"
    assert (await anon.get(url, headers={"If-None-Match": etag})).status_code == 304
    assert (await anon.get(url, headers={"If-Modified-Since": modified})).status_code == 304
    assert (await anon.get(url, headers={"If-None-Match": '"other"'})).status_code == 200
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert (await anon.get(url, headers={"If-Modified-Since": old})).status_code == 200
    suspended = await w["signer"].post(f"/api/v1/attestations/{w['serials'][0]}/suspend", json={"reason": "audit"})
    assert suspended.status_code == 200
    after = await anon.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    assert {r["serial"]: r["status"] for r in csv.DictReader(io.StringIO(after.text))}[w["serials"][0]] == "suspended"


async def test_changes_and_atom_carry_issue_suspension_and_revocation_in_order(actors, anon) -> None:
    issued, _, _ = await attest(actors)
    serial = issued["serial"]
    signer = await actors.regulator("signing_officer")
    assert (await signer.post(f"/api/v1/attestations/{serial}/suspend", json={"reason": "audit"})).status_code == 200
    revoke = {"reason": "misrepresentation", "detail": "forged evidence"}
    assert (await signer.post(f"/api/v1/attestations/{serial}/revoke", json=revoke)).status_code == 200
    body = (await anon.get("/api/v1/registry/changes", params={"since": 0})).json()
    ours = [c for c in body["changes"] if c["serial"] == serial]
    assert [(c["event"], c["status"]) for c in ours] == [
        ("issue", "active"), ("suspend", "suspended"), ("revoke", "revoked")
    ]  # fmt: skip
    assert ours[2]["reason"] == "misrepresentation" and "forged" not in json.dumps(body)
    assert ours[1]["until"] is not None
    indexes = [c["log_index"] for c in body["changes"]]
    assert indexes == sorted(indexes) and body["next"] == body["log_size"]
    # Page by one: the cursor walks every change, none missed, none repeated.
    walked, since = [], 0
    while True:
        page = (await anon.get("/api/v1/registry/changes", params={"since": since, "limit": 1})).json()
        walked += [c["log_index"] for c in page["changes"]]
        if not page["changes"]:
            assert page["next"] == since == page["log_size"]
            break
        since = page["next"]
    assert walked == indexes
    tail = (await anon.get("/api/v1/registry/changes", params={"since": ours[1]["log_index"]})).json()
    assert [c["event"] for c in tail["changes"]] == ["suspend", "revoke"]
    feed = await anon.get("/registry/feed.atom")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.content)  # noqa: S314 - the portal's own feed
    assert root.tag == f"{ATOM}feed" and root.find(f"{ATOM}id").text.startswith("urn:uuid:")
    entries = root.findall(f"{ATOM}entry")
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert [t.split(" (")[0] for t in titles] == [f"{serial} revoked", f"{serial} suspended", f"{serial} issued"]
    assert root.find(f"{ATOM}updated").text == entries[0].find(f"{ATOM}updated").text
    first_ids = [e.find(f"{ATOM}id").text for e in entries]
    assert (await signer.post(f"/api/v1/attestations/{serial}/revoke", json=revoke)).status_code == 409
    again = ET.fromstring((await anon.get("/registry/feed.atom")).content)  # noqa: S314
    assert [e.find(f"{ATOM}id").text for e in again.findall(f"{ATOM}entry")] == first_ids
    assert len(set(first_ids)) == 3


async def test_statistics_count_a_known_set_and_the_review_time_percentiles(actors, anon) -> None:
    w = await world(actors)
    stats = (await anon.get("/api/v1/registry/statistics")).json()
    assert stats["total"] == 3
    assert stats["by_status"] == {"active": 2, "suspended": 0, "revoked": 1, "expired": 0, "superseded": 0}
    assert stats["by_category"] == {"cloud_hosting": 1, "telecom_operator": 2}
    assert stats["by_country"] == {"AE": 1, "BH": 2}
    assert stats["review_times"]["decisions"] == 3 and stats["review_times"]["window_days"] == 90
    # Known durations: first submissions 1, 2 and 11 days before their decisions; one decision too old to count.
    decided = now = dt.datetime.now(dt.UTC)
    decisions = await Decision.select(Decision.assessment).order_by(Decision.at)
    for row, days in zip(decisions, (1, 2, 11), strict=True):
        await Revision.update({Revision.created_at: decided - dt.timedelta(days=days)}).where(
            (Revision.assessment == row["assessment"]) & (Revision.number == 1)
        )
        await Decision.update({Decision.at: decided}).where(Decision.assessment == row["assessment"])
    times = (await anon.get("/api/v1/registry/statistics")).json()["review_times"]
    assert times == {"window_days": 90, "decisions": 3, "median_days": 2.0, "p90_days": 9.2}
    await Decision.update({Decision.at: now - dt.timedelta(days=91)}).where(
        Decision.assessment == decisions[2]["assessment"]
    )
    times = (await anon.get("/api/v1/registry/statistics")).json()["review_times"]
    assert times == {"window_days": 90, "decisions": 2, "median_days": 1.5, "p90_days": 1.9}
    page = await anon.get("/registry/statistics")
    assert page.status_code == 200 and page.text.count("<svg") == 4 and "<script" not in page.text
    assert '<title id="chart-status-title">Attestations by status</title>' in page.text
    assert '<th scope="row">revoked</th><td>1</td>' in page.text
    arabic = await anon.get("/registry/statistics", params={"lang": "ar"})
    assert 'dir="rtl"' in arabic.text and "البحرين" in arabic.text and "telecom_operator" not in arabic.text
    assert w["serials"]


async def test_registry_page_keeps_filters_in_links_and_speaks_both_languages(actors, anon) -> None:
    w = await world(actors)
    page = await anon.get("/registry", params={"q": "FTTH", "status": "active", "per_page": "1"})
    assert page.status_code == 200 and w["serials"][0] in page.text and w["serials"][2] not in page.text
    assert "1 attestation found" in page.text and 'value="FTTH"' in page.text
    assert language_link(page.text) == {"q": ["FTTH"], "status": ["active"], "per_page": ["1"], "lang": ["ar"]}
    everything = await anon.get("/registry", params={"per_page": "1", "sort": "issued"})
    assert 'href="/registry?sort=issued&amp;per_page=1&amp;page=2" rel="next"' in everything.text
    arabic = await anon.get("/registry", params={"lang": "ar", "status": "revoked"})
    assert 'dir="rtl"' in arabic.text and w["serials"][2] in arabic.text
    assert f"<bdi>{w['serials'][2]}</bdi>" in arabic.text and ">revoked<" not in arabic.text
    assert language_link(arabic.text) == {"status": ["revoked"], "lang": ["en"]}
    home = await anon.get("/")
    assert 'href="/registry"' in home.text
