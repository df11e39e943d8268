"""Browser tests: Debian's chromium, driven by Playwright, against one real `portal serve` seeded by `portal demo`.

One served portal, one browser and one login per demo account for the whole session: each test opens a page
in the account's own browser context (its cookies), so nobody logs in twice. Without chromium the tests are
skipped with a message saying how to get it; in CI (CI=true, where .ci/run installs it) they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from portal.settings import Settings, load_settings
from tests.conftest import TEST_SECRET
from tests.served import PORTAL, Served, portal_env

CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM") or shutil.which("chromium")
MISSING = (
    "the browser tests need Debian's chromium (apt-get install -y chromium); "
    "set PORTAL_TEST_CHROMIUM to use another Chromium binary"
)
PROVIDER_ADMIN = "admin@gulftelecom.demo"
EDITOR = "editor@gulftelecom.demo"
PENDING_ADMIN = "admin@nimbus.demo"
REVIEWER = "reviewer@regulator.demo"
SIGNER = "signer@regulator.demo"
REGULATOR_ADMIN = "admin@regulator.demo"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM or os.environ.get("CI"):
        return
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.skip(reason=MISSING))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not CHROMIUM and not os.environ.get("CI"):
        terminalreporter.write_line(f"Browser tests skipped: {MISSING}.", yellow=True)


class Portal:
    """The served portal, its demo accounts and the TOTP secrets `portal demo` printed."""

    def __init__(self, served: Served, accounts: list[dict[str, Any]], env: dict[str, str]) -> None:
        self.served = served
        self.base = served.base
        self.password = str(accounts[0]["password"])
        self.totp = {a["email"]: a["totp_secret"] for a in accounts if a.get("totp_secret")}
        self.env = env
        self.outbox = Path(env["PORTAL_DATA_DIR"]) / "outbox"  # the mail the served portal sent

    def url(self, path: str) -> str:
        return self.base + path

    def cli(self, *args: str) -> Any:
        done = subprocess.run(
            [PORTAL, *args, "--json"], capture_output=True, text=True, env=self.env, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@pytest.fixture(scope="session")
def portal() -> Iterator[Portal]:
    if not CHROMIUM:
        pytest.fail(MISSING)  # only reached in CI: elsewhere the tests were marked skipped
    tmp = Path(tempfile.mkdtemp(prefix="portal-browser-"))
    settings: Settings = load_settings(
        {
            "PORTAL_ENV": "test",
            "PORTAL_DATA_DIR": str(tmp),
            "PORTAL_DATABASE_URL": f"sqlite:///{tmp / 'portal.sqlite3'}",
            "PORTAL_SECRET_KEY": TEST_SECRET,
        }
    )
    env = portal_env(settings)
    served_env = {"PORTAL_ENV": "test"}
    for step in (["migrate"], ["demo"]):
        done = subprocess.run([PORTAL, *step, "--json"], capture_output=True, text=True, env=env, check=False)
        assert done.returncode == 0, done.stderr
    demo = json.loads(done.stdout)
    served = Served(settings, **served_env)
    try:
        yield Portal(served, demo["accounts"], {**env, "PORTAL_ISSUER": served.base})
    finally:
        served.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def browser(portal: Portal) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


class Sessions:
    """One browser context per account, logged in through the login page (and its TOTP step) on first use."""

    def __init__(self, browser: Any, portal: Portal) -> None:
        self.browser = browser
        self.portal = portal
        self.contexts: dict[str, Any] = {}

    def context(self, email: str | None) -> Any:
        key = email or ""
        if key not in self.contexts:
            context = self.browser.new_context(base_url=self.portal.base, viewport={"width": 1366, "height": 900})
            context.set_default_timeout(10_000)
            self.contexts[key] = context
            if email:
                self._log_in(context, email)
        return self.contexts[key]

    def page(self, email: str | None = None, path: str | None = None) -> Any:
        page = self.context(email).new_page()
        if path is not None:
            response = page.goto(path)
            assert response is not None and response.status == 200, (path, response and response.status)
        return page

    def _log_in(self, context: Any, email: str) -> None:
        page = context.new_page()
        page.goto("/login?lang=en")
        page.fill("#email", email)
        page.fill("#password", self.portal.password)
        page.click("form.form button[type=submit]")
        if email in self.portal.totp:
            page.fill("#totp", pyotp.TOTP(self.portal.totp[email]).now())
            page.click("form.form button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("form[action='/logout']").count() == 1, page.content()
        page.close()


@pytest.fixture(scope="session")
def sessions(browser: Any, portal: Portal) -> Iterator[Sessions]:
    manager = Sessions(browser, portal)
    yield manager
    for context in manager.contexts.values():
        context.close()
