"""Control catalogs in the portal: public API and pages, publishing rules and roles, the import/export CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import msgspec
import pytest

import controls
from portal.db.tables import AuditEvent
from portal.db.tables import Catalog as CatalogRow
from portal.domain.context import SYSTEM
from portal.errors import Conflict, NotFound
from tests.conftest import ROOT, SHARED

PRIVACY_BASELINE = SHARED / "data" / "oscal" / "NIST_SP-800-53_rev5_PRIVACY-baseline-resolved-profile_catalog.json"
SUMMARY_KEYS = {"id", "version", "title", "status", "digest", "control_count", "published_at", "retired_at"}


def builtin() -> controls.Catalog:
    return controls.baseline_catalog()


def small_catalog(version: str = "1.0.0") -> controls.Catalog:
    """A complete catalog of the baseline's first two families, under its own id."""
    source = builtin()
    families = source.families[:2]
    kept = {family.id for family in families}
    return msgspec.structs.replace(
        source,
        id="test-catalog",
        version=version,
        title="Test catalog",
        families=families,
        controls=[control for control in source.controls if control.family in kept],
    )


def second_version(first: controls.Catalog) -> tuple[controls.Catalog, str, str, str]:
    """Version 1.1.0: one control removed, one added, one retitled; returns it and those three ids."""
    family = first.families[0].id
    in_family = first.controls_in(family)
    removed, changed = in_family[-1], in_family[0]
    added = msgspec.structs.replace(in_family[1], id=f"{family}-99", title="A control added in 1.1.0")
    new_controls = []
    for control in first.controls:
        if control.id == removed.id:
            continue
        new_controls.append(msgspec.structs.replace(control, title="Retitled") if control.id == changed.id else control)
        if control.id == in_family[-2].id:
            new_controls.append(added)
    second = msgspec.structs.replace(first, version="1.1.0", controls=new_controls)
    controls.validate_catalog(second, source="second version")
    return second, added.id, removed.id, changed.id


async def row_count() -> int:
    return int(await CatalogRow.count())


def articles(html: str) -> list[str]:
    return re.findall(r'<article class="control" id="([^"]+)"', html)


# --- public API ---------------------------------------------------------------------------------------


@pytest.fixture
def catalogs(runtime):
    return runtime.catalogs


async def test_the_baseline_is_listed_and_served_with_its_digest(catalogs, anon) -> None:
    await catalogs.ensure_baseline()
    expected = builtin()
    listing = await anon.get("/api/v1/catalogs")
    assert listing.status_code == 200
    [item] = listing.json()
    assert set(item) == SUMMARY_KEYS
    assert (item["id"], item["version"], item["title"], item["status"]) == (
        expected.id,
        expected.version,
        expected.title,
        "published",
    )
    assert item["digest"] == controls.catalog_digest(expected)
    assert item["control_count"] == len(expected.controls)
    assert item["published_at"] is not None and item["retired_at"] is None

    detail = await anon.get(f"/api/v1/catalogs/{expected.id}/{expected.version}")
    assert detail.status_code == 200
    body = detail.json()
    assert body["digest"] == controls.catalog_digest(expected)
    assert body["control_count"] == len(expected.controls)
    assert [c["id"] for c in body["controls"]] == [c.id for c in expected.controls]
    assert [f["id"] for f in body["families"]] == [f.id for f in expected.families]
    assert [f["control_count"] for f in body["families"]] == [
        len(expected.controls_in(f.id)) for f in expected.families
    ]
    first = expected.controls[0]
    served = body["controls"][0]
    assert served["family"] == first.family and served["pillar"] == first.pillar
    assert served["statement"] == first.statement and served["guidance"] == first.guidance
    assert served["categories"] == [str(c) for c in first.categories]
    assert served["mappings"] == msgspec.to_builtins(first.mappings)
    assert served["sources"] == msgspec.to_builtins(first.sources)
    assert served["evidence_expected"] == first.evidence_expected and served["parent"] is None


