"""Forms as a person meets them (issue 14): input kept on error with a plain message beside its field, in
the page's language; 303 after success; errors at the page's own address; confirmation steps that say what
will happen and appear only when the change can succeed; one rule for a provider awaiting verification."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from markupsafe import escape

from portal.db.tables import Assessment, MemberInvitation, Organisation
from tests.api.test_assessments import BASELINE, TELECOM, answer_all, implemented, open_assessment
from tests.conftest import PASSWORD, invitation_code, registration

pytestmark = pytest.mark.usefixtures("baseline")

VALIDATOR_WORDING = ("Expected `", "user.password", "user.email", "organisation.name", "at `$")


def _csrf(page: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)


def _beside(page: str, field_id: str) -> str:
    """The message printed beside a field (empty when there is none)."""
    found = re.search(rf'<p class="field-error" id="error-{re.escape(field_id)}">([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else ""


def _role_choice(page: str) -> str:
    return re.search(r'<select id="m-role".*?</select>', page, re.S).group(0)


def _no_validator_wording(page: str) -> None:
    for words in VALIDATOR_WORDING:
        assert words not in page


async def test_register_keeps_input_and_says_what_to_enter_beside_the_field(anon) -> None:
    form = (await anon.get("/register")).text
    body = registration(user__email="not-an-address")
    fields = {**body["organisation"], **body["user"], "_csrf_token": _csrf(form)}
    response = await anon.post("/register", data=fields)
    assert response.status_code == 422 and response.url.path == "/register"
    assert _beside(response.text, "email") == "Enter an email address, such as name@example.org."
    assert 'value="not-an-address"' in response.text and body["organisation"]["legal_name"] in response.text
    assert 'value="telecom_operator" selected' in response.text
    _no_validator_wording(response.text)
    assert await Organisation.count() == 0


async def test_register_refusals_speak_the_pages_language(client_factory) -> None:
    arabic = client_factory()
    form = (await arabic.get("/register?lang=ar")).text
    body = registration(user__password="password1234")
    response = await arabic.post("/register", data={**body["organisation"], **body["user"], "_csrf_token": _csrf(form)})
    assert response.status_code == 422
    assert _beside(response.text, "password") == "كلمة المرور هذه من أكثر كلمات المرور شيوعًا."
    assert body["organisation"]["name"] in response.text and "password1234" not in response.text
    _no_validator_wording(response.text)
    bad_email = registration(user__email="x@")
    again = await arabic.post(
        "/register", data={**bad_email["organisation"], **bad_email["user"], "_csrf_token": _csrf(form)}
    )
    assert _beside(again.text, "email") == "أدخل عنوان بريد إلكتروني، مثل name@example.org."


async def test_invite_defaults_to_editor_and_keeps_name_email_and_role_on_error(actors) -> None:
    admin, _ = await actors.provider()
    page = await admin.get("/organisation")
    assert '<option value="provider_editor" selected>' in _role_choice(page.text)
    typed = {"form": "invite", "display_name": "Mona", "email": "mona@", "role": "provider_admin"}
    refused = await admin.post("/organisation", data={**typed, "_csrf_token": _csrf(page.text)})
    assert refused.status_code == 422 and refused.url.path == "/organisation"
    assert _beside(refused.text, "email") == "Enter an email address, such as name@example.org."
    assert 'value="Mona"' in refused.text and 'value="mona@"' in refused.text
    assert '<option value="provider_admin" selected>' in _role_choice(refused.text)
    assert '<option value="provider_editor" selected>' not in _role_choice(refused.text)
    _no_validator_wording(refused.text)
    invited = await admin.post(
        "/organisation", data={**typed, "email": "mona@provider.example", "_csrf_token": _csrf(page.text)}
    )
    # Back to the page (303): the link went to Mona's address, never to the admin's page.
    assert invited.status_code == 303 and invited.headers["location"] == "/organisation?notice=invited#invitations"
    shown = await admin.get("/organisation?notice=invited")
    assert "The invitation is mailed to the address." in shown.text and "/invitations#" not in shown.text
    row = shown.text.split('id="invitations"')[1].split("<tr id=")[1].split("</tr>")[0]
    assert "<bdi>mona@provider.example</bdi>" in row and "Provider admin" in row and "waiting to be accepted" in row
    assert len(invitation_code(actors.app.state.runtime.settings, "mona@provider.example")) == 43


async def test_rejecting_an_organisation_is_a_confirmed_step_that_keeps_its_reason(actors) -> None:
    _, provider = await actors.provider(verified=False)
    org_id = provider["organisation_id"]
    admin = await actors.regulator("regulator_admin")
    listing = await admin.get("/regulator/organisations")
    assert f'href="/regulator/organisations/{org_id}/reject"' in listing.text
    assert f'action="/regulator/organisations/{org_id}/reject"' not in listing.text  # no one-click reject
    confirm = await admin.get(f"/regulator/organisations/{org_id}/reject")
    assert confirm.status_code == 200 and "its members see your reason" in confirm.text
    short = await admin.post(
        f"/regulator/organisations/{org_id}/reject", data={"reason": "no", "_csrf_token": _csrf(confirm.text)}
    )
    assert short.status_code == 422 and short.url.path == f"/regulator/organisations/{org_id}/reject"
    assert ">no</textarea>" in short.text
    assert _beside(short.text, "reason") == "Give the provider a reason for the rejection (3 to 2,000 characters)."
    status = await Organisation.select(Organisation.status).where(Organisation.id == org_id).first()
    assert status["status"] == "pending"
    done = await admin.post(
        f"/regulator/organisations/{org_id}/reject",
        data={"reason": "The registration number does not exist", "_csrf_token": _csrf(confirm.text)},
    )
    assert done.status_code == 303 and done.headers["location"] == "/regulator/organisations?notice=rejected"
    again = await admin.get(f"/regulator/organisations/{org_id}/verify")
    assert again.status_code == 409 and "This organisation is already rejected." in again.text
    assert f'action="/regulator/organisations/{org_id}/verify"' not in again.text


async def test_verifying_an_organisation_is_a_confirmed_step(actors) -> None:
    _, provider = await actors.provider(verified=False)
    org_id = provider["organisation_id"]
    admin = await actors.regulator("regulator_admin")
    confirm = await admin.get(f"/regulator/organisations/{org_id}/verify")
    assert confirm.status_code == 200 and "Its members can then submit assessments" in confirm.text
    reviewer = await actors.regulator("reviewer")
    assert (await reviewer.get(f"/regulator/organisations/{org_id}/verify")).status_code == 403
    done = await admin.post(f"/regulator/organisations/{org_id}/verify", data={"_csrf_token": _csrf(confirm.text)})
    assert done.status_code == 303 and done.headers["location"] == "/regulator/organisations?notice=verified"
    status = await Organisation.select(Organisation.status).where(Organisation.id == org_id).first()
    assert status["status"] == "verified"
    assert (await admin.get(f"/regulator/organisations/{org_id}/banish")).status_code == 404


async def test_withdraw_is_confirmed_and_offered_only_while_it_can_succeed(actors) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    url = f"/assessments/{assessment['id']}"
    page = await client.get(url)
    assert f'href="{url}/withdraw"' in page.text and f'action="{url}/withdraw"' not in page.text
    confirm = await client.get(f"{url}/withdraw")
    assert confirm.status_code == 200 and "Withdrawing ends this assessment for good" in confirm.text
    done = await client.post(f"{url}/withdraw", data={"_csrf_token": _csrf(confirm.text)})
    assert done.status_code == 303 and done.headers["location"] == f"{url}?notice=withdrawn"
    assert (await Assessment.select(Assessment.state).first())["state"] == "withdrawn"
    after = await client.get(f"{url}/withdraw")
    assert after.status_code == 409 and f'action="{url}/withdraw"' not in after.text
    assert f'href="{url}/withdraw"' not in (await client.get(url)).text


async def test_a_submitted_filing_offers_no_second_submission(actors) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    await answer_all(client, assessment["id"])
    assert (await client.post(f"/api/v1/assessments/{assessment['id']}/submit")).status_code == 200
    confirm = await client.get(f"/assessments/{assessment['id']}/submit")
    assert confirm.status_code == 409
    assert "Submit revision" not in confirm.text and 'name="confirm"' not in confirm.text
    assert "only a draft or a returned assessment can be submitted" in confirm.text


async def test_a_pending_provider_prepares_but_does_not_submit_and_both_pages_say_so(actors) -> None:
    client, _ = await actors.provider(verified=False)
    rule = "You can prepare assessments now (open them, answer controls, attach evidence)"
    dashboard = await client.get("/assessments")
    assert rule in dashboard.text and 'action="/assessments#open"' in dashboard.text
    assert rule in (await client.get("/organisation")).text
    assessment = await open_assessment(client)
    await answer_all(client, assessment["id"])
    detail = await client.get(f"/assessments/{assessment['id']}")
    assert rule in detail.text and f'href="/assessments/{assessment["id"]}/submit"' not in detail.text
    confirm = await client.get(f"/assessments/{assessment['id']}/submit")
    assert confirm.status_code == 403 and rule in confirm.text and 'name="confirm"' not in confirm.text
    refused = await client.post(
        f"/assessments/{assessment['id']}/submit", data={"confirm": "yes", "_csrf_token": _csrf(confirm.text)}
    )
    assert refused.status_code == 403 and rule in refused.text
    assert (await Assessment.select(Assessment.state).first())["state"] == "draft"


async def test_an_answer_error_stays_on_the_page_at_its_control_with_the_input(actors) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    url = f"/assessments/{assessment['id']}"
    page = await client.get(url)
    control = TELECOM[1]
    assert f'action="{url}#control-{control}"' in page.text
    form = {
        "control_id": control,
        "status": "planned",
        "narrative": "Rolling out hardware keys",
        "justification": "",
        "planned_date": "",
        "version": "0",
        "_csrf_token": _csrf(page.text),
    }
    refused = await client.post(url, data=form)
    assert refused.status_code == 422 and refused.url.path == url
    assert _beside(refused.text, f"{control}-planned_date") == "a planned date is required for planned"
    assert ">Rolling out hardware keys</textarea>" in refused.text
    assert '<option value="planned" selected>' in refused.text
    assert f"{control} planned_date" not in refused.text
    _no_validator_wording(refused.text)
    arabic = await client.post(f"{url}?lang=ar", data=form)
    assert _beside(arabic.text, f"{control}-planned_date") == "التاريخ المخطط مطلوب للحالة «مخطط له»."
    # Reloading the address an error left in the bar is the page itself, never 405.
    assert (await client.get(url)).status_code == 200


async def test_a_malformed_product_line_is_refused_not_cut(actors) -> None:
    client, _ = await actors.provider()
    page = await client.get("/assessments")
    typed = "Router | R5 | 2.1\nSwitch | S1 | 3 | extra"
    response = await client.post(
        "/assessments",
        data={
            "catalog": f"{BASELINE.id}@{BASELINE.version}",
            "summary": "All mobile services",
            "products": typed,
            "_csrf_token": _csrf(page.text),
        },
    )
    assert response.status_code == 422 and response.url.path == "/assessments"
    assert _beside(response.text, "products") == (
        "Line 2 of the products is not “name | model | version”: Switch | S1 | 3 | extra"
    )
    assert f">{typed}</textarea>" in response.text and ">All mobile services</textarea>" in response.text
    assert await Assessment.count() == 0


async def test_assessment_page_shows_guidance_and_filters_without_javascript(actors) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    url = f"/assessments/{assessment['id']}"
    saved = await client.put(f"/api/v1{url}/answers/{TELECOM[0]}", json=implemented())
    assert saved.status_code == 200
    page = await client.get(url)
    first = next(c for c in BASELINE.controls if c.id == TELECOM[0])
    assert str(escape(first.guidance)) in page.text
    assert str(escape(first.evidence_expected[0])) in page.text
    assert f"{first.mappings[0].framework} {first.mappings[0].ref}" in page.text
    assert 'data-statuses="not_applicable"' in page.text
    assert 'data-statuses="partially_implemented planned"' in page.text
    unanswered = await client.get(f"{url}?show=unanswered")
    assert f'id="control-{TELECOM[0]}"' not in unanswered.text and f'id="control-{TELECOM[1]}"' in unanswered.text
    done = await client.get(f"{url}?show=implemented")
    assert f'id="control-{TELECOM[0]}"' in done.text and f'id="control-{TELECOM[1]}"' not in done.text
    none = await client.get(f"{url}?show=not_applicable")
    assert "No control matches this filter." in none.text and 'id="control-' not in none.text


async def test_the_upload_says_what_happened_in_the_pages_language(actors) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    english = await client.get(f"/assessments/{assessment['id']}")
    assert 'data-already="Already attached: %(name)s is part of this assessment; nothing was added."' in english.text
    arabic = await client.get(f"/assessments/{assessment['id']}?lang=ar")
    assert 'data-added="أُضيف: %(name)s."' in arabic.text
    # The API's refusals are English; the script says each in the page's language, by status.
    reasons = json.loads(html.unescape(re.search(r"data-reasons='([^']*)'", arabic.text).group(1)))
    assert reasons["409"].startswith("لم يعد هذا التقييم قابلًا للتعديل")
    assert reasons["other"] == "تعذّر على الخادم استلام الملف (الخطأ %(status)s)؛ حاول مجددًا"
    assert set(reasons) == {"401", "403", "404", "409", "422", "429", "other"}
    added = await client.get(f"/assessments/{assessment['id']}?notice=evidence-added&lang=en")
    assert "The evidence file is added." in added.text


async def test_no_form_address_answers_405_when_reloaded(actors, anon) -> None:
    page = await anon.get("/login")
    step = await anon.post(
        "/login", data={"email": "x@example.org", "password": PASSWORD, "_csrf_token": _csrf(page.text)}
    )
    assert step.status_code == 401
    for path in ("/login/totp", "/login/enrol"):
        again = await anon.get(path)
        assert again.status_code == 200 and 'action="/login"' in again.text and 'name="password"' in again.text


async def test_the_invitation_says_whom_it_is_for_and_a_dead_link_shows_no_password_form(actors, anon) -> None:
    admin, me = await actors.provider()
    org = await Organisation.select(Organisation.name).where(Organisation.id == me["organisation_id"]).first()
    secret = await actors.invite(admin, me["organisation_id"], "salma@provider.example", name="Salma")
    form = await anon.get("/invitations")
    assert 'name="password"' not in form.text  # the code first: the page cannot know it before it is posted
    token = _csrf(form.text)
    shown = await anon.post("/invitations", data={"invitation": secret, "_csrf_token": token})
    assert shown.status_code == 200
    facts = shown.text.split('id="invitation-for"')[1].split("</dl>")[0]
    for fact in (org["name"], "Salma", "salma@provider.example", "Provider editor"):
        assert fact in facts
    assert 'name="password"' in shown.text and f'name="invitation" value="{secret}"' in shown.text
    done = await anon.post("/invitations", data={"invitation": secret, "password": PASSWORD, "_csrf_token": token})
    assert done.status_code == 200 and "Your account is ready." in done.text
    used = await anon.post("/invitations", data={"invitation": secret, "_csrf_token": token})
    assert used.status_code == 404 and "this invitation has already been used" in used.text
    assert 'name="password"' not in used.text
    bogus = await anon.post("/invitations", data={"invitation": "not-a-real-code", "_csrf_token": token})
    assert bogus.status_code == 404 and "this invitation link is not valid" in bogus.text
    assert 'name="password"' not in bogus.text
    late = await actors.invite(admin, me["organisation_id"], "late@provider.example", name="Late")
    past = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    await MemberInvitation.update({MemberInvitation.expires_at: past}).where(MemberInvitation.accepted_at.is_null())
    expired = await anon.post(
        "/invitations?lang=ar", data={"invitation": late, "password": PASSWORD, "_csrf_token": token}
    )
    assert expired.status_code == 404 and "انتهت صلاحية هذه الدعوة" in expired.text
    assert 'name="password"' not in expired.text


async def test_every_form_address_reloaded_leads_back_to_its_page(actors, anon) -> None:
    client, _ = await actors.provider()
    assessment = await open_assessment(client)
    aid = assessment["id"]
    reviewer = await actors.regulator("reviewer")
    cases = [
        (client, f"/assessments/{aid}/comments", f"/assessments/{aid}#threads"),
        (client, f"/assessments/{aid}/evidence/{aid}/delete", f"/assessments/{aid}#evidence"),
        (reviewer, f"/reviews/{aid}/claim", f"/reviews/{aid}"),
        (reviewer, f"/reviews/{aid}/release", f"/reviews/{aid}"),
        (reviewer, f"/reviews/{aid}/findings/{TELECOM[0]}", f"/reviews/{aid}#control-{TELECOM[0]}"),
        (reviewer, f"/assessments/{aid}/comments", f"/reviews/{aid}#threads"),
        (anon, "/attestations/PA-2026-000001/suspend", "/attestations/PA-2026-000001"),
    ]
    for who, path, page in cases:
        reloaded = await who.get(path)
        assert (reloaded.status_code, reloaded.headers.get("location")) == (303, page), path
