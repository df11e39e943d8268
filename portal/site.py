"""Site-wide routes: the start page, security.txt, and a health check for load balancers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from litestar import Controller, Request, get
from litestar.datastructures import CacheControlHeader
from litestar.response import File, Template

from portal.clock import now
from portal.deps import Assessments, CallerDep, Inbox, Organisations, SettingsDep
from portal.domain.organisations import repo as organisations_repo
from portal.pages import render
from portal.settings import Settings
from portal.start import start_context

FAVICON = Path(__file__).parent / "static" / "favicon.ico"


class SiteController(Controller):
    @get("/", include_in_schema=False)
    async def home(
        self,
        request: Request[Any, Any, Any],
        caller: CallerDep,
        assessments: Assessments,
        inbox: Inbox,
        organisations: Organisations,
    ) -> Template:
        """Everyone lands here after logging in: a start page that says what to do next; visitors get the
        portal's introduction."""
        if request.user is None:
            return render(request, "home.html")
        context = await start_context(caller, assessments=assessments, inbox=inbox, organisations=organisations)
        return render(request, "start.html", **context)

    @get("/.well-known/security.txt", media_type="text/plain", summary="Security contact (RFC 9116)")
    async def security_txt(self, settings: SettingsDep) -> str:
        return "".join(line + "\n" for line in security_txt_lines(settings))

    @get("/security", include_in_schema=False)
    async def security_policy(self, request: Request[Any, Any, Any], settings: SettingsDep) -> Template:
        return render(request, "security.html", contact=settings.security_contact)

    @get("/favicon.ico", include_in_schema=False, cache_control=CacheControlHeader(max_age=86400))
    async def favicon(self) -> File:
        return File(FAVICON, media_type="image/x-icon", content_disposition_type="inline")

    @get("/healthz", summary="Liveness and database check")
    async def health(self) -> dict[str, str]:
        await organisations_repo.any_exists()
        return {"status": "ok"}


def security_txt_lines(settings: Settings) -> list[str]:
    """PORTAL_SECURITY_CONTACT and PORTAL_SECURITY_POLICY; unset, both name the portal's /security page."""
    issuer = settings.issuer
    return [
        f"Contact: {settings.security_contact or issuer + '/security'}",
        f"Expires: {(now() + dt.timedelta(days=180)).strftime('%Y-%m-%dT00:00:00Z')}",
        "Preferred-Languages: en, ar",
        f"Canonical: {issuer}/.well-known/security.txt",
        f"Policy: {settings.security_policy or issuer + '/security'}",
    ]
