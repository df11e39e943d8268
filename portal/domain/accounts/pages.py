"""Account pages: log in (with the TOTP step for regulators), register, my organisation, invitations."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from controls.models import ProviderCategory
from portal.deps import Accounts, CallerDep, Organisations, RuntimeDep
from portal.domain.accounts.controllers import NO_STORE, session_cookie
from portal.domain.accounts.repo import UserRecord
from portal.domain.accounts.schemas import Login, NewApiToken, NewMember, Registration
from portal.domain.accounts.services import LOGIN_STEP_MINUTES, AccountService
from portal.domain.context import Caller
from portal.domain.organisations.services import OrganisationService
from portal.errors import NotAuthenticated, PortalError, TooManyRequests, TotpRequired
from portal.pages import form_errors, parse_form, render, safe_next
from portal.problems import status_of
from portal.security import policy
from portal.security.auth import requires_login
from portal.security.principal import requires_totp

Form = URLEncodedBody[dict[str, Any]]
MFA_COOKIE = "portal_mfa"


class AccountPages(Controller):
    include_in_schema = False

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any], next: FromQuery[str] = "/") -> Template | Redirect:
        if request.user is not None:
            return Redirect(path=safe_next(next))
        return render(request, "login.html", next=safe_next(next), email="")

    @post("/login", cache_control=NO_STORE)
    async def login(
        self, request: Request[Any, Any, Any], runtime: RuntimeDep, accounts: Accounts, caller: CallerDep, data: Form
    ) -> Any:
        email, target = str(data.get("email", "")), safe_next(data.get("next"))
        # The API's schema, so a page login refuses what the API refuses (NUL, over-long values) before any query.
        credentials, errors = parse_form(Login, {"email": email, "password": str(data.get("password", ""))})
        if credentials is None:
            return render(request, "login.html", status_code=422, next=target, email="", errors=errors)
        try:
            row = await accounts.authenticate(caller, credentials.email, credentials.password)
        except (NotAuthenticated, TooManyRequests) as exc:
            return render(
                request, "login.html", status_code=status_of(exc), next=target, email=email, errors=form_errors(exc)
            )
        if requires_totp(row.role):
            # Password accepted; the browser holds only the random id of a server-side, single-use step.
            step_id = await accounts.start_second_factor(row)
            page = render(request, "login_totp.html", next=target)
            page.cookies.append(
                Cookie(
                    key=MFA_COOKIE,
                    value=step_id,
                    httponly=True,
                    samesite="strict",
                    secure=runtime.settings.production,
                    max_age=LOGIN_STEP_MINUTES * 60,
                    path="/login",
                )
            )
            return page
        return await self._open(runtime, accounts, caller, row, target)

    @post("/login/totp", cache_control=NO_STORE)
    async def login_totp(
        self, request: Request[Any, Any, Any], runtime: RuntimeDep, accounts: Accounts, caller: CallerDep, data: Form
    ) -> Any:
        target = safe_next(data.get("next"))
        try:
            row = await accounts.finish_second_factor(
                caller, request.cookies.get(MFA_COOKIE, ""), str(data.get("totp", "")) or None
            )
        except (NotAuthenticated, TotpRequired, TooManyRequests) as exc:
            if not isinstance(exc, TooManyRequests) and exc.extra.get("field") != "totp":  # the step is gone
                return render(
                    request, "login.html", status_code=status_of(exc), next=target, email="", errors=form_errors(exc)
                )
            return render(request, "login_totp.html", status_code=status_of(exc), next=target, errors=form_errors(exc))
        return await self._open(runtime, accounts, caller, row, target)

    async def _open(
        self, runtime: RuntimeDep, accounts: AccountService, caller: CallerDep, row: UserRecord, target: str
    ) -> Redirect:
        session_id, expires_at = await accounts.open_session(caller, row)
        _, cookie = session_cookie(runtime, row, session_id, expires_at)
        clear = Cookie(key=MFA_COOKIE, value="", max_age=0, path="/login")
        return Redirect(path=target, cookies=[cookie, clear])

    @post("/logout", guards=[requires_login])
    async def logout(self, runtime: RuntimeDep, accounts: Accounts, caller: CallerDep) -> Redirect:
        await accounts.logout(caller)
        redirect = Redirect(path="/?notice=logged-out")
        redirect.delete_cookie(runtime.session_auth.key)
        return redirect

    @get("/register")
    async def register_form(self, request: Request[Any, Any, Any]) -> Template:
        return render(request, "register.html", form={}, categories=_categories())

    @post("/register")
    async def register(self, request: Request[Any, Any, Any], accounts: Accounts, caller: CallerDep, data: Form) -> Any:
        user_fields = {"email", "password", "display_name"}
        body = {
            "organisation": {k: v for k, v in data.items() if k not in user_fields and k != "_csrf_token"},
            "user": {k: v for k, v in data.items() if k in user_fields},
        }
        registration, errors = parse_form(Registration, body)
        if registration is not None:
            try:
                await accounts.register(caller, registration)
                return Redirect(path="/login?notice=registered")
            except PortalError as exc:
                errors, status = form_errors(exc), status_of(exc)
        else:
            status = 422
        form = {k: v for k, v in data.items() if k != "password"}
        return render(request, "register.html", status_code=status, form=form, categories=_categories(), errors=errors)

    @get("/invitations/{secret:str}", cache_control=NO_STORE)
    async def invitation_form(self, request: Request[Any, Any, Any]) -> Template:
        return render(request, "invitation.html")

    @post("/invitations/{secret:str}", cache_control=NO_STORE)
    async def accept_invitation(
        self,
        request: Request[Any, Any, Any],
        accounts: Accounts,
        caller: CallerDep,
        secret: FromPath[str],
        data: Form,
    ) -> Template:
        try:
            _, seed = await accounts.accept_invitation(caller, secret, str(data.get("password", "")))
        except PortalError as exc:
            return render(request, "invitation.html", status_code=status_of(exc), errors=form_errors(exc))
        return render(request, "invitation.html", done=True, totp_secret=seed)


def _categories() -> list[tuple[str, str]]:
    return [(c.value, c.value) for c in ProviderCategory]


class OrganisationPages(Controller):
    path = "/organisation"
    include_in_schema = False
    guards = [requires_login]

    @get("/")
    async def show(
        self, request: Request[Any, Any, Any], accounts: Accounts, organisations: Organisations, caller: CallerDep
    ) -> Template:
        return await _organisation_page(accounts, organisations, request, caller)

    @post("/members")
    async def invite(
        self,
        request: Request[Any, Any, Any],
        accounts: Accounts,
        organisations: Organisations,
        caller: CallerDep,
        data: Form,
    ) -> Any:
        member, errors = parse_form(NewMember, {k: v for k, v in data.items() if k != "_csrf_token"})
        status = 422
        if member is not None:
            try:
                created = await accounts.invite_member(caller, caller.actor.organisation_id, member)
                secret = {
                    "title": f"Invitation link for {created.user.email}",
                    "value": created.invitation_url,
                }
                return await _organisation_page(accounts, organisations, request, caller, created_secret=secret)
            except PortalError as exc:
                errors, status = form_errors(exc), status_of(exc)
        return await _organisation_page(accounts, organisations, request, caller, errors=errors, status_code=status)

    @post("/api-tokens")
    async def create_token(
        self,
        request: Request[Any, Any, Any],
        accounts: Accounts,
        organisations: Organisations,
        caller: CallerDep,
        data: Form,
    ) -> Any:
        wanted, errors = parse_form(NewApiToken, {k: v for k, v in data.items() if k != "_csrf_token"})
        status = 422
        if wanted is not None:
            try:
                token = await accounts.create_api_token(caller, caller.actor.organisation_id, wanted)
                secret = {"title": f"API token “{token.name}”", "value": token.token}
                return await _organisation_page(accounts, organisations, request, caller, created_secret=secret)
            except PortalError as exc:
                errors, status = form_errors(exc), status_of(exc)
        return await _organisation_page(accounts, organisations, request, caller, errors=errors, status_code=status)

    @post("/api-tokens/{token_id:uuid}/revoke")
    async def revoke_token(self, accounts: Accounts, caller: CallerDep, token_id: FromPath[uuid.UUID]) -> Redirect:
        await accounts.revoke_api_token(caller, caller.actor.organisation_id, token_id)
        return Redirect(path="/organisation?notice=revoked")


async def _organisation_page(
    accounts: AccountService,
    organisations: OrganisationService,
    request: Request[Any, Any, Any],
    caller: Caller,
    status_code: int = 200,
    **context: Any,
) -> Template:
    principal = caller.actor
    org_id = principal.organisation_id
    show_tokens = bool(policy.may_manage_api_tokens(principal, org_id))
    return render(
        request,
        "organisation.html",
        status_code=status_code,
        org=await organisations.get_organisation(caller, org_id),
        members=await accounts.list_members(caller, org_id),
        tokens=await accounts.list_api_tokens(caller, org_id) if show_tokens else [],
        can_manage=bool(policy.may_manage_members(principal, org_id)),
        show_tokens=show_tokens,
        assignable=sorted(policy.assignable_roles(principal)),
        **context,
    )
