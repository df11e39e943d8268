"""Site-wide pages and files: the API docs' assets come from the portal itself, and the favicon exists."""

from __future__ import annotations

import re


async def test_the_api_docs_load_only_scripts_the_csp_allows(anon) -> None:
    page = await anon.get("/schema")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page.text, flags=re.S)
    assert [body.strip() for _, body in scripts] == ["", ""]  # no inline script: the CSP would refuse it
    sources = [re.search(r'src="([^"]+)"', attributes).group(1) for attributes, _ in scripts]
    assert sources == ["/static/swagger-ui/swagger-ui-bundle.js", "/static/api-docs/start.js"]
    for path in [*sources, "/static/swagger-ui/swagger-ui.css", "/static/swagger-ui/LICENSE"]:
        asset = await anon.get(path)
        assert asset.status_code == 200, path
    assert "SwaggerUIBundle" in (await anon.get(sources[0])).text
    assert "https://" not in page.text


async def test_the_favicon_is_served(anon) -> None:
    icon = await anon.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # the ICO signature


def test_development_serves_on_any_port_it_is_given(settings) -> None:
    import subprocess
    import time

    import httpx

    from tests.served import PORTAL, free_port, portal_env

    port = free_port()
    env = portal_env(settings, PORTAL_ENV="development", PORTAL_ISSUER="http://127.0.0.1:8000")
    process = subprocess.Popen(
        [PORTAL, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        answer = None
        for _ in range(300):  # bounded: at most 30 s for the server to come up
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert answer is not None and answer.status_code == 200, answer and answer.text
        assert httpx.get(f"http://localhost:{port}/healthz", timeout=5).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_portal_help_lists_verify() -> None:
    import subprocess

    from tests.served import PORTAL

    done = subprocess.run([PORTAL, "--help"], capture_output=True, text=True, check=True)
    assert "verify              verify an attestation token or certificate PDF offline" in done.stdout


async def test_a_missing_page_is_in_the_language_chosen(anon) -> None:
    await anon.get("/?lang=ar")  # remembered in the lang cookie
    page = await anon.get("/no/such/page", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert '<html lang="ar" dir="rtl">' in page.text


async def test_security_txt_takes_its_contact_and_policy_from_settings(anon, app) -> None:
    settings = app.state.settings
    text = (await anon.get("/.well-known/security.txt")).text
    assert "Contact: http://testserver/security\n" in text and "Policy: http://testserver/security\n" in text
    assert settings.security_contact == ""  # unset in the suite: both point at the policy page, which exists
    english = await anon.get("/security")
    assert english.status_code == 200 and "<h1>Security policy</h1>" in english.text
    assert "<h1>سياسة الأمان</h1>" in (await anon.get("/security?lang=ar")).text


def test_a_set_contact_is_published(settings) -> None:
    import msgspec

    from portal.site import security_txt_lines

    configured = msgspec.structs.replace(
        settings, security_contact="mailto:cert@regulator.example", security_policy="https://regulator.example/cvd"
    )
    lines = security_txt_lines(configured)
    assert "Contact: mailto:cert@regulator.example" in lines and "Policy: https://regulator.example/cvd" in lines
