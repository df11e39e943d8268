"""The verify page: paste a token, upload a certificate PDF or type a serial; no script needed.

The forms post without a CSRF token: verifying changes nothing and answers everyone alike, so a forged cross-site
request gains nothing, and a visitor whose browser refuses cookies can still verify. The serial form is a GET, so
a result can be linked (the attestation page links to it).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery
from litestar.response import Template

from portal.deps import Verification
from portal.domain.verification.controllers import verdict
from portal.domain.verification.schemas import VerifyOut
from portal.domain.verification.services import VerificationService
from portal.errors import PortalError
from portal.pages import form_errors, render
from portal.problems import status_of
from portal.security.ratelimit import RateLimited


def _page(
    request: Request[Any, Any, Any],
    verification: VerificationService,
    result: VerifyOut | None = None,
    *,
    serial: str = "",
    errors: list[dict[str, str]] | None = None,
    status: int = 200,
) -> Template:
    page = render(
        request,
        "verification/verify.html",
        status_code=status,
        result=result,
        serial=serial,
        errors=errors or [],
        issuer=verification.issuer,
    )
    page.headers["Cache-Control"] = "no-store"  # a verdict carries a status: never served from a cache
    return page


class VerifyPages(Controller):
    path = "/verify"
    include_in_schema = False
    middleware = [RateLimited("verify")]

    @get("/")
    async def form(
        self, request: Request[Any, Any, Any], verification: Verification, serial: FromQuery[str] = ""
    ) -> Template:
        if not serial:
            return _page(request, verification)
        try:
            return _page(request, verification, await verification.serial(serial[:40]), serial=serial[:40])
        except PortalError as exc:
            return _page(request, verification, serial=serial[:40], errors=form_errors(exc), status=status_of(exc))

    @post("/", status_code=200, request_max_body_size=None, exclude_from_csrf=True)
    async def verify(self, request: Request[Any, Any, Any], verification: Verification) -> Template:
        try:
            return _page(request, verification, await verdict(request, verification))
        except PortalError as exc:
            return _page(request, verification, errors=form_errors(exc), status=status_of(exc))
