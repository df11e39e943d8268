"""Journeys through the served demo portal in a real browser. They run before test_browser_pages.py, which then audits
the pages in the states they leave behind."""

from __future__ import annotations

import json
from typing import Any

import pyotp

from tests.browser.audit import audit
from tests.browser.conftest import EDITOR, PROVIDER_ADMIN, REGULATOR_ADMIN, REVIEWER, SIGNER, Portal, Sessions
from tests.conftest import mailed_link

DRAFT = "5G standalone core (draft)"


def test_a_refused_registration_keeps_what_was_typed(sessions: Sessions) -> None:
    page = sessions.page(None, "/register?lang=en")
    typed = {
        "#name": "Example Cloud",
        "#legal_name": "Example Cloud W.L.L.",
        "#country": "BH",
        "#registration_number": "CR-10442",  # Gulf Telecom's, in the same country: already registered
        "#website": "https://cloud.example",
        "#contact_email": "security@cloud.example",
        "#display_name": "Example Admin",
        "#email": "new.admin@cloud.example",
        "#password": "a long unusual passphrase",
    }
    for selector, value in typed.items():
        page.fill(selector, value)
    page.click("form.form button[type=submit]")
    page.wait_for_selector(".errors")
    assert page.url.endswith("/register")
    for selector, value in typed.items():
        expected = "" if selector == "#password" else value  # a password is never sent back
        assert page.input_value(selector) == expected, selector
    assert audit(page) == []
    page.close()


def test_an_editor_uploads_evidence_and_sees_the_progress_bar(sessions: Sessions) -> None:
    page = sessions.page(EDITOR, "/assessments?lang=en")
    page.get_by_role("link", name=DRAFT, exact=True).click()
    page.wait_for_selector("form.upload")
    assert page.is_hidden("form.upload .upload-progress")
    # The page reloads when the upload is done: the progress bar's first showing is kept in sessionStorage.
    page.evaluate(
        """() => {
          const bar = document.querySelector('form.upload .upload-progress');
          new MutationObserver(() => { if (!bar.hidden) sessionStorage.setItem('progress-shown', 'yes'); })
            .observe(bar, {attributes: true, attributeFilter: ['hidden']});
        }"""
    )
    body = b"Gulf Telecom 5G core hardening baseline, approved 2026-02-01.\n" * 4000
    page.set_input_files(
        "#evidence-file", files=[{"name": "5g-hardening.txt", "mimeType": "text/plain", "buffer": body}]
    )
    with page.expect_navigation():
        page.click("form.upload button[type=submit]")
    assert page.evaluate("() => sessionStorage.getItem('progress-shown')") == "yes"
    assert page.locator("td a:text-is('5g-hardening.txt')").count() == 1  # the page test_browser_pages.py audits
    page.close()


def test_a_refused_upload_says_why_in_arabic(sessions: Sessions) -> None:
    page = sessions.page(EDITOR, "/assessments?lang=ar")
    page.get_by_role("link", name=DRAFT, exact=True).click()
    page.wait_for_selector("form.upload")
    page.set_input_files("#evidence-file", files=[{"name": "empty.txt", "mimeType": "text/plain", "buffer": b""}])
    page.click("form.upload button[type=submit]")
    page.wait_for_function("() => document.querySelector('form.upload .upload-status').textContent.startsWith('رُفض')")
    said = page.text_content("form.upload .upload-status")
    assert said == "رُفض: لم يُقبل الملف: إما أنه فارغ أو ليس ملف PDF أو PNG أو JPEG أو نصًا عاديًا أو CSV أو JSON"
    page.close()


def test_withdraw_asks_first_and_cancel_changes_nothing(sessions: Sessions) -> None:
    page = sessions.page(PROVIDER_ADMIN, "/assessments?lang=en")
    page.get_by_role("link", name=DRAFT, exact=True).click()
    detail = page.url
    page.click("a.button:text-is('Withdraw…')")
    assert page.url == detail + "/withdraw"
    assert page.text_content("p.notice").startswith("Withdrawing ends this assessment for good")
    assert audit(page) == []
    page.click("form.form a:text-is('Cancel')")
    assert page.url == detail
    assert page.text_content("span.badge.draft") == "draft"
    page.close()


