"""A service's refusal on an Arabic page is said in Arabic — its error page title and words, a form's error,
the JSON an upload script reads — while the API keeps its English (issue #14 item 9). Refusals with values
(a serial, a status) are translated by their template, the status word too."""

from __future__ import annotations

import pytest

from portal.db.tables import Organisation
from portal.errors import Conflict, Message
from portal.i18n import current_language, say
from tests.api.test_assessments import open_assessment
from tests.api.test_forms import _csrf
from tests.conftest import registration


def test_a_message_is_english_text_that_keeps_its_template() -> None:
    words = Message(
        "attestation %(serial)s is %(status)s; it can no longer be revoked", serial="PA-1", status="revoked"
    )
    refusal = Conflict(words)
    assert refusal.detail == "attestation PA-1 is revoked; it can no longer be revoked"
    assert type(refusal.detail) is str  # what the API encodes
    token = current_language.set("ar")
    try:
        assert say(refusal.words) == "حالة الشهادة PA-1: ملغى؛ ولم يعد من الممكن إلغاؤها."
        assert say("a plain sentence no catalog knows") == "a plain sentence no catalog knows"
    finally:
        current_language.reset(token)


async def test_an_error_page_in_arabic_has_an_arabic_title_and_words(anon) -> None:
    page = await anon.get("/catalogs/nope/1.0?lang=ar", headers={"accept": "text/html"})
    assert page.status_code == 404
    main = page.text.split("<main")[1]
    assert "<h1>غير موجود</h1>" in main and "لا يوجد دليل &#39;nope&#39;." in main
    english = await anon.get("/catalogs/nope/1.0?lang=en", headers={"accept": "text/html"})
    assert "<h1>Not found</h1>" in english.text and "there is no catalog &#39;nope&#39;" in english.text
    api = await anon.get("/api/v1/catalogs/nope/1.0", headers={"accept-language": "ar"})
    assert api.status_code == 404 and api.json()["detail"] == "there is no catalog 'nope'"


async def test_a_registration_refusal_in_arabic(client_factory, actors) -> None:
    _, provider = await actors.provider()
    registered = (
        await Organisation.select(Organisation.registration_number, Organisation.country)
        .where(Organisation.id == provider["organisation_id"])
        .first()
    )
    arabic = client_factory()
    form = (await arabic.get("/register?lang=ar")).text
    again = registration(
        organisation__registration_number=registered["registration_number"],
        organisation__country=registered["country"],
    )
    refused = await arabic.post(
        "/register", data={**again["organisation"], **again["user"], "_csrf_token": _csrf(form)}
    )
    assert refused.status_code == 409
    assert "جهة بهذا الرقم في السجل التجاري مسجّلة بالفعل في هذا البلد." in refused.text
    assert "already registered in this country" not in refused.text


async def test_an_already_verified_organisation_says_its_state_in_arabic(actors) -> None:
    _, provider = await actors.provider()  # verified already
    admin = await actors.regulator("regulator_admin")
    page = await admin.get(f"/regulator/organisations/{provider['organisation_id']}/verify?lang=ar")
    again = await admin.post(
        f"/regulator/organisations/{provider['organisation_id']}/verify", data={"_csrf_token": _csrf(page.text)}
    )
    assert again.status_code == 409
    assert "حالة هذه الجهة بالفعل: موثّقة." in again.text, again.text.split("<main")[1][:800]


@pytest.mark.usefixtures("baseline")
async def test_the_catalog_import_script_hears_arabic_and_the_api_english(actors) -> None:
    admin = await actors.regulator("regulator_admin")
    await admin.get("/catalogs/import?lang=ar")
    empty = {"file": ("empty.json", b"   ", "application/json")}
    page = await admin.post("/catalogs/import", files=empty, headers={"accept": "application/json"})
    assert page.status_code == 422 and page.json()["detail"] == "الملف فارغ."
    binary = {"file": ("image.json", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "application/json")}
    typed = await admin.post("/catalogs/import", files=binary, headers={"accept": "application/json"})
    assert typed.status_code == 422 and typed.json()["detail"].startswith("ملف الدليل يكون بصيغة JSON")
    # The same refusal from the API, asked in Arabic: English.
    provider, _ = await actors.provider()
    assessment = await open_assessment(provider)
    api = await provider.post(
        f"/api/v1/assessments/{assessment['id']}/evidence",
        files={"file": ("empty.txt", b"", "text/plain")},
        headers={"accept-language": "ar"},
    )
    assert api.status_code == 422 and api.json()["detail"] == "the file is empty"


async def test_a_registry_search_refusal_in_arabic(anon) -> None:
    page = await anon.get("/registry?lang=ar&per_page=5000")
    assert page.status_code == 400
    assert "عدد النتائج في الصفحة بين 1 و100." in page.text
