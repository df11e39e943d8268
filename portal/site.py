"""Site-wide routes: the start page, security.txt, and a health check for load balancers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from portal.clock import now
from portal.deps import Assessments, CallerDep, Inbox, Organisations, SettingsDep
from portal.domain.organisations import repo as organisations_repo
from portal.pages import render
from portal.start import start_context


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
        expires = (now() + dt.timedelta(days=180)).strftime("%Y-%m-%dT00:00:00Z")
        issuer = settings.issuer
        return (
            f"Contact: mailto:security@{issuer.split('://', 1)[-1].split(':')[0].split('/')[0]}\n"
            f"Expires: {expires}\n"
            "Preferred-Languages: en, ar\n"
            f"Canonical: {issuer}/.well-known/security.txt\n"
            f"Policy: {issuer}/schema\n"
        )

    @get("/healthz", summary="Liveness and database check")
    async def health(self) -> dict[str, str]:
        await organisations_repo.any_exists()
        return {"status": "ok"}
