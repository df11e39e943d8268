"""Importing a catalog from the catalog page, withdrawn controls in assessments, and Arabic catalog pages."""

from __future__ import annotations

import json
from typing import Any

import pytest

import controls
from portal.db.tables import AuditEvent
from portal.db.tables import Catalog as CatalogRow
from tests.conftest import SHARED

LOW_BASELINE = SHARED / "data" / "oscal" / "NIST_SP-800-53_rev5_LOW-baseline-resolved-profile_catalog.json"


def nine_controls_one_withdrawn() -> dict[str, Any]:
    """An OSCAL catalog of 9 controls, the last withdrawn (as NIST marks them)."""
    kept = [
        {
            "id": f"wd-{n}",
            "title": f"Control {n}",
            "parts": [{"id": f"wd-{n}_smt", "name": "statement", "prose": f"Do thing {n}."}],
        }
        for n in range(1, 9)
    ]
    withdrawn = {
        "id": "wd-9",
        "title": "Withdrawn control",
        "props": [{"name": "status", "value": "withdrawn"}],
        "links": [{"href": "#wd-1", "rel": "incorporated-into"}],
    }
    return {
        "catalog": {
            "uuid": "6f1f9b4e-2d57-4c38-9d43-3c8f7d0a9f11",
            "metadata": {
                "title": "Withdrawn sample",
                "last-modified": "2026-01-05T00:00:00Z",
                "version": "1.0",
                "oscal-version": "1.1.2",
            },
            "groups": [{"id": "wd", "class": "family", "title": "Sample family", "controls": [*kept, withdrawn]}],
        }
    }


def upload(data: bytes, name: str = "catalog.json") -> dict[str, Any]:
    return {"file": (name, data, "application/json")}


