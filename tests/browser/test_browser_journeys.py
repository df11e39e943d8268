"""Journeys through the served demo portal in a real browser. They run before test_browser_pages.py, which then audits
the pages in the states they leave behind."""

from __future__ import annotations

from tests.browser.audit import audit
from tests.browser.conftest import EDITOR, Sessions

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
    page.click(f"a:text-is('{DRAFT}')")
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