async def test_native_format_is_the_document_that_hashes_to_the_digest(catalogs, anon) -> None:
    await catalogs.ensure_baseline()
    expected = builtin()
    native = await anon.get(f"/api/v1/catalogs/{expected.id}/{expected.version}", params={"format": "native"})
    assert native.status_code == 200
    assert native.headers["content-type"] == "application/json"
    assert native.content == controls.encode_catalog(expected)
    decoded = controls.decode_catalog(native.content, source="response", format="json")
    assert controls.catalog_digest(decoded) == controls.catalog_digest(expected)


async def test_oscal_format_round_trips_to_the_same_controls_and_digest(catalogs, anon) -> None:
    await catalogs.ensure_baseline()
    expected = builtin()
    response = await anon.get(f"/api/v1/catalogs/{expected.id}/{expected.version}", params={"format": "oscal"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert document == json.loads(json.dumps(controls.to_oscal(expected)))

    def ids(items: list[dict[str, Any]]) -> list[str]:
        found = []
        for item in items:
            found.append(item["id"])
            found.extend(ids(item.get("controls", [])))
        return found

    oscal_ids = [i for group in document["catalog"]["groups"] for i in ids(group.get("controls", []))]
    assert sorted(oscal_ids) == sorted(c.id for c in expected.controls)
    assert controls.catalog_digest(controls.from_oscal(response.content)) == controls.catalog_digest(expected)


async def test_unknown_catalog_or_version_is_a_404_problem_with_a_body(catalogs, anon) -> None:
    await catalogs.ensure_baseline()
    expected = builtin()
    no_catalog = await anon.get("/api/v1/catalogs/no-such-catalog/1.0.0")
    assert no_catalog.status_code == 404
    assert no_catalog.headers["content-type"] == "application/problem+json"
    assert no_catalog.json()["type"] == "/problems/not-found"
    assert no_catalog.json()["detail"] == "there is no catalog 'no-such-catalog'"
    no_version = await anon.get(f"/api/v1/catalogs/{expected.id}/9.9.9")
    assert no_version.status_code == 404
    assert no_version.json()["detail"] == (
        f"catalog '{expected.id}' has no version '9.9.9'; its versions are: {expected.version}"
    )
    assert no_version.json()["versions"] == [expected.version]
    no_against = await anon.get(f"/api/v1/catalogs/{expected.id}/{expected.version}/diff", params={"against": "0.1"})
    assert no_against.status_code == 404
    assert no_against.json()["detail"] == (
        f"catalog '{expected.id}' has no version '0.1'; its versions are: {expected.version}"
    )
    page = await anon.get("/catalogs/no-such-catalog/1.0.0", headers={"accept": "text/html"})
    assert page.status_code == 404 and "there is no catalog &#39;no-such-catalog&#39;" in page.text


async def test_drafts_are_visible_to_regulators_only(catalogs, actors, anon) -> None:
    draft = small_catalog()
    result = await catalogs.import_catalog(SYSTEM, draft, publish=False)
    assert (result.outcome, result.status) == ("imported", "draft")
    assert (await anon.get("/api/v1/catalogs")).json() == []
    hidden = await anon.get(f"/api/v1/catalogs/{draft.id}/{draft.version}")
    assert hidden.status_code == 404 and hidden.json()["detail"] == "there is no catalog 'test-catalog'"
    provider, _ = await actors.provider()
    assert (await provider.get(f"/api/v1/catalogs/{draft.id}/{draft.version}")).status_code == 404
    reviewer = await actors.regulator("reviewer")
    listed = (await reviewer.get("/api/v1/catalogs")).json()
    assert [(c["id"], c["status"]) for c in listed] == [("test-catalog", "draft")]
    assert (await reviewer.get(f"/api/v1/catalogs/{draft.id}/{draft.version}")).status_code == 200


# --- publishing rules and roles -----------------------------------------------------------------------


async def test_only_a_regulator_admin_publishes_and_retires(catalogs, actors, anon) -> None:
    draft = small_catalog()
    await catalogs.import_catalog(SYSTEM, draft, publish=False)
    base = f"/api/v1/catalogs/{draft.id}/{draft.version}"
    reviewer = await actors.regulator("reviewer")
    signer = await actors.regulator("signing_officer")
    provider, _ = await actors.provider()
    for action in ("publish", "retire"):
        assert (await anon.post(f"{base}/{action}")).status_code == 401
        for client in (reviewer, signer, provider):
            refused = await client.post(f"{base}/{action}")
            assert refused.status_code == 403 and refused.json()["type"] == "/problems/forbidden"
    assert (await catalogs.stored_catalog(draft.id, draft.version)).summary.status == "draft"

    admin = await actors.regulator("regulator_admin")
    admin_id = (await admin.get("/api/v1/me")).json()["id"]
    retire_draft = await admin.post(f"{base}/retire")
    assert retire_draft.status_code == 409
    assert retire_draft.json()["detail"] == "test-catalog@1.0.0 is a draft; only a published version can be retired"
    published = await admin.post(f"{base}/publish")
    assert published.status_code == 200 and published.json()["status"] == "published"
    row = await CatalogRow.select().where(CatalogRow.reference == "test-catalog@1.0.0").first()
    assert str(row["published_by"]) == admin_id and row["published_at"] is not None
    again = await admin.post(f"{base}/publish")
    assert again.status_code == 409 and again.json()["detail"] == "test-catalog@1.0.0 is already published"
    for client in (reviewer, signer, provider):
        assert (await client.post(f"{base}/retire")).status_code == 403
    retired = await admin.post(f"{base}/retire")
    assert retired.status_code == 200 and retired.json()["status"] == "retired"
    assert retired.json()["retired_at"] is not None
    republish = await admin.post(f"{base}/publish")
    assert republish.status_code == 409
    events = (
        await AuditEvent.select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.object_id)
        .where(AuditEvent.action.like("catalog.%"))
        .order_by(AuditEvent.seq)
    )
    assert [(e["action"], e["actor_id"], e["object_id"]) for e in events] == [
        ("catalog.imported", "", "test-catalog@1.0.0"),
        ("catalog.published", admin_id, "test-catalog@1.0.0"),
        ("catalog.retired", admin_id, "test-catalog@1.0.0"),
    ]
    # Retired versions stay public.
    assert (await anon.get(base)).json()["status"] == "retired"


async def test_a_published_version_never_changes(catalogs, actors) -> None:
    await catalogs.ensure_baseline()
    expected = builtin()
    stored = await CatalogRow.select(CatalogRow.digest, CatalogRow.document).first()
    edited = msgspec.structs.replace(expected, title="A quietly edited baseline")
    with pytest.raises(Conflict) as refused:
        await catalogs.import_catalog(SYSTEM, edited, publish=False)
    assert refused.value.detail == (
        f"{expected.id}@{expected.version} is published with digest {controls.catalog_digest(expected)}: "
        "a published version never changes; import it as a new version"
    )
    admin = await actors.regulator("regulator_admin")
    over_http = await admin.post("/api/v1/catalogs", content=controls.encode_catalog(edited))
    assert over_http.status_code == 409
    assert over_http.json()["detail"] == (
        f"{expected.id}@{expected.version} is published with digest {controls.catalog_digest(expected)}: "
        "a published version never changes; import it as a new version"
    )
    after = await CatalogRow.select(CatalogRow.digest, CatalogRow.document).first()
    assert after == stored
    assert after["digest"] == controls.catalog_digest(expected)
    assert after["document"] == controls.encode_catalog(expected).decode()
    same = await admin.post("/api/v1/catalogs", content=controls.encode_catalog(expected))
    assert same.status_code == 200
    assert (same.json()["outcome"], same.json()["status"]) == ("unchanged", "published")
    assert await row_count() == 1


async def test_a_draft_is_replaced_and_ensure_baseline_is_idempotent(catalogs) -> None:
    first = await catalogs.ensure_baseline()
    assert (first.outcome, first.status) == ("imported", "published")
    second = await catalogs.ensure_baseline()
    assert (second.outcome, second.status, second.digest) == ("unchanged", "published", first.digest)
    assert (
        second.message == f"{first.id}@{first.version} is already stored with this content (published); nothing changed"
    )
    draft = small_catalog()
    await catalogs.import_catalog(SYSTEM, draft, publish=False)
    changed = msgspec.structs.replace(draft, title="Test catalog, revised draft")
    replaced = await catalogs.import_catalog(SYSTEM, changed, publish=False)
    assert (replaced.outcome, replaced.status, replaced.title) == ("replaced", "draft", "Test catalog, revised draft")
    assert replaced.digest == controls.catalog_digest(changed)
    published = await catalogs.import_catalog(SYSTEM, changed, publish=True)
    assert (published.outcome, published.status) == ("unchanged", "published")
    assert await row_count() == 2
    actions = [e["action"] for e in await AuditEvent.select(AuditEvent.action).order_by(AuditEvent.seq)]
    assert actions == [
        "catalog.imported",
        "catalog.published",
        "catalog.imported",
        "catalog.imported",
        "catalog.published",
    ]


async def test_published_catalog_is_what_assessments_open_on(catalogs, actors) -> None:
    await catalogs.ensure_baseline()
    expected = builtin()
    row_id, catalog = await catalogs.published_catalog(expected.id, expected.version)
    assert catalog == expected
    assert row_id == (await CatalogRow.select(CatalogRow.id).first())["id"]
    draft = small_catalog()
    await catalogs.import_catalog(SYSTEM, draft, publish=False)
    with pytest.raises(NotFound):
        await catalogs.published_catalog(draft.id, draft.version)
    await catalogs.import_catalog(SYSTEM, small_catalog("2.0.0"), publish=True)
    admin = await actors.regulator("regulator_admin")
    assert (await admin.post("/api/v1/catalogs/test-catalog/2.0.0/retire")).status_code == 200
    with pytest.raises(Conflict) as retired:
        await catalogs.published_catalog("test-catalog", "2.0.0")
    assert retired.value.detail == (
        "catalog test-catalog version 2.0.0 is retired; file new assessments on a published version"
    )
    with pytest.raises(NotFound):
        await catalogs.published_catalog("no-such-catalog", "1.0.0")


async def test_import_route_for_regulator_admins(actors, anon) -> None:
    catalog = small_catalog()
    body = controls.encode_catalog(catalog)
    provider, _ = await actors.provider()
    reviewer = await actors.regulator("reviewer")
    assert (await anon.post("/api/v1/catalogs", content=body)).status_code == 401
    assert (await provider.post("/api/v1/catalogs", content=body)).status_code == 403
    assert (await reviewer.post("/api/v1/catalogs", content=body)).status_code == 403
    assert await row_count() == 0
    admin = await actors.regulator("regulator_admin")
    created = await admin.post("/api/v1/catalogs", content=body)
    assert created.status_code == 201
    assert {k: created.json()[k] for k in ("id", "version", "status", "outcome", "control_count", "digest")} == {
        "id": "test-catalog",
        "version": "1.0.0",
        "status": "draft",
        "outcome": "imported",
        "control_count": len(catalog.controls),
        "digest": controls.catalog_digest(catalog),
    }
    oscal = json.dumps(controls.to_oscal(small_catalog("2.0.0"))).encode()
    from_oscal = await admin.post("/api/v1/catalogs", content=oscal, params={"format": "oscal", "publish": "true"})
    assert from_oscal.status_code == 201
    assert (from_oscal.json()["status"], from_oscal.json()["digest"]) == (
        "published",
        controls.catalog_digest(small_catalog("2.0.0")),
    )
    broken = json.loads(body)
    del broken["controls"][1]["statement"]
    refused = await admin.post("/api/v1/catalogs", content=json.dumps(broken).encode())
    assert refused.status_code == 422
    assert refused.json()["detail"] == "$.controls[1].statement: missing required field"
    assert refused.json()["field"] == "$.controls[1].statement"
    too_large = await admin.post("/api/v1/catalogs", content=b" " * (1_048_576 + 1))
    assert too_large.status_code == 413
    assert await row_count() == 2


# --- diff ---------------------------------------------------------------------------------------------


async def test_diff_names_exactly_the_controls_added_removed_and_changed(catalogs, anon) -> None:
    first = small_catalog()
    second, added, removed, changed = second_version(first)
    await catalogs.import_catalog(SYSTEM, first, publish=True)
    await catalogs.import_catalog(SYSTEM, second, publish=True)
    response = await anon.get("/api/v1/catalogs/test-catalog/1.1.0/diff", params={"against": "1.0.0"})
    assert response.status_code == 200
    diff = response.json()
    assert (diff["old_version"], diff["new_version"]) == ("1.0.0", "1.1.0")
    assert [c["id"] for c in diff["added"]] == [added]
    assert [c["id"] for c in diff["removed"]] == [removed]
    assert [c["id"] for c in diff["changed"]] == [changed]
    assert diff["changed"][0]["changes"] == [{"field": "title", "old": first.control(changed).title, "new": "Retitled"}]
    assert diff["families_added"] == diff["families_removed"] == diff["families_changed"] == []
    missing = await anon.get("/api/v1/catalogs/test-catalog/1.1.0/diff")
    assert missing.status_code == 400

    page = await anon.get("/catalogs/test-catalog/1.1.0/diff", params={"against": "1.0.0"})
    assert page.status_code == 200
    assert f'<a href="/catalogs/test-catalog/1.1.0#{added}"><code class="control-id">{added}</code></a>' in page.text
    assert (
        f'<a href="/catalogs/test-catalog/1.0.0#{removed}"><code class="control-id">{removed}</code></a>' in page.text
    )
    assert f'<article class="control" id="{changed}">' in page.text
    chooser = await anon.get("/catalogs/test-catalog/1.1.0/diff")
    assert chooser.status_code == 200 and '<option value="1.0.0">1.0.0 (published)</option>' in chooser.text


# --- pages --------------------------------------------------------------------------------------------


async def test_catalog_pages_list_browse_search_and_filter(catalogs, anon) -> None:
    await catalogs.ensure_baseline()
    expected = builtin()
    url = f"/catalogs/{expected.id}/{expected.version}"
    listing = await anon.get("/catalogs")
    assert listing.status_code == 200
    assert f'<a href="{url}"><strong><bdi>{expected.title}</bdi></strong></a>' in listing.text
    assert '<a href="/catalogs" aria-current="page">Catalogs</a>' in listing.text

    page = await anon.get(url)
    assert page.status_code == 200
    assert articles(page.text) == [c.id for c in expected.controls]
    assert f'href="/api/v1/catalogs/{expected.id}/{expected.version}?format=oscal"' in page.text
    assert f"{len(expected.controls)} controls." in page.text
    assert "<script" not in page.text and "style=" not in page.text

    def hits(word: str) -> list[str]:
        return [
            c.id for c in expected.controls if word in " ".join((c.id, c.title, c.statement, c.guidance)).casefold()
        ]

    consent = hits("consent")
    assert 0 < len(consent) < len(expected.controls)
    searched = await anon.get(url, params={"q": "Consent"})
    assert articles(searched.text) == consent
    assert f"Showing {len(consent)} of {len(expected.controls)} controls." in searched.text
    # Several words must all match; an id finds its control (and any control that cites it).
    wanted = expected.controls[3].id
    by_id = await anon.get(url, params={"q": f"{wanted} {expected.controls[3].title.split()[0]}"})
    assert wanted in articles(by_id.text)
    assert articles(by_id.text) == [
        i for i in hits(wanted.casefold()) if i in hits(expected.controls[3].title.split()[0].casefold())
    ]

    privacy = await anon.get(url, params={"pillar": "privacy"})
    assert articles(privacy.text) == [c.id for c in expected.controls if c.pillar == "privacy"]
    devices = await anon.get(url, params={"category": "device_manufacturer", "pillar": "security"})
    assert articles(devices.text) == [
        c.id
        for c in expected.controls
        if c.pillar == "security" and controls.ProviderCategory.device_manufacturer in c.categories
    ]
    nothing = await anon.get(url, params={"q": "no control says zzyzx"})
    assert articles(nothing.text) == [] and "No control matches these filters." in nothing.text
    unknown = await anon.get(url, params={"pillar": "safety"})
    assert unknown.status_code == 422
    assert "unknown pillar &#39;safety&#39;; one of: security, privacy" in unknown.text
    assert articles(unknown.text) == [c.id for c in expected.controls]


async def test_regulator_admin_publishes_from_the_catalog_page(catalogs, actors, anon) -> None:
    draft = small_catalog()
    await catalogs.import_catalog(SYSTEM, draft, publish=False)
    page = "/catalogs/test-catalog/1.0.0"
    admin = await actors.regulator("regulator_admin")
    shown = await admin.get(page)
    assert shown.status_code == 200
    assert f'href="{page}/publish"' in shown.text and f'action="{page}/publish"' not in shown.text  # a step first
    confirm = await admin.get(f"{page}/publish")
    assert confirm.status_code == 200 and "its controls and its digest can never change" in confirm.text
    assert f'<form method="post" action="{page}/publish" class="form">' in confirm.text
    assert (await catalogs.stored_catalog("test-catalog", "1.0.0")).summary.status == "draft"
    reviewer = await actors.regulator("reviewer")
    assert "/catalogs/test-catalog/1.0.0/publish" not in (await reviewer.get(page)).text
    refused = await reviewer.post(f"{page}/publish", headers={"accept": "text/html"})
    assert refused.status_code == 403
    assert (await anon.get(page)).status_code == 404
    published = await admin.post(f"{page}/publish", headers={"accept": "text/html"})
    assert (published.status_code, published.headers["location"]) == (303, f"{page}?notice=catalog-published")
    assert (await catalogs.stored_catalog("test-catalog", "1.0.0")).summary.status == "published"
    assert (await anon.get(page)).status_code == 200
    again = await admin.get(f"{page}/publish")
    assert again.status_code == 409 and f'action="{page}/publish"' not in again.text
    retire = await admin.get(f"{page}/retire")
    assert retire.status_code == 200 and "Retiring stops new assessments against this version" in retire.text
    retired = await admin.post(f"{page}/retire", headers={"accept": "text/html"})
    assert (retired.status_code, retired.headers["location"]) == (303, f"{page}?notice=catalog-retired")
    assert (await catalogs.stored_catalog("test-catalog", "1.0.0")).summary.status == "retired"
    assert f"{page}/retire" not in (await admin.get(page)).text


# --- command line -------------------------------------------------------------------------------------


def run_portal(settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": settings.database_url,
        "PORTAL_DATA_DIR": str(settings.data_dir),
        "PORTAL_SECRET_KEY": settings.secret_key,
        "PORTAL_ENV": "test",
    }
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "portal"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def oscal_control_ids(document: dict[str, Any]) -> list[str]:
    """Every control and enhancement id in an OSCAL catalog, counted without the controls library."""

    def walk_controls(items: list[dict[str, Any]]) -> list[str]:
        found = []
        for item in items:
            withdrawn = any(p["name"] == "status" and p["value"] == "withdrawn" for p in item.get("props", []))
            if not withdrawn:
                found.append(item["id"])
                found.extend(walk_controls(item.get("controls", [])))
        return found

    def walk_groups(groups: list[dict[str, Any]]) -> list[str]:
        found = []
        for group in groups:
            found.extend(walk_controls(group.get("controls", [])))
            found.extend(walk_groups(group.get("groups", [])))
        return found

    catalog = document["catalog"]
    return walk_groups(catalog.get("groups", [])) + walk_controls(catalog.get("controls", []))


async def test_cli_imports_the_nist_privacy_baseline(settings, anon) -> None:
    if not PRIVACY_BASELINE.exists():
        pytest.skip(f"the shared NIST samples are not here: {PRIVACY_BASELINE} (needs ../shared next to the repo)")
    raw = json.loads(PRIVACY_BASELINE.read_bytes())
    ids = oscal_control_ids(raw)
    done = run_portal(settings, "catalogs", "import", str(PRIVACY_BASELINE), "--format", "oscal", "--publish", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["control_count"] == len(ids)
    assert (result["status"], result["outcome"]) == ("published", "imported")
    served = await anon.get(f"/api/v1/catalogs/{result['id']}/{result['version']}")
    assert served.status_code == 200
    assert served.json()["digest"] == result["digest"]
    assert sorted(c["id"] for c in served.json()["controls"]) == sorted(ids)
    # The version has a "+" (5.1.1+u4): the browser follows the list page's link to the catalog page.
    listing = await anon.get("/catalogs")
    [link] = re.findall(r'<a href="(/catalogs/[^"]+)"><strong>', listing.text)
    page = await anon.get(link)
    assert page.status_code == 200
    assert sorted(articles(page.text)) == sorted(ids)
    again = run_portal(settings, "catalogs", "import", str(PRIVACY_BASELINE), "--format", "oscal", "--publish")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == (
        f"{result['id']}@{result['version']} is already stored with this content (published); nothing changed"
    )


async def test_cli_refuses_a_malformed_file_and_writes_nothing(catalogs, settings, tmp_path: Path) -> None:
    await catalogs.ensure_baseline()
    before = await row_count()
    document = json.loads(controls.encode_catalog(small_catalog()))
    del document["controls"][2]["statement"]
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps(document))
    done = run_portal(settings, "catalogs", "import", str(partial), "--publish", "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == f"{partial}: $.controls[2].statement: missing required field"
    truncated = tmp_path / "truncated.json"
    truncated.write_bytes(PRIVACY_BASELINE.read_bytes()[:5000] if PRIVACY_BASELINE.exists() else b'{"catalog": {')
    broken = run_portal(settings, "catalogs", "import", str(truncated), "--format", "oscal")
    assert broken.returncode == 2
    assert broken.stderr.startswith(f"{truncated}: $: invalid JSON: ")
    oscal = tmp_path / "small-oscal.json"
    oscal.write_text(json.dumps(controls.to_oscal(small_catalog())))
    long_id = "a-catalog-id-" + "x" * 60
    too_long = run_portal(settings, "catalogs", "import", str(oscal), "--format", "oscal", "--id", long_id)
    assert too_long.returncode == 2
    assert too_long.stderr.strip() == (
        f"{oscal}: $.id: catalog id '{long_id}' is longer than 64 characters (choose one with --id or --version)"
    )
    assert await row_count() == before


async def test_cli_exports_and_migrate_publishes_the_baseline(settings) -> None:
    expected = builtin()
    migrated = run_portal(settings, "migrate", "--json")
    assert migrated.returncode == 0, migrated.stderr
    report = json.loads(migrated.stdout)
    assert (report["baseline"]["outcome"], report["baseline"]["status"]) == ("imported", "published")
    assert report["baseline"]["digest"] == controls.catalog_digest(expected)
    native = run_portal(settings, "catalogs", "export", expected.id, expected.version)
    assert native.returncode == 0, native.stderr
    assert native.stdout.encode() == controls.encode_catalog(expected)
    oscal = run_portal(settings, "catalogs", "export", expected.id, expected.version, "--format", "oscal")
    assert json.loads(oscal.stdout) == json.loads(json.dumps(controls.to_oscal(expected)))
    missing = run_portal(settings, "catalogs", "export", expected.id, "9.9.9")
    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        f"error: catalog '{expected.id}' has no version '9.9.9'; its versions are: {expected.version}"
    )