async def test_a_regulator_admin_imports_an_oscal_file_from_the_page(actors) -> None:
    admin = await actors.regulator("regulator_admin")
    form = await admin.get("/catalogs/import")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    document = json.dumps(nine_controls_one_withdrawn()).encode()
    response = await admin.post("/catalogs/import", files=upload(document), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/catalogs/withdrawn-sample/1.0?notice=catalog-imported"
    row = await CatalogRow.select().where(CatalogRow.reference == "withdrawn-sample@1.0").first()
    assert row is not None and row["status"] == "draft" and row["control_count"] == 9
    event = await AuditEvent.select().where(AuditEvent.action == "catalog.imported").first()
    assert event is not None and event["object_id"] == "withdrawn-sample@1.0"
    page = await admin.get(response.headers["location"])
    assert page.status_code == 200 and "The catalog is imported as a draft." in page.text
    # The withdrawn control is on the page, marked, and applies to nobody.
    assert '<article class="control" id="wd-9"' in page.text
    assert '<span class="badge withdrawn">withdrawn</span>' in page.text


async def test_a_plain_form_post_with_the_token_in_the_body_works_too(actors) -> None:
    admin = await actors.regulator("regulator_admin")
    token = admin.cookies["portal_csrf"]
    document = json.dumps(nine_controls_one_withdrawn()).encode()
    response = await admin.post(
        "/catalogs/import",
        data={"_csrf_token": token},
        files=upload(document),
        headers={"x-csrftoken": ""},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/catalogs/withdrawn-sample/1.0")


@pytest.mark.parametrize("role", ["reviewer", "signing_officer"])
async def test_other_regulators_may_not_import(actors, role: str) -> None:
    client = await actors.regulator(role)
    assert (await client.get("/catalogs/import")).status_code == 403
    document = json.dumps(nine_controls_one_withdrawn()).encode()
    assert (await client.post("/catalogs/import", files=upload(document))).status_code == 403
    assert await CatalogRow.count() == 0


async def test_a_provider_may_not_import(actors) -> None:
    provider, _ = await actors.provider()
    document = json.dumps(nine_controls_one_withdrawn()).encode()
    response = await provider.post("/catalogs/import", files=upload(document))
    assert response.status_code == 403
    assert await CatalogRow.count() == 0


async def test_a_bad_file_is_refused_with_a_clear_message(actors) -> None:
    admin = await actors.regulator("regulator_admin")
    json_accept = {"accept": "application/json"}
    pdf = await admin.post("/catalogs/import", files=upload(b"%PDF-1.7 not a catalog", "c.pdf"), headers=json_accept)
    assert pdf.status_code == 422
    assert pdf.json()["detail"] == (
        "a catalog file is JSON (an OSCAL catalog, or the portal's native catalog); this file is application/pdf"
    )
    broken = nine_controls_one_withdrawn()
    del broken["catalog"]["groups"][0]["controls"][0]["title"]
    bad = await admin.post("/catalogs/import", files=upload(json.dumps(broken).encode()), headers=json_accept)
    assert bad.status_code == 422
    assert bad.json()["detail"] == (
        "not a valid OSCAL catalog: $.catalog.groups[0].controls[0]: object missing required field `title`"
    )
    # On the page itself the form comes back with the message beside it.
    page = await admin.post("/catalogs/import", files=upload(b"{not json"), headers={"accept": "text/html"})
    assert page.status_code == 422 and "the file is not valid JSON" in page.text and 'id="catalog-file"' in page.text
    assert await CatalogRow.count() == 0


async def test_a_file_over_the_upload_limit_is_413(actors, runtime, monkeypatch) -> None:
    monkeypatch.setattr(runtime.evidence, "max_upload_bytes", 1024)
    admin = await actors.regulator("regulator_admin")
    document = json.dumps(nine_controls_one_withdrawn()).encode()
    assert len(document) > 1024
    response = await admin.post("/catalogs/import", files=upload(document), headers={"accept": "application/json"})
    assert response.status_code == 413 and response.json()["type"].endswith("/too-large")
    assert await CatalogRow.count() == 0


async def test_the_nist_low_baseline_imports_from_the_page_under_its_short_id(actors) -> None:
    if not LOW_BASELINE.is_file():
        pytest.skip("../shared/data/oscal not found: the NIST OSCAL samples live outside the repo")
    admin = await actors.regulator("regulator_admin")
    response = await admin.post(
        "/catalogs/import", files=upload(LOW_BASELINE.read_bytes(), LOW_BASELINE.name), follow_redirects=False
    )
    assert response.status_code == 303
    assert (
        response.headers["location"]
        == "/catalogs/nist-sp-800-53-rev5-low-impact-baseline/5.1.1%2Bu4?notice=catalog-imported"
    )
    exported = await admin.get("/api/v1/catalogs/nist-sp-800-53-rev5-low-impact-baseline/5.1.1+u4?format=oscal")
    ac2 = next(c for g in exported.json()["catalog"]["groups"] for c in g.get("controls", []) if c["id"] == "ac-2")
    assert (len(ac2["params"]), len(ac2["links"])) == (10, 31)


async def test_a_withdrawn_control_is_never_applicable_in_an_assessment(actors, runtime) -> None:
    from portal.domain.context import SYSTEM

    catalog = controls.from_oscal(nine_controls_one_withdrawn())
    await runtime.catalogs.import_catalog(SYSTEM, catalog, publish=True)
    provider, _ = await actors.provider()
    opened = await provider.post(
        "/api/v1/assessments", json={"catalog_id": catalog.id, "catalog_version": "1.0", "scope": {"summary": "All"}}
    )
    assert opened.status_code == 201, opened.text
    assessment = opened.json()
    assert [c["control_id"] for c in assessment["controls"]] == [f"wd-{n}" for n in range(1, 9)]
    assert assessment["progress"]["applicable"] == 8
    answer = await provider.put(
        f"/api/v1/assessments/{assessment['id']}/answers/wd-9", json={"status": "implemented", "narrative": "Yes."}
    )
    assert answer.status_code == 422, answer.text
    detail = await provider.get(f"/api/v1/catalogs/{catalog.id}/1.0")
    assert [c["withdrawn"] for c in detail.json()["controls"]] == [False] * 8 + [True]


@pytest.mark.usefixtures("baseline")
async def test_arabic_pages_show_the_catalog_in_arabic(anon, actors) -> None:
    baseline = controls.baseline_catalog()
    gov01 = baseline.control("GOV-01")
    arabic = gov01.translations["ar"]
    page = await anon.get(f"/catalogs/ppa-baseline/{baseline.version}?lang=ar")
    assert page.status_code == 200 and '<html lang="ar" dir="rtl">' in page.text
    assert f"<span><bdi>{arabic.title}</bdi></span>" in page.text and arabic.statement in page.text
    assert baseline.family("GOV").translations["ar"].title in page.text
    assert gov01.statement not in page.text
    # The seed paragraph in Arabic where the seed has it; in English, marked, where it has only English.
    inc01 = baseline.control("INC-01").sources[0]
    assert f"<q>{inc01.excerpts['ar']}</q>" in page.text
    assert f'<q lang="en" dir="ltr">{gov01.sources[0].excerpt}</q>' in page.text
    english = await anon.get(f"/catalogs/ppa-baseline/{baseline.version}?lang=en")
    assert gov01.statement in english.text and arabic.statement not in english.text
    # An assessment page of the baseline in Arabic.
    provider, _ = await actors.provider()
    opened = await provider.post(
        "/api/v1/assessments",
        json={"catalog_id": "ppa-baseline", "catalog_version": baseline.version, "scope": {"summary": "All"}},
    )
    assert opened.status_code == 201
    assert opened.json()["controls"][0]["title"] == gov01.title  # the API keeps the catalog's own language
    assessment = await provider.get(f"/assessments/{opened.json()['id']}?lang=ar")
    assert (
        assessment.status_code == 200 and arabic.statement in assessment.text and gov01.statement not in assessment.text
    )


async def test_an_imported_catalog_without_arabic_is_shown_in_its_language_and_marked(anon, runtime) -> None:
    from portal.domain.context import SYSTEM

    catalog = controls.from_oscal(nine_controls_one_withdrawn())
    await runtime.catalogs.import_catalog(SYSTEM, catalog, publish=True)
    page = await anon.get(f"/catalogs/{catalog.id}/1.0?lang=ar")
    assert page.status_code == 200
    assert "هذا" in page.text or "lang-note" in page.text
    assert '<div class="statement" lang="en" dir="ltr">Do thing 1.</div>' in page.text
    assert '<p class="notice lang-note">' in page.text


async def test_the_cli_imports_the_nist_low_baseline_without_an_id(settings) -> None:
    if not LOW_BASELINE.is_file():
        pytest.skip("../shared/data/oscal not found: the NIST OSCAL samples live outside the repo")
    from tests.api.test_catalogs import run_portal

    done = run_portal(settings, "catalogs", "import", str(LOW_BASELINE), "--format", "oscal", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["id"], report["version"], report["control_count"]) == (
        "nist-sp-800-53-rev5-low-impact-baseline",
        "5.1.1+u4",
        149,
    )
