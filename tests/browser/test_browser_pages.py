"""Every page each demo account can reach, in English and Arabic: it answers 200, passes axe-core's WCAG 2.x
A/AA rules with no violation, and does not scroll sideways at 1,366 or 390 px.

The pages are found by following the links each account is shown, starting from the start page, so a page
added later is audited as soon as something links to it. This runs after the journeys (test_browser_journeys.py),
so it also sees the states they leave behind.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.browser.audit import audit, with_language
from tests.browser.conftest import EDITOR, PENDING_ADMIN, PROVIDER_ADMIN, REGULATOR_ADMIN, REVIEWER, SIGNER, Sessions

# Not pages of the portal's own: the API (JSON, downloads), static files, the machine-readable well-known files
# and log tiles, and the API docs (third-party markup, checked on its own in test_browser_schema.py).
NOT_PAGES = ("/api/", "/static/", "/.well-known/", "/log/", "/schema", "/healthz", "/registry/feed.atom")
START = {
    None: ["/", "/login", "/register", "/invitations"],
    PROVIDER_ADMIN: ["/"],
    EDITOR: ["/"],
    PENDING_ADMIN: ["/"],
    REVIEWER: ["/"],
    SIGNER: ["/"],
    REGULATOR_ADMIN: ["/"],
}


def page_links(page: Any, base: str) -> list[str]:
    found = []
    for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != base or parts.path.startswith(NOT_PAGES):
            continue
        query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("lang="))
        found.append(urlunsplit(("", "", parts.path, query, "")))
    return found


def crawl(sessions: Sessions, email: str | None, audited: set[str]) -> list[str]:
    """Audit every page reachable from the start pages; a page whose content another account already had
    audited (the same address and the same main content: a catalog, say) is audited once."""
    page = sessions.page(email)
    queue, seen, problems = list(START[email]), set(START[email]), []
    while queue:
        path = queue.pop(0)
        for language in ("en", "ar"):
            response = page.goto(with_language(path, language))
            status = response.status if response else None
            if status != 200:
                problems.append(f"{language} {path}: answered {status}")
                break
            if response is not None and "text/html" not in response.headers.get("content-type", ""):
                break  # a document that is not a page (a feed, a download): nothing to audit
            if language == "en":
                content = path + page.evaluate(MAIN_CONTENT)
                if content in audited:
                    break
                audited.add(content)
            problems += [f"{language} {path}: {problem}" for problem in audit(page)]
        for link in page_links(page, sessions.portal.base):
            if link not in seen:
                seen.add(link)
                queue.append(link)
    page.goto(with_language("/", "en"))
    page.close()
    return problems


# The main content without attribute values that change on every load (CSRF tokens) or per account.
MAIN_CONTENT = "() => document.querySelector('main').innerHTML.replace(/value=\"[^\"]*\"/g, '')"


@pytest.fixture(scope="module")
def audited() -> set[str]:
    return set()


@pytest.mark.parametrize(
    "email", list(START), ids=["public", "provider-admin", "editor", "pending-admin", "reviewer", "signer", "reg-admin"]
)
def test_every_page_is_accessible_and_fits(sessions: Sessions, audited: set[str], email: str | None) -> None:
    problems = crawl(sessions, email, audited)
    assert problems == [], "\n".join(problems)


def test_a_missing_page_is_accessible_and_fits(sessions: Sessions) -> None:
    page = sessions.page(None)
    for language in ("en", "ar"):
        response = page.goto(with_language("/no/such/page", language))
        assert response is not None and response.status == 404
        assert audit(page) == []
    page.close()
