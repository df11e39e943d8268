"""The API documentation at /schema renders in a real browser under the portal's Content Security Policy."""

from __future__ import annotations

from tests.browser.audit import sideways
from tests.browser.conftest import Sessions


def test_the_api_docs_render_with_the_strict_csp(sessions: Sessions) -> None:
    page = sessions.page(None)
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)
    response = page.goto("/schema")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
    assert page.inner_text(".swagger-ui .info .title").startswith("Provider Attestation Portal")
    assert page.locator(".opblock-summary-path[data-path='/api/v1/attestations/{serial}']").count() == 1
    assert refused == []
    assert sideways(page) == []
    page.close()
