"""Account pages: log in (with the TOTP step for regulators), register, my organisation, invitations."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import jwt
from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from controls.models import ProviderCategory
from portal.deps import CallerDep, RuntimeDep
from portal.domain.accounts import repo, services
from portal.domain.accounts.controllers import session_cookie
from portal.domain.accounts.schemas import NewApiToken, NewMember, Registration
from portal.domain.context import Caller
from portal.domain.organisations.services import get_organisation
from portal.errors import NotAuthenticated, PortalError, TooManyRequests, TotpRequired
from portal.pages import form_errors, parse_form, render, safe_next
from portal.security.auth import requires_login
from portal.security.permissions import PROVIDER_ROLES, Role, assignable_roles, requires_totp

Form = URLEncodedBody[dict[str, Any]]
MFA_COOKIE = "portal_mfa"
MFA_MINUTES = 5


class AccountPages(Controller):
    include_in_schema = False

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any], next: FromQuery[str] = "/") -> Template | Redirect:
        if request.user is not None:
            return Redirect(path=safe_next(next))
        return render(request, "login.html", next=safe_next(next), email="")

    @post("/login")
    async def login(self, request: Request[Any, Any, Any], runtime: RuntimeDep, caller: CallerDep, data: Form) -> Any:
        email, target = str(data.get("email", "")), safe_next(data.get("next"))
        try:
            row = await services.authenticate(runtime, caller, email, str(data.get("password", "")))
        except (NotAuthenticated, TooManyRequests) as exc:
            status = 429 if isinstance(exc, TooManyRequests) else 401
            return render(request, "login.html", status_code=status, next=target, email=email, errors=form_errors(exc))
        if requires_totp(row["role"]):
            # Password accepted; a short-lived signed cookie carries the account to the one-time-code step.
            step = jwt.encode(
                {"sub": row["email"], "exp": dt.datetime.now(dt.UTC) + dt.timedelta(minutes=MFA_MINUTES)},
                runtime.mfa_secret,
                algorithm="HS256",
            )
            page = render(request, "login_totp.html", next=target)
            page.cookies.append(
                Cookie(
                    key=MFA_COOKIE,
                    value=step,
                    httponly=True,
                    samesite="strict",
                    secure=runtime.settings.production,
                    max_age=MFA_MINUTES * 60,
                    path="/login",
                )
            )
            return page
        return await self._open(runtime, caller, row, target)

    @post("/login/totp")
    async def login_totp(
        self, request: Request[Any, Any, Any], runtime: RuntimeDep, caller: CallerDep, data: Form
    ) -> Any:
        target = safe_next(data.get("next"))
        try:
            claims = jwt.decode(
                request.cookies.get(MFA_COOKIE, ""),
                runtime.mfa_secret,
                algorithms=["HS256"],
                options={"require": ["exp", "sub"]},
            )
        except jwt.PyJWTError:
            return render(
                request,
                "login.html",
                status_code=401,
                next=target,
                email="",
                errors=[{"field": "", "message": "The login step expired. Enter your password again."}],
            )
        row = await repo.user_by_email(claims["sub"])
        if row is None or not row["is_active"]:
            return Redirect(path="/login")
        try:
            await services.second_factor(runtime, caller, row, str(data.get("totp", "")) or None)
        except (NotAuthenticated, TotpRequired, TooManyRequests) as exc:
            status = 429 if isinstance(exc, TooManyRequests) else 401
            return render(request, "login_totp.html", status_code=status, next=target, errors=form_errors(exc))
        return await self._open(runtime, caller, row, target)

    async def _open(self, runtime: RuntimeDep, caller: CallerDep, row: dict[str, Any], target: str) -> Redirect:
        session_id, expires_at = await services.open_session(runtime, caller, row)
        _, cookie = session_cookie(runtime, row, session_id, expires_at)
        clear = Cookie(key=MFA_COOKIE, value="", max_age=0, path="/login")
        return Redirect(path=target, cookies=[cookie, clear])

    @post("/logout", guards=[requires_login])
    async def logout(self, runtime: RuntimeDep, caller: CallerDep) -> Redirect:
        await services.logout(caller)
        redirect = Redirect(path="/?notice=logged-out")
        redirect.delete_cookie(runtime.session_auth.key)
        return redirect

    @get("/register")
    async def register_form(self, request: Request[Any, Any, Any]) -> Template:
        return render(request, "register.html", form={}, categories=_categories())

    @post("/register")
    async def register(
        self, request: Request[Any, Any, Any], runtime: RuntimeDep, caller: CallerDep, data: Form
    ) -> Any:
        user_fields = {"email", "password", "display_name"}
        body = {
            "organisation": {k: v for k, v in data.items() if k not in user_fields and k != "_csrf_token"},
            "user": {k: v for k, v in data.items() if k in user_fields},
        }
        registration, errors = parse_form(Registration, body)
        if registration is not None:
            try:
                await services.register(runtime, caller, registration)
                return Redirect(path="/login?notice=registered")
            except PortalError as exc:
                errors = form_errors(exc)
        form = {k: v for k, v in data.items() if k != "password"}
        return render(request, "register.html", status_code=422, form=form, categories=_categories(), errors=errors)

    @get("/invitations/{secret:str}")
    async def invitation_form(self, request: Request[Any, Any, Any]) -> Template:
        return render(request, "invitation.html")

    @post("/invitations/{secret:str}")
    async def accept_invitation(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDep,
        caller: CallerDep,
        secret: FromPath[str],
        data: Form,
    ) -> Template:
        try:
            _, seed = await services.accept_invitation(runtime, caller, secret, str(data.get("password", "")))
        except PortalError as exc:
            return render(
                request,
                "invitation.html",
                status_code=422 if exc.kind == "invalid-input" else 404,
                errors=form_errors(exc),
            )
        return render(request, "invitation.html", done=True, totp_secret=seed)


def _categories() -> list[tuple[str, str]]:
    return [(c.value, c.value) for c in ProviderCategory]


class OrganisationPages(Controller):
    path = "/organisation"
    include_in_schema = False
    guards = [requires_login]

    @get("/")
    async def show(self, request: Request[Any, Any, Any], caller: CallerDep) -> Template:
        return await _organisation_page(request, caller)

    @post("/members")
    async def invite(self, request: Request[Any, Any, Any], runtime: RuntimeDep, caller: CallerDep, data: Form) -> Any:
        member, errors = parse_form(NewMember, {k: v for k, v in data.items() if k != "_csrf_token"})
        if member is not None:
            try:
                created = await services.invite_member(runtime, caller, caller.actor.organisation_id, member)
                secret = {
                    "title": f"Invitation link for {created.user.email}",
                    "value": created.invitation_url,
                }
                return await _organisation_page(request, caller, created_secret=secret)
            except PortalError as exc:
                errors = form_errors(exc)
        return await _organisation_page(request, caller, errors=errors, status_code=422)

    @post("/api-tokens")
    async def create_token(self, request: Request[Any, Any, Any], caller: CallerDep, data: Form) -> Any:
        wanted, errors = parse_form(NewApiToken, {k: v for k, v in data.items() if k != "_csrf_token"})
        if wanted is not None:
            try:
                token = await services.create_api_token(caller, caller.actor.organisation_id, wanted)
                secret = {"title": f"API token “{token.name}”", "value": token.token}
                return await _organisation_page(request, caller, created_secret=secret)
            except PortalError as exc:
                errors = form_errors(exc)
        return await _organisation_page(request, caller, errors=errors, status_code=422)

    @post("/api-tokens/{token_id:uuid}/revoke")
    async def revoke_token(self, caller: CallerDep, token_id: FromPath[uuid.UUID]) -> Redirect:
        await services.revoke_api_token(caller, caller.actor.organisation_id, token_id)
        return Redirect(path="/organisation?notice=revoked")


async def _organisation_page(
    request: Request[Any, Any, Any], caller: Caller, status_code: int = 200, **context: Any
) -> Template:
    principal = caller.actor
    org_id = principal.organisation_id
    manage = principal.role in (Role.PROVIDER_ADMIN, Role.REGULATOR_ADMIN)
    show_tokens = principal.role == Role.PROVIDER_ADMIN
    return render(
        request,
        "organisation.html",
        status_code=status_code,
        org=await get_organisation(caller, org_id),
        members=await services.list_members(caller, org_id),
        tokens=await services.list_api_tokens(caller, org_id) if show_tokens else [],
        can_manage=manage,
        show_tokens=show_tokens and principal.role in PROVIDER_ROLES,
        assignable=sorted(assignable_roles(principal)),
        **context,
    )