def test_the_regulator_admin_names_then_verifies_an_organisation_in_arabic(sessions: Sessions) -> None:
    page = sessions.page(REGULATOR_ADMIN, "/regulator/organisations?status=pending&lang=ar")
    row = page.locator("tr", has_text="Nimbus Cloud")
    row.locator("input[name=name_ar]").fill("نيمبس كلاود")
    row.locator("form.stack button").click()
    page.wait_for_load_state()
    row = page.locator("tr", has_text="Nimbus Cloud")
    assert row.locator("bdi[lang=ar]").text_content() == "نيمبس كلاود"
    assert audit(page) == []
    # Verifying is one decision that cannot be undone here: the button opens a page that says so first.
    row.locator("a.button[href$='/verify']").click()
    assert page.text_content("h1") == "توثيق Nimbus Cloud؟"
    assert "لا يمكن التراجع عنه" in page.text_content("p.notice")
    assert audit(page) == []
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("tr", has_text="Nimbus Cloud").count() == 0  # no longer pending
    page.goto("/regulator/organisations?status=verified&lang=ar")
    assert page.locator("tr", has_text="Nimbus Cloud").locator("span.badge.verified").count() == 1
    page.close()


def test_the_signer_suspends_and_reinstates_after_confirming(sessions: Sessions) -> None:
    page = sessions.page(SIGNER)
    serial = next(item["serial"] for item in page.request.get("/api/v1/registry").json()["items"])
    page.goto(f"/attestations/{serial}?lang=en")
    suspend = page.locator(f"form[action='/attestations/{serial}/suspend']")
    suspend.locator("textarea[name=reason]").fill("The provider reported a breach of its core network.")
    suspend.locator("button[type=submit]").click()
    # The box is required: the browser does not send the form until it is ticked.
    assert page.url.endswith(f"/attestations/{serial}?lang=en")
    suspend.locator("input[name=confirm]").check()
    suspend.locator("button[type=submit]").click()
    page.wait_for_url(f"**/attestations/{serial}?notice=attestation-suspend")
    assert page.text_content("p.notice[role=status]") == "The attestation is suspended."
    public = page.request.get(f"/api/v1/attestations/{serial}/status").json()
    assert public["status"] == "suspended"
    assert audit(page) == []
    reinstate = page.locator(f"form[action='/attestations/{serial}/reinstate']")
    reinstate.locator("textarea[name=reason]").fill("The breach is contained and re-tested.")
    reinstate.locator("input[name=confirm]").check()
    reinstate.locator("button[type=submit]").click()
    page.wait_for_url(f"**/attestations/{serial}?notice=attestation-reinstate")
    assert page.request.get(f"/api/v1/attestations/{serial}/status").json()["status"] == "active"
    page.close()


def test_the_reviewer_claims_a_filing_and_a_finding_error_keeps_the_choice(sessions: Sessions) -> None:
    page = sessions.page(REVIEWER, "/reviews?lang=en")
    page.get_by_role("link", name="2026 annual filing", exact=True).click()
    page.click("button:text-is('Claim this review')")
    page.wait_for_url("**?notice=claimed")
    form = page.locator("form.finding-form").first
    control = form.get_attribute("action").rsplit("/", 1)[1].partition("#")[0]
    form.locator("input[value=not_satisfied]").check()
    form.locator("button[type=submit]").click()  # an open finding needs a comment: refused, choice kept
    page.wait_for_load_state()
    form = page.locator(f"form[action$='/findings/{control}#control-{control}']")
    assert form.locator("input[value=not_satisfied]").is_checked()
    assert page.url.endswith(f"/findings/{control}#control-{control}")  # back at the control, not the top
    assert form.locator("p.field-error").count() == 1  # the reason, beside the field
    assert audit(page) == []
    form.locator("textarea[name=comment]").fill("The access review record is for 2024; attach the 2025 one.")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"**?notice=finding-saved#control-{control}")
    assert page.locator(f"#control-{control} .badge.not_satisfied").count() >= 1
    page.close()


