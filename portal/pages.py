"""What every server-rendered page shares: language, navigation by role, the current user, flash notes."""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import urlencode

from litestar import MediaType, Request
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from portal import forms
from portal.errors import PortalError
from portal.i18n import LANGUAGES, choose_language, current_language, direction, gettext
from portal.security import policy
from portal.security.principal import Principal

# Notices shown after a redirect, by key (?notice=...), so no free text travels in URLs or cookies.
NOTICES = {
    "registered": (
        "Your email address is confirmed and your organisation registered, pending verification. "
        "Log in to follow its status."
    ),
    "verified": "The organisation is verified.",
    "rejected": "The organisation is rejected.",
    "renamed": "The organisation's Arabic name is saved.",
    "invited": "The invitation is mailed to the address. It is listed under Invitations until it is used.",
    "invitation-cancelled": "The invitation is withdrawn: its link no longer works.",
    "revoked": "The API token is revoked.",
    "member-deactivate": "The member is deactivated; their sessions and API tokens have ended.",
    "member-reactivate": "The member is reactivated and can log in again.",
    "member-role": "The role is changed; the member's sessions and API tokens have ended.",
    "member-reset-totp": "The second factor is reset; the member sets up a new one at their next login.",
    "logged-out": "You are logged out.",
    "catalog-imported": "The catalog is imported as a draft. Check it, then publish it.",
    "catalog-replaced": "The draft is replaced with the imported catalog.",
    "catalog-unchanged": "This catalog version is already stored with the same content: nothing changed.",
    "catalog-published": "This catalog version is published: providers can file against it, and it can never change.",
    "catalog-retired": "This catalog version is retired: new assessments use a published version.",
    "opened": "The assessment is open. Answer each control, attach evidence, then submit.",
    "saved": "The answer is saved.",
    "submitted": "Submitted: this revision is frozen and its SHA-256 recorded.",
    "withdrawn": "The assessment is withdrawn.",
    "evidence-removed": "The evidence file is removed.",
    "evidence-added": "The evidence file is added. Link it to the controls it supports, in their answers.",
    "claimed": "You have claimed this review. Record a finding on each control.",
    "released": "The review is back in the queue.",
    "assigned": "The review is assigned.",
    "finding-saved": "The finding is saved.",
    "commented": "Your comment is posted.",
    "changes-requested": "The assessment is back with the provider, with its open findings.",
    "recommended": "Your recommendation is recorded; a signing officer decides on it.",
    "issued": "The attestation is issued: signed, and public from now on.",
    "rejected-assessment": "The assessment is rejected; the provider sees your reason.",
    "attestation-suspend": "The attestation is suspended.",
    "attestation-reinstate": "The attestation is reinstated.",
    "attestation-revoke": "The attestation is revoked.",
    "attestation-condition": "The condition is marked met.",
}


def navigation(user: Principal | None, path: str) -> list[dict[str, Any]]:
    items: list[tuple[str, str]] = [
        ("/", gettext("Home")),
        ("/registry", gettext("Registry")),
        ("/catalogs", gettext("Catalogs")),
    ]
    if user is not None:
        items.append(("/inbox", gettext("Inbox")))
        items.append(("/assessments", gettext("Assessments")))
    if user is not None and policy.may_review_queue(user):
        items.append(("/reviews", gettext("Review queue")))
    if user is not None and policy.may_see_decisions(user):
        items.append(("/decisions", gettext("Decisions")))
    if user is not None:
        items.append(("/attestations", gettext("Attestations")))
    if user is not None and policy.may_prepare_assessments(user):
        items.append(("/organisation", gettext("My organisation")))
    if user is not None and policy.may_list_organisations(user):
        items.append(("/regulator/organisations", gettext("Organisations")))
        items.append(("/organisation", gettext("Regulator team")))
    if user is None:
        items.append(("/register", gettext("Register")))
    return [{"href": href, "label": label, "current": path == href} for href, label in items]


def language_href(request: Request[Any, Any, Any], language: str) -> str:
    """The other language's link for this page, keeping its query (a registry search stays shareable)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("lang", "notice")]
    return "?" + urlencode([*kept, ("lang", "ar" if language == "en" else "en")])


async def set_language(request: Request[Any, Any, Any]) -> None:
    """Before-request hook: pick the page language for this request (pages only: the API speaks JSON)."""
    if request.scope["path"].startswith("/api/"):
        return
    current_language.set(
        choose_language(
            request.query_params.get("lang"),
            request.cookies.get("lang"),
            request.headers.get("accept-language"),
        )
    )


def render(request: Request[Any, Any, Any], template: str, *, status_code: int = 200, **context: Any) -> Template:
    language = current_language.get()
    user = request.scope.get("user")
    cookies = []
    if request.query_params.get("lang") in LANGUAGES:
        cookies.append(Cookie(key="lang", value=language, max_age=31536000, samesite="lax", httponly=True))
    notice = NOTICES.get(request.query_params.get("notice", ""))
    flash = gettext(notice) if notice else None
    base = {
        "lang": language,
        "dir": direction(language),
        "user": user,
        "nav": navigation(user, str(request.scope.get("path", ""))),
        "flash": flash,
        "errors": [],
        "lang_href": language_href(request, language),
    }
    return Template(
        template, context={**base, **context}, status_code=status_code, cookies=cookies, media_type=MediaType.HTML
    )


T = TypeVar("T")


def parse_form(schema: type[T], data: dict[str, Any]) -> tuple[T | None, list[dict[str, str]]]:
    """Validate a posted form with the same msgspec schema the API uses; each error is its field's message."""
    return forms.parse(schema, data)


def form_errors(exc: PortalError) -> list[dict[str, str]]:
    """A service's refusal as the error list every page template shows, in the page's language."""
    return forms.refused(exc)


def see_other(path: str, **kwargs: Any) -> Redirect:
    """After a successful POST: 303, so reloading the next page repeats a GET, never the change."""
    return Redirect(path=path, status_code=303, **kwargs)


def safe_next(target: object) -> str:
    """Only same-site paths are followed after login (no open redirect); anything but one string is "/"."""
    if isinstance(target, str) and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"
