"""The start page each role lands on after logging in: where they stand and what to do next (issue 14)."""

from __future__ import annotations

import re

import pyotp
import pytest

from tests.api.test_assessments import TELECOM, implemented, open_assessment
from tests.api.test_issuance import officer, recommended
from tests.api.test_reviews import submitted
from tests.conftest import PASSWORD, register, registration

pytestmark = pytest.mark.usefixtures("baseline")


def _csrf(page: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)


def _steps(page: str) -> list[str]:
    return re.findall(r'<li data-step="([a-z-]+)">', page)


async def test_a_new_provider_logs_in_to_its_start_page_not_the_introduction(anon, settings) -> None:
    body = registration()
    await register(anon, settings, body)
    page = await anon.get("/login")
    login = await anon.post(
        "/login", data={"email": body["user"]["email"], "password": PASSWORD, "_csrf_token": _csrf(page.text)}
    )
    assert login.status_code == 303 and login.headers["location"] == "/"
    start = await anon.get("/")
    assert start.status_code == 200 and "What to do next" in start.text
    assert _steps(start.text) == ["await-verification", "open-first"]
    assert body["organisation"]["name"] in start.text and 'class="badge pending"' in start.text
    assert "Register an organisation" not in start.text  # not the visitors' introduction
    arabic = await anon.get("/?lang=ar")
    assert "ما الخطوة التالية" in arabic.text


async def test_a_provider_sees_its_drafts_with_progress_and_what_is_left(actors) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client, title="Annual filing")
    saved = await client.put(f"/api/v1/assessments/{assessment['id']}/answers/{TELECOM[0]}", json=implemented())
    assert saved.status_code == 200
    start = await client.get("/")
    assert _steps(start.text) == ["answer-controls"]
    drafts = start.text.split('id="drafts"')[1].split("</section>")[0]
    assert "Annual filing" in drafts and f"1/{len(TELECOM)}" in drafts
    assert f'href="/assessments/{assessment["id"]}"' in start.text


async def test_a_reviewer_is_told_what_waits_for_a_reviewer(actors) -> None:
    _, _, aid = await submitted(actors)
    user = await actors.create_user("reviewer")
    reviewer = await actors.login(user["email"])
    start = await reviewer.get("/")
    assert _steps(start.text) == ["claim"] and "1 submission waits for a reviewer" in start.text
    assert f'href="/reviews/{aid}"' in start.text.split('id="waiting"')[1]


async def test_a_signing_officer_is_told_what_waits_for_a_decision(actors) -> None:
    _, _, aid = await recommended(actors)
    signer = await officer(actors)
    start = await signer.get("/")
    assert _steps(start.text) == ["decide"] and "1 recommendation waits for your decision." in start.text
    assert f'href="/reviews/{aid}"' in start.text


async def test_a_regulator_admin_is_told_which_organisations_wait_for_verification(actors, anon) -> None:
    _, provider = await actors.provider(verified=False)
    user = await actors.create_user("regulator_admin")
    page = await anon.get("/login")
    step = await anon.post(
        "/login", data={"email": user["email"], "password": PASSWORD, "_csrf_token": _csrf(page.text)}
    )
    code = pyotp.TOTP(actors.totp_secrets[user["email"]]).now()
    done = await anon.post("/login/totp", data={"totp": code, "_csrf_token": _csrf(step.text)})
    assert done.status_code == 303 and done.headers["location"] == "/"
    start = await anon.get("/")
    assert _steps(start.text) == ["verify"] and "1 organisation waits for verification." in start.text
    assert f'href="/regulator/organisations/{provider["organisation_id"]}/verify"' in start.text


async def test_visitors_still_get_the_introduction(anon) -> None:
    home = await anon.get("/")
    assert home.status_code == 200 and "Register an organisation" in home.text and "What to do next" not in home.text