def test_an_admin_invites_and_the_invitee_joins_through_the_mailed_link(sessions: Sessions, portal: Portal) -> None:
    admin = sessions.page(PROVIDER_ADMIN, "/organisation?lang=ar")
    assert admin.get_by_role("cell", name="Noor Al-Sayed", exact=True).count() == 1  # the demo's pending one
    admin.fill("#m-name", "هدى الخياط")
    admin.fill("#m-email", "huda@gulftelecom.demo")
    with admin.expect_navigation():
        admin.click("form[action='/organisation#invite'] button[type=submit]")
    row = admin.locator("#invitations + p + .table-scroll tr", has_text="huda@gulftelecom.demo")
    assert "بانتظار القبول" in row.inner_text()
    assert "/invitations#" not in admin.content()  # the link went to Huda's address, not to this page

    link = mailed_link(portal.outbox, "huda@gulftelecom.demo", "/invitations#")
    invitee = sessions.browser.new_context(base_url=portal.base)
    page = invitee.new_page()
    page.goto(link.replace("/invitations#", "/invitations?lang=en#"))
    page.wait_for_selector("#invitation-for")  # the script posted the code from the fragment; the answer says whom
    assert "#" not in page.url
    facts = page.inner_text("#invitation-for")
    assert "huda@gulftelecom.demo" in facts and "هدى الخياط" in facts and "Provider editor" in facts
    page.fill("#password", "a long unusual passphrase for Huda")
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    assert "Your account is ready." in page.inner_text("main")
    invitee.close()

    admin.reload()
    assert admin.locator("#invitations + p + .table-scroll tr", has_text="huda@gulftelecom.demo").count() == 0
    member = admin.locator("tr[id^='member-']", has_text="huda@gulftelecom.demo")
    assert member.count() == 1  # a member now, no longer an invitation

    # Each change asks first, says what will happen, and the page then says it happened.
    member.locator("select").select_option("provider_admin")
    member.get_by_role("button", name="تغيير الدور…").click()
    admin.wait_for_selector("h1")
    assert "هدى الخياط" in admin.inner_text("h1") and "يُسجَّل خروجه" in admin.inner_text("main")
    with admin.expect_navigation():
        admin.click("main form button[type=submit]")
    member = admin.locator("tr[id^='member-']", has_text="huda@gulftelecom.demo")
    assert "مسؤول المؤسسة" in member.inner_text()
    member.get_by_role("link", name="تعطيل…").click()
    admin.wait_for_selector("main form button.danger")
    with admin.expect_navigation():
        admin.click("main form button[type=submit]")
    member = admin.locator("tr[id^='member-']", has_text="huda@gulftelecom.demo")
    assert "معطَّل" in member.inner_text()
    member.get_by_role("link", name="إعادة التفعيل…").click()
    with admin.expect_navigation():
        admin.click("main form button[type=submit]")
    member = admin.locator("tr[id^='member-']", has_text="huda@gulftelecom.demo")
    assert "نشط" in member.inner_text() and member.get_by_role("link", name="تعطيل…").count() == 1
    assert audit(admin) == []
    admin.close()


def test_the_regulator_admin_imports_publishes_and_retires_a_catalog(sessions: Sessions) -> None:
    catalog = {
        "catalog": {
            "uuid": "0b6d7c1e-7d1f-4d5e-9a43-2f0c9d3b8e21",
            "metadata": {"title": "Journey sample", "last-modified": "2026-11-01T00:00:00Z", "version": "1.0",
                         "oscal-version": "1.1.2"},
            "groups": [{"id": "js", "class": "family", "title": "Sample family", "controls": [
                {"id": "js-1", "title": "Keep a register", "parts": [
                    {"id": "js-1_smt", "name": "statement", "prose": "Keep a register of assets."}]}]}],
        }
    }  # fmt: skip
    page = sessions.page(REGULATOR_ADMIN, "/catalogs/import?lang=en")
    page.set_input_files(
        "#catalog-file",
        files=[{"name": "sample.json", "mimeType": "application/json", "buffer": json.dumps(catalog).encode()}],
    )
    with page.expect_navigation(url="**/catalogs/journey-sample/1.0**"):
        page.click("form.catalog-import button[type=submit]")
    assert "The catalog is imported as a draft." in page.inner_text("main")
    page.get_by_role("link", name="Publish this version…").click()
    assert page.inner_text("h1") == "Publish Journey sample 1.0?"
    assert "can never change" in page.inner_text("main")
    with page.expect_navigation():
        page.get_by_role("button", name="Publish this version").click()
    assert "This catalog version is published" in page.inner_text("main")
    page.get_by_role("link", name="Retire this version…").click()
    assert page.inner_text("h1") == "Retire Journey sample 1.0?"
    page.get_by_role("link", name="Cancel").click()  # cancel first: nothing changes
    assert page.get_by_role("link", name="Retire this version…").count() == 1
    page.get_by_role("link", name="Retire this version…").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Retire this version").click()
    assert "This catalog version is retired" in page.inner_text("main")
    assert page.get_by_role("link", name="Retire this version…").count() == 0
    assert audit(page) == []
    page.close()


