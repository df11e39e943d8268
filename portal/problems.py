"""The one place errors become responses: RFC 9457 problem details for the API, an HTML page for people."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import MediaType, Request, Response
from litestar.background_tasks import BackgroundTask
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from portal.domain.audit.services import record
from portal.domain.context import Caller
from portal.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    PortalError,
    PreconditionRequired,
    RequestTimeout,
    TooManyRequests,
    TotpEnrolmentRequired,
    TotpRequired,
    UnsupportedMediaType,
)
from portal.i18n import choose_language, current_language, gettext, say
from portal.pages import render
from portal.security.hosts import INVALID_HOST
from portal.security.redact import loggable_path

log = logging.getLogger("portal.errors")
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "/problems/"  # relative URI references (RFC 9457 section 3.1.1), documented in the README

STATUS: dict[type[PortalError], int] = {
    BadRequest: 400,  # before its base class: the first match wins
    InvalidInput: 422,
    NotAuthenticated: 401,
    TotpRequired: 401,
    TotpEnrolmentRequired: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    PreconditionRequired: 428,
    UnsupportedMediaType: 415,
    TooManyRequests: 429,
    RequestTimeout: 408,
}


def _status_by_kind(exc: PortalError) -> int:
    return 500 if exc.kind == "internal-error" else 400


def status_of(exc: PortalError) -> int:
    """The HTTP status of a domain error: the API's problem documents and the pages use the same one."""
    return next((code for kind, code in STATUS.items() if isinstance(exc, kind)), _status_by_kind(exc))


def caller_of(request: Request[Any, Any, Any]) -> Caller:
    user = request.scope.get("user")
    return Caller(principal=user, client=request.client.host if request.client else "")


def _path(request: Request[Any, Any, Any]) -> str:
    # The scope's path, never request.url: building the URL parses the Host header, which may be the very
    # thing that is wrong (a handler that raises leaves a bare 500 without the security headers).
    return str(request.scope.get("path", ""))


def _is_api(request: Request[Any, Any, Any]) -> bool:
    return _path(request).startswith(("/api/", "/.well-known/"))


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    if _is_api(request):
        return False
    return "text/html" in request.headers.get("accept", "")


def _problem(
    request: Request[Any, Any, Any],
    status: int,
    kind: str,
    title: str,
    detail: str,
    extra: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    if _wants_html(request):
        if status == 401 and request.method == "GET":
            return Redirect(path=f"/login?next={_path(request)}")
        # A path no route matches never reached the before-request hook: choose the page's language here too.
        current_language.set(
            choose_language(
                request.query_params.get("lang"), request.cookies.get("lang"), request.headers.get("accept-language")
            )
        )
        page = render(
            request, "error.html", status_code=status, status=status, title=gettext(title), detail=say(detail)
        )
        if headers:
            page.headers.update(headers)
        return page
    # A page's own request (an upload script's) hears it in the page's language; the API, in English.
    detail = str(detail) if _is_api(request) else say(detail)
    body: dict[str, Any] = {
        "type": TYPE_BASE + kind,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": _path(request),
    }
    body.update((name, value) for name, value in extra.items() if name not in body)  # the members above are fixed

    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _denied(request: Request[Any, Any, Any], response: Response[Any], detail: str) -> Response[Any]:
    """Every refusal is an audit event, written once the response has gone (handlers here are synchronous)."""
    response.background = BackgroundTask(
        record,
        caller_of(request),
        "permission.denied",
        outcome="denied",
        object_type="route",
        object_id=f"{request.method} {loggable_path(_path(request))}"[:100],
        after={"detail": detail},
    )
    return response


def portal_error(request: Request[Any, Any, Any], exc: PortalError) -> Response[Any]:
    status = status_of(exc)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
    if isinstance(exc, TotpEnrolmentRequired):
        headers = {"Cache-Control": "no-store"}  # it carries a new seed, for this response only
    response = _problem(request, status, exc.kind, exc.title, exc.words, exc.extra, headers)
    return _denied(request, response, exc.detail) if status == 403 else response


def _validation_errors(exc: ValidationException) -> list[dict[str, str]]:
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            field = str(item.get("key") or "").removeprefix("data")
            message = str(item.get("message", ""))
            named = re.search(r"(?:missing required|unknown) field `([^`]+)`", message)
            if named:  # msgspec names the missing or extra member in the message, not in the path
                field = f"{field}.{named.group(1)}"
            errors.append({"field": field.lstrip("."), "message": message})
    return errors


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= HTTP_500_INTERNAL_SERVER_ERROR:  # Litestar's own (say, a misconfiguration): its text stays here
        return unexpected_error(request, exc)
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc)
        detail = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors) or exc.detail
        return _problem(request, 400, "invalid-input", "The request is not valid", detail, {"errors": errors})
    if isinstance(exc, PermissionDeniedException):
        return _denied(request, _problem(request, 403, "forbidden", "Not allowed", exc.detail, {}), exc.detail)
    if isinstance(exc, NotAuthorizedException):
        return _problem(request, 401, "not-authenticated", "Authentication required", exc.detail, {})
    if status == 400 and exc.detail == INVALID_HOST:  # Litestar's router and portal.security.hosts
        # Never a page: an HTML page would be built for a host the portal does not serve.
        detail = (
            "The portal does not serve this host name. Set PORTAL_ISSUER to the portal's public URL, "
            "or list the host (with its port) in PORTAL_ALLOWED_HOSTS."
        )
        body = {"type": TYPE_BASE + "invalid-host", "title": INVALID_HOST, "status": 400, "detail": detail}
        return Response({**body, "instance": _path(request)}, status_code=400, media_type=PROBLEM_JSON)
    if status >= 500:  # Litestar's own 5xx details can name files and internals: log them, say nothing
        log.error("%s %s answered %s: %s", request.method, request.url.path, status, exc.detail)
        return _problem(request, status, "internal-error", "Internal error", "something went wrong on our side", {})
    kind = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(status, "http-error")
    return _problem(request, status, kind, exc.detail if status != 404 else "Not found", exc.detail, {}, exc.headers)


def too_deep(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    # msgspec raises RecursionError for absurdly nested JSON before any handler runs.
    return _problem(request, 400, "invalid-input", "The request is not valid", "the body is nested too deeply", {})


def unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # Logged with its traceback for operators; the client gets a plain problem, never the traceback.
    log.exception("unhandled error on %s %s", request.method, loggable_path(_path(request)))
    return _problem(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal-error",
        "Internal error",
        "something went wrong on our side; it has been logged",
        {},
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    PortalError: portal_error,
    HTTPException: http_error,
    RecursionError: too_deep,
    Exception: unexpected_error,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "MediaType", "caller_of"]
