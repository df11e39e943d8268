"""Server-rendered pages as a person uses them: language, login with the TOTP step, registration, verification."""

from __future__ import annotations

import re

import pyotp

from portal.db.tables import Organisation
from tests.conftest import PASSWORD, confirmation_code, registration


def _csrf(page: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)


async def test_start_page_in_english_and_arabic(anon, client_factory) -> None:
    english = await anon.get("/")
    assert english.status_code == 200 and '<html lang="en" dir="ltr">' in english.text
    arabic = await anon.get("/?lang=ar")
    assert '<html lang="ar" dir="rtl">' in arabic.text
    assert "lang=ar" in arabic.headers["set-cookie"]
    assert '<html lang="ar" dir="rtl">' in (await anon.get("/login")).text  # remembered by cookie
    accept = await client_factory().get("/", headers={"accept-language": "ar-BH,ar;q=0.9"})
    assert 'dir="rtl"' in accept.text and "بوابة" in accept.text  # translated through the Babel catalog


async def test_registration_page_creates_a_pending_organisation_once_the_email_is_confirmed(anon, settings) -> None:
    form = (await anon.get("/register")).text
    body = registration()
    fields = {**body["organisation"], **body["user"], "_csrf_token": _csrf(form)}
    response = await anon.post("/register", data=fields)
    assert response.status_code == 202 and "Check your email" in response.text
    assert body["user"]["email"] in response.text and await Organisation.count() == 0
    code = confirmation_code(settings, body["user"]["email"])
    page = await anon.get("/register/confirm")
    assert page.status_code == 200 and 'data-secret-link="confirmation-code"' in page.text
    bad = await anon.post("/register/confirm", data={"code": "too-short", "_csrf_token": _csrf(page.text)})
    assert bad.status_code == 422 and "paste the whole link" in bad.text
    confirmed = await anon.post("/register/confirm", data={"code": code, "_csrf_token": _csrf(page.text)})
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/login?notice=registered"
    org = await Organisation.select().where(Organisation.name == body["organisation"]["name"]).first()
    assert org["status"] == "pending"
    used = await anon.post("/register/confirm", data={"code": code, "_csrf_token": _csrf(page.text)})
    assert used.status_code == 404 and "not valid or has expired" in used.text


async def test_registration_pages_in_arabic(anon) -> None:
    page = await anon.get("/register/confirm?lang=ar")
    assert page.status_code == 200 and 'dir="rtl"' in page.text and "تأكيد التسجيل" in page.text


async def test_registration_page_shows_field_errors_and_keeps_input(anon) -> None:
    form = (await anon.get("/register")).text
    body = registration(organisation__country="Bahrain")
    response = await anon.post("/register", data={**body["organisation"], **body["user"], "_csrf_token": _csrf(form)})
    assert response.status_code == 422
    assert "country" in response.text and body["organisation"]["name"] in response.text
    assert PASSWORD not in response.text
    assert await Organisation.count() == 0


async def test_regulator_logs_in_through_the_totp_step_and_verifies(actors, anon, client_factory) -> None:
    _, provider = await actors.provider(verified=False)
    admin = await actors.create_user("regulator_admin")
    page = await anon.get("/login")
    step = await anon.post(
        "/login",
        data={
            "email": admin["email"],
            "password": PASSWORD,
            "next": "/regulator/organisations",
            "_csrf_token": _csrf(page.text),
        },
    )
    assert step.status_code == 200 and 'name="totp"' in step.text
    assert step.headers["content-type"] == "text/html; charset=utf-8"
    assert "portal_session" not in anon.cookies  # no session before the second factor
    code = pyotp.TOTP(actors.totp_secrets[admin["email"]]).now()
    done = await anon.post(
        "/login/totp",
        data={"totp": code, "next": "/regulator/organisations", "_csrf_token": _csrf(step.text)},
    )
    assert done.status_code == 303 and done.headers["location"] == "/regulator/organisations"
    listing = await anon.get("/regulator/organisations")
    assert listing.status_code == 200 and provider["organisation_id"] in listing.text
    verified = await anon.post(
        f"/regulator/organisations/{provider['organisation_id']}/verify",
        data={"_csrf_token": _csrf(listing.text)},
    )
    assert verified.status_code == 303
    org = await Organisation.select(Organisation.status).where(Organisation.id == provider["organisation_id"]).first()
    assert org["status"] == "verified"


async def test_wrong_totp_code_keeps_the_person_on_the_code_step(actors, anon) -> None:
    admin = await actors.create_user("reviewer")
    page = await anon.get("/login")
    step = await anon.post(
        "/login", data={"email": admin["email"], "password": PASSWORD, "_csrf_token": _csrf(page.text)}
    )
    secret = actors.totp_secrets[admin["email"]]
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    response = await anon.post("/login/totp", data={"totp": wrong, "_csrf_token": _csrf(step.text)})
    assert response.status_code == 401 and "already been used" in response.text


async def test_provider_pages_show_members_and_create_a_token_once(actors) -> None:
    client, me = await actors.provider()
    page = await client.get("/organisation")
    assert page.status_code == 200 and me["email"] in page.text and "API tokens" in page.text
    created = await client.post(
        "/organisation",
        data={
            "form": "token",
            "name": "deploy",
            "role": "provider_editor",
            "expires_in_days": "30",
            "_csrf_token": _csrf(page.text),
        },
    )
    assert created.status_code == 200
    token = re.search(r"<code>(pap_[^<]+)</code>", created.text).group(1)
    again = await client.get("/organisation")
    assert token not in again.text and token[:12] in again.text


async def test_pages_ask_anonymous_visitors_to_log_in_and_refuse_wrong_roles(actors, anon) -> None:
    redirect = await anon.get("/organisation", headers={"accept": "text/html"})
    assert redirect.status_code == 302 and redirect.headers["location"] == "/login?next=/organisation"
    provider, _ = await actors.provider()
    refused = await provider.get("/regulator/organisations", headers={"accept": "text/html"})
    assert refused.status_code == 403 and "<h1>Not allowed</h1>" in refused.text


async def test_english_pages_show_words_for_codes_and_each_value_has_one_label(actors, anon, baseline) -> None:
    client, _ = await actors.provider()
    page = await client.get("/organisation?lang=en")
    assert page.status_code == 200 and "· Provider admin</span>" in page.text and "· provider_admin<" not in page.text
    register = await anon.get("/register?lang=en")
    assert ">Telecommunications and data-transmission operator</option>" in register.text
    assert ">telecom_operator<" not in register.text
    from tests.api.test_assessments import BASELINE

    detail = await anon.get(f"/catalogs/{BASELINE.id}/{BASELINE.version}?lang=en")
    # The catalog's category filter uses the same words as the register form, in both languages.
    assert ">Telecommunications and data-transmission operator</option>" in detail.text
    arabic = await anon.get("/register?lang=ar")
    arabic_detail = await anon.get(f"/catalogs/{BASELINE.id}/{BASELINE.version}?lang=ar")
    assert (
        ">مشغّل اتصالات ونقل بيانات</option>" in arabic.text
        and ">مشغّل اتصالات ونقل بيانات</option>" in arabic_detail.text
    )