def test_submit_lists_what_is_missing_and_offers_no_button(sessions: Sessions) -> None:
    page = sessions.page(PROVIDER_ADMIN, "/assessments?lang=en")
    page.get_by_role("link", name=DRAFT, exact=True).click()
    page.get_by_role("link", name="Review and submit").click()
    assert "The assessment cannot be submitted yet" in page.inner_text("main")
    assert page.locator("main form button[type=submit]").count() == 0
    first = page.locator(".errors li a").first
    target = first.get_attribute("href")
    assert target is not None and "#control-" in target
    first.click()
    page.wait_for_load_state()
    assert page.url.endswith(target.split("/")[-1])  # back on the assessment, at the control to answer
    page.close()


def test_the_signer_decides_a_recommendation_and_a_refusal_keeps_the_choice(sessions: Sessions) -> None:
    page = sessions.page(SIGNER, "/decisions?lang=ar")
    row = page.locator("tr", has_text="Data centre colocation 2026")  # the demo's recommended filing
    row.get_by_role("link", name="اتخذ القرار").click()
    page.wait_for_selector("main form")
    page.check("input[name=decision][value=reject]")
    page.check("input[name=confirm]")
    with page.expect_navigation():
        page.get_by_role("button", name="تسجيل القرار").click()
    assert "اذكر سبب رفض التقييم؛ فمزوّد الخدمة يقرؤه." in page.inner_text("main")  # no reason: refused
    assert page.is_checked("input[name=decision][value=reject]")  # the choice is kept
    page.check("input[name=decision][value=issue]")
    page.check("input[name=confirm]")
    with page.expect_navigation():
        page.get_by_role("button", name="تسجيل القرار").click()
    assert "صدرت الشهادة: موقّعة وعلنية من الآن." in page.inner_text("main")
    assert "/attestations/PA-" in page.url
    assert audit(page) == []
    page.close()


def test_a_provider_registers_confirms_by_mail_and_the_regulator_rejects_it(sessions: Sessions, portal: Portal) -> None:
    page = sessions.page(None, "/register?lang=en")
    for selector, value in {
        "#name": "Falcon Devices",
        "#legal_name": "Falcon Devices W.L.L.",
        "#country": "BH",
        "#registration_number": "CR-77001",
        "#website": "https://falcon.example",
        "#contact_email": "security@falcon.example",
        "#display_name": "Falcon Admin",
        "#email": "admin@falcon.demo",
        "#password": "a long unusual passphrase for Falcon",
    }.items():
        page.fill(selector, value)
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    assert page.inner_text("h1") == "Check your email"
    link = mailed_link(portal.outbox, "admin@falcon.demo", "/register/confirm#")
    applicant = sessions.browser.new_context(base_url=portal.base)
    confirm = applicant.new_page()
    confirm.goto(link.replace("/register/confirm#", "/register/confirm?lang=en#"))
    assert "#" not in confirm.url and confirm.is_hidden("#confirmation-code")  # the code came from the fragment
    with confirm.expect_navigation():
        confirm.click("form.form button[type=submit]")
    assert "/login" in confirm.url and "pending verification" in confirm.inner_text("main")
    applicant.close()
    page.close()

    regulator = sessions.page(REGULATOR_ADMIN, "/regulator/organisations?status=pending&lang=en")
    row = regulator.locator("tr", has_text="Falcon Devices")
    row.get_by_role("link", name="Reject…").click()
    assert "its members see your reason" in regulator.inner_text("main")
    regulator.fill("#reason", "The registration number does not match the commercial register.")
    with regulator.expect_navigation():
        regulator.click("main form button[type=submit]")
    assert "The organisation is rejected." in regulator.inner_text("main")
    regulator.goto("/regulator/organisations?status=rejected&lang=en")
    assert regulator.locator("tr", has_text="Falcon Devices").count() == 1
    assert audit(regulator) == []
    regulator.close()


def test_the_signer_revokes_an_attestation_after_confirming(sessions: Sessions) -> None:
    page = sessions.page(SIGNER, "/attestations?lang=en")
    # The colocation attestation the signer issued in the journey above: found through the public API.
    listed = page.request.get("/api/v1/attestations").json()
    (serial,) = [
        a["serial"]
        for a in listed
        if a["status"] == "active" and "Colocation" in page.request.get(f"/api/v1/attestations/{a['serial']}").text()
    ]
    page.get_by_role("link", name=serial, exact=True).click()
    form = page.locator("form[action$='/revoke']")
    form.locator("select[name=reason]").select_option(index=1)
    form.locator("textarea[name=detail]").fill("The provider no longer operates the data centre.")
    form.locator("input[name=confirm]").check()
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "The attestation is revoked." in page.inner_text("main")
    status = page.request.get(f"/api/v1/attestations/{serial}/status").json()
    assert status["status"] == "revoked"
    page.close()


def _enrol(context: Any, email: str, password: str) -> str:
    """Log in with a password and set up the second factor from the page's secret; returns the secret."""
    page = context.new_page()
    page.goto("/login?lang=en")
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    secret = page.inner_text("#totp-secret").strip()
    page.fill("#totp", pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    assert page.locator("form[action='/logout']").count() == 1, page.content()
    page.close()
    return secret


def test_a_regulator_invitee_enrols_and_the_admin_resets_the_lost_factor(sessions: Sessions, portal: Portal) -> None:
    admin = sessions.page(REGULATOR_ADMIN, "/organisation?lang=en")
    admin.fill("#m-name", "Analyst")
    admin.fill("#m-email", "analyst@regulator.demo")
    admin.select_option("#m-role", "reviewer")
    with admin.expect_navigation():
        admin.click("form[action='/organisation#invite'] button[type=submit]")
    link = mailed_link(portal.outbox, "analyst@regulator.demo", "/invitations#")
    analyst = sessions.browser.new_context(base_url=portal.base)
    page = analyst.new_page()
    page.goto(link.replace("/invitations#", "/invitations?lang=en#"))
    page.wait_for_selector("#password")
    password = "a long unusual passphrase for the analyst"
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    assert "you set up your second factor" in page.inner_text("main")  # no seed from the link itself
    page.close()
    first = _enrol(analyst, "analyst@regulator.demo", password)
    analyst.close()

    admin.reload()
    member = admin.locator("tr[id^='member-']", has_text="analyst@regulator.demo")
    member.get_by_role("link", name="Reset second factor…").click()
    assert "You never see its secret." in admin.inner_text("main")
    with admin.expect_navigation():
        admin.click("main form button[type=submit]")
    assert "The second factor is reset" in admin.inner_text("main")
    assert first not in admin.content()
    admin.close()

    again = sessions.browser.new_context(base_url=portal.base)
    second = _enrol(again, "analyst@regulator.demo", password)  # a new secret, set up at the next login
    assert second != first
    again.close()


def test_a_complete_filing_is_submitted_once_its_box_is_ticked(sessions: Sessions) -> None:
    page = sessions.page(PROVIDER_ADMIN, "/assessments?lang=en")
    # Answered through the API in the same session (106 controls by hand would be the journey of a week).
    csrf = {"x-csrftoken": next(c["value"] for c in page.context.cookies() if c["name"] == "portal_csrf")}
    catalogs = page.request.get("/api/v1/catalogs").json()
    catalog = next(c for c in catalogs if c["id"] == "ppa-baseline" and c["status"] == "published")
    body = {
        "catalog_id": "ppa-baseline",
        "catalog_version": catalog["version"],
        "title": "Submarine cable landing station",
        "scope": {"summary": "The Manama cable landing station", "services": ["Subsea capacity"]},
    }
    opened = page.request.post("/api/v1/assessments", data=body, headers=csrf)
    assert opened.status == 201, opened.text()
    assessment = opened.json()
    for item in assessment["controls"]:
        answer = {"status": "implemented", "narrative": f"{item['title']}: in place.", "evidence_ids": []}
        put = page.request.put(
            f"/api/v1/assessments/{assessment['id']}/answers/{item['control_id']}", data=answer, headers=csrf
        )
        assert put.status in (200, 201), put.text()
    page.goto(f"/assessments/{assessment['id']}?lang=en")
    page.get_by_role("link", name="Review and submit").click()
    button = page.get_by_role("button", name="Submit revision 1")
    assert button.count() == 1
    button.click()  # the box is not ticked: the browser refuses to send the form
    assert page.evaluate("() => document.querySelector('input[name=confirm]').validity.valueMissing") is True
    assert page.request.get(f"/api/v1/assessments/{assessment['id']}").json()["state"] == "draft"
    page.check("input[name=confirm]")
    with page.expect_navigation():
        button.click()
    assert "Submitted: this revision is frozen and its SHA-256 recorded." in page.inner_text("main")
    state = page.request.get(f"/api/v1/assessments/{assessment['id']}").json()["state"]
    assert state == "submitted"
    assert page.get_by_role("link", name="Review and submit").count() == 0  # no action that cannot succeed
    page.close()
