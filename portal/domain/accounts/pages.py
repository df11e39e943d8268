"""Account pages: log in (with the TOTP step for regulators), register, my organisation, invitations."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from controls.models import ProviderCategory
from portal.deps import Accounts, CallerDep, Invitations, Members, Registrations, RuntimeDep
from portal.domain.accounts.controllers import NO_STORE, session_cookie
from portal.domain.accounts.members import MemberService
from portal.domain.accounts.repo import LoginRecord, UserRecord
from portal.domain.accounts.schemas import (
    Confirmation,
    Login,
    NewApiToken,
    NewMember,
    Registration,
    RoleChange,
    UserOut,
)
from portal.domain.accounts.services import ENROLMENT_MINUTES, LOGIN_STEP_MINUTES, AccountService
from portal.domain.context import Caller
from portal.errors import InvalidInput, NotAuthenticated, NotFound, PortalError, TooManyRequests, TotpRequired
from portal.i18n import gettext
from portal.pages import form_errors, parse_form, render, safe_next, see_other
from portal.problems import status_of
from portal.runtime import Runtime
from portal.security import policy
from portal.security.auth import requires_login
from portal.security.principal import requires_totp

Form = URLEncodedBody[dict[str, Any]]
MFA_COOKIE = "portal_mfa"
ENROL_COOKIE = "portal_enrol"


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
            return render(
                request, "login.html", status_code=422, next=target, email=email.replace("\x00", ""), errors=errors
            )
        try:
            row = await accounts.authenticate(caller, credentials.email, credentials.password)
        except (NotAuthenticated, TooManyRequests) as exc:
            return render(
                request, "login.html", status_code=status_of(exc), next=target, email=email, errors=form_errors(exc)
            )
        if requires_totp(row.role) and not row.totp_secret:
            return await _enrolment_page(request, runtime, accounts, caller, row, target)
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

    @get(["/login/totp", "/login/enrol"], cache_control=NO_STORE)
    async def login_step_reloaded(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """A login step's address, reloaded or bookmarked: the step's code is posted once, so this shows the
        password form to start again (never 405)."""
        if request.user is not None:
            return Redirect(path="/")
        return render(request, "login.html", next="/", email="")

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

    @post("/login/enrol")
    async def login_enrol(
        self, request: Request[Any, Any, Any], runtime: RuntimeDep, accounts: Accounts, caller: CallerDep, data: Form
    ) -> Any:
        target = safe_next(data.get("next"))
        try:
            user = await accounts.finish_totp_enrolment(
                caller, request.cookies.get(ENROL_COOKIE, ""), str(data.get("totp", ""))
            )
        except NotAuthenticated as exc:
            if exc.extra.get("field") != "totp":  # the enrolment is gone: start again from the password
                return render(request, "login.html", status_code=401, next=target, email="", errors=form_errors(exc))
            # The seed is not shown again: it was shown once; a new password login offers a new one.
            return render(request, "login_enrol.html", status_code=401, next=target, errors=form_errors(exc))
        session_id, expires_at = await accounts.open_session(caller, user)
        _, cookie = session_cookie(runtime, user, session_id, expires_at)
        return see_other(path=target, cookies=[cookie, Cookie(key=ENROL_COOKIE, value="", max_age=0, path="/login")])

    async def _open(
        self, runtime: RuntimeDep, accounts: AccountService, caller: CallerDep, row: UserRecord, target: str
    ) -> Redirect:
        session_id, expires_at = await accounts.open_session(caller, row)
        _, cookie = session_cookie(runtime, row, session_id, expires_at)
        clear = Cookie(key=MFA_COOKIE, value="", max_age=0, path="/login")
        return see_other(path=target, cookies=[cookie, clear])

    @post("/logout", guards=[requires_login])
    async def logout(self, runtime: RuntimeDep, accounts: Accounts, caller: CallerDep) -> Redirect:
        await accounts.logout(caller)
        redirect = see_other(path="/?notice=logged-out")
        redirect.delete_cookie(runtime.session_auth.key)
        return redirect

    @get("/register")
    async def register_form(self, request: Request[Any, Any, Any]) -> Template:
        return render(request, "register.html", form={}, categories=_categories())

    @post("/register")
    async def register(
        self, request: Request[Any, Any, Any], registrations: Registrations, caller: CallerDep, data: Form
    ) -> Any:
        user_fields = {"email", "password", "display_name"}
        body = {
            "organisation": {k: v for k, v in data.items() if k not in user_fields and k != "_csrf_token"},
            "user": {k: v for k, v in data.items() if k in user_fields},
        }
        registration, errors = parse_form(Registration, body)
        if registration is not None:
            try:
                accepted = await registrations.register(caller, registration)
                return render(request, "register_sent.html", status_code=202, email=accepted.email)
            except PortalError as exc:
                errors, status = form_errors(exc), status_of(exc)
        else:
            status = 422
        form = {k: v for k, v in data.items() if k != "password"}
        return render(request, "register.html", status_code=status, form=form, categories=_categories(), errors=errors)

    @get("/register/confirm", cache_control=NO_STORE)
    async def confirm_form(self, request: Request[Any, Any, Any]) -> Template:
        # The link is /register/confirm#<secret>, kept out of logs like an invitation's (see /static/secret-link.js).
        return render(request, "register_confirm.html", code="")

    @post("/register/confirm", cache_control=NO_STORE)
    async def confirm(
        self, request: Request[Any, Any, Any], registrations: Registrations, caller: CallerDep, data: Form
    ) -> Any:
        code = str(data.get("code", "")).strip().lstrip("#")
        confirmation, errors = parse_form(Confirmation, {"code": code})
        if confirmation is None:
            errors = [{"field": "code", "message": gettext("paste the whole link or code from the email")}]
            return render(request, "register_confirm.html", status_code=422, errors=errors, code=code)
        try:
            await registrations.confirm(caller, confirmation.code)
        except PortalError as exc:
            return render(
                request, "register_confirm.html", status_code=status_of(exc), errors=form_errors(exc), code=code
            )
        return see_other(path="/login?notice=registered")

    @get("/invitations", cache_control=NO_STORE)
    async def invitation_form(self, request: Request[Any, Any, Any]) -> Template:
        # The link is /invitations#<secret>: the fragment never reaches the server (nor its access log);
        # /static/secret-link.js posts it in the form, and without JavaScript the invitee pastes it.
        return render(request, "invitation.html", invitation="", invited=None)

    @post("/invitations", cache_control=NO_STORE)
    async def accept_invitation(
        self, request: Request[Any, Any, Any], invitations: Invitations, caller: CallerDep, data: Form
    ) -> Template:
        """Two steps at one address: the code alone shows whom the invitation is for (or why the link no longer
        works, with no password form); the code with a password activates the account."""
        secret = str(data.get("invitation", "")).strip().lstrip("#")
        try:
            invited = await invitations.preview(secret)
        except PortalError as exc:
            return render(
                request,
                "invitation.html",
                status_code=status_of(exc),
                errors=form_errors(exc),
                invitation=secret,
                invited=None,
                dead=bool(secret),
            )
        if "password" not in data:
            return render(request, "invitation.html", invitation=secret, invited=invited)
        try:
            user = await invitations.accept(caller, secret, str(data.get("password", "")))
        except PortalError as exc:
            # The code stays in the form (a weak password is retried without pasting the link again).
            return render(
                request,
                "invitation.html",
                status_code=status_of(exc),
                errors=form_errors(exc),
                invitation=secret,
                invited=invited,
            )
        enrol = requires_totp(user.role) and not user.totp_enrolled
        return render(request, "invitation.html", done=True, enrol=enrol, invited=invited)


async def _enrolment_page(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    accounts: AccountService,
    caller: Caller,
    row: LoginRecord,
    target: str,
) -> Template:
    """The password was right and no second factor is set up: show a new seed once; a code from it logs in."""
    enrolment = await accounts.start_totp_enrolment(caller, row)
    page = render(request, "login_enrol.html", next=target, enrolment=enrolment)  # the route sends no-store
    page.cookies.append(
        Cookie(
            key=ENROL_COOKIE,
            value=enrolment.enrolment,
            httponly=True,
            samesite="strict",
            secure=runtime.settings.production,
            max_age=ENROLMENT_MINUTES * 60,
            path="/login",
        )
    )
    return page


def _categories() -> list[tuple[str, str]]:
    return [(c.value, c.value) for c in ProviderCategory]


class OrganisationPages(Controller):
    path = "/organisation"
    include_in_schema = False
    guards = [requires_login]

    @get("/")
    async def show(self, request: Request[Any, Any, Any], runtime: RuntimeDep, caller: CallerDep) -> Template:
        return await _organisation_page(runtime, request, caller)

    @post("/")
    async def post_form(
        self, request: Request[Any, Any, Any], runtime: RuntimeDep, caller: CallerDep, data: Form
    ) -> Any:
        """The page's two forms post to the page's own address (``form`` says which), so an error is shown
        at /organisation with what was typed, and reloading it never lands on a POST-only address."""
        fields = {k: v for k, v in data.items() if k not in {"_csrf_token", "form"}}
        kept: dict[str, Any] = {"invite": {}, "token": {}}
        errors: list[dict[str, str]] = []
        status = 422
        try:
            if data.get("form") == "invite":
                kept["invite"] = fields
                member, errors = parse_form(NewMember, fields)
                if member is not None:
                    await runtime.invitations.invite(caller, caller.actor.organisation_id, member)
                    return see_other(path="/organisation?notice=invited#invitations")
            elif data.get("form") == "token":
                kept["token"] = fields
                wanted, errors = parse_form(NewApiToken, fields)
                if wanted is not None:
                    token = await runtime.accounts.create_api_token(caller, caller.actor.organisation_id, wanted)
                    secret = {"title": gettext("API token “%(name)s”") % {"name": token.name}, "value": token.token}
                    return await _organisation_page(runtime, request, caller, created_secret=secret)
            else:
                raise NotFound("no such form")
        except PortalError as exc:
            errors, status = form_errors(exc), status_of(exc)
        return await _organisation_page(runtime, request, caller, errors=errors, status_code=status, kept=kept)

    @get("/members/{user_id:uuid}/{action:str}")
    async def confirm_member_change(
        self,
        request: Request[Any, Any, Any],
        members: Members,
        caller: CallerDep,
        user_id: FromPath[uuid.UUID],
        action: FromPath[str],
        role: FromQuery[str] = "",
    ) -> Template:
        """The confirmation step: the same checks as the change (a refusal answers with its status and reason),
        and a page that says what the change will do; nothing changes until its form is posted."""
        if action not in MEMBER_ACTIONS:
            raise NotFound("no such change")
        member = await MEMBER_ACTIONS[action](
            members, caller, caller.actor.organisation_id, user_id, {"role": role}, True
        )
        return render(request, "member_confirm.html", member=member, action=action, role=role)

    @post("/members/{user_id:uuid}/{action:str}")
    async def change_member(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDep,
        caller: CallerDep,
        user_id: FromPath[uuid.UUID],
        action: FromPath[str],
        data: Form,
    ) -> Any:
        if action not in MEMBER_ACTIONS:
            raise NotFound("no such change")
        try:
            await MEMBER_ACTIONS[action](runtime.members, caller, caller.actor.organisation_id, user_id, data, False)
        except PortalError as exc:
            return await _organisation_page(
                runtime, request, caller, errors=form_errors(exc), status_code=status_of(exc)
            )
        return see_other(path=f"/organisation?notice=member-{action}")

    @get("/invitations/{invitation_id:uuid}/cancel")
    async def cancel_reloaded(self, invitation_id: FromPath[uuid.UUID]) -> Redirect:
        """The withdraw button's address reloaded after an error is the page's invitations, never 405."""
        return see_other(path="/organisation#invitations")

    @post("/invitations/{invitation_id:uuid}/cancel")
    async def cancel_invitation(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDep,
        caller: CallerDep,
        invitation_id: FromPath[uuid.UUID],
    ) -> Any:
        try:
            await runtime.invitations.cancel(caller, caller.actor.organisation_id, invitation_id)
        except PortalError as exc:
            return await _organisation_page(
                runtime, request, caller, errors=form_errors(exc), status_code=status_of(exc)
            )
        return see_other(path="/organisation?notice=invitation-cancelled#invitations")

    @post("/api-tokens/{token_id:uuid}/revoke")
    async def revoke_token(self, accounts: Accounts, caller: CallerDep, token_id: FromPath[uuid.UUID]) -> Redirect:
        await accounts.revoke_api_token(caller, caller.actor.organisation_id, token_id)
        return see_other(path="/organisation?notice=revoked")


async def _set_role(
    members: MemberService, caller: Caller, org_id: uuid.UUID, user_id: uuid.UUID, data: dict[str, Any], dry: bool
) -> UserOut:
    change, errors = parse_form(RoleChange, {"role": data.get("role", "")})
    if change is None:
        raise InvalidInput(errors[0]["message"], field="role")
    return await members.set_role(caller, org_id, user_id, change.role, dry_run=dry)


# Each change, by the name in its page URL: (service, caller, organisation, member, form, dry run) → the member.
MemberAction = Callable[[MemberService, Caller, uuid.UUID, uuid.UUID, dict[str, Any], bool], Awaitable[UserOut]]
MEMBER_ACTIONS: dict[str, MemberAction] = {
    "deactivate": lambda members, caller, org, user, _, dry: members.deactivate(caller, org, user, dry_run=dry),
    "reactivate": lambda members, caller, org, user, _, dry: members.reactivate(caller, org, user, dry_run=dry),
    "role": _set_role,
    "reset-totp": lambda members, caller, org, user, _, dry: members.reset_second_factor(
        caller, org, user, dry_run=dry
    ),
}


async def _organisation_page(
    runtime: Runtime,
    request: Request[Any, Any, Any],
    caller: Caller,
    status_code: int = 200,
    **context: Any,
) -> Template:
    principal = caller.actor
    org_id = principal.organisation_id
    show_tokens = bool(policy.may_manage_api_tokens(principal, org_id))
    show_invitations = bool(policy.may_see_invitations(principal, org_id))
    return render(
        request,
        "organisation.html",
        status_code=status_code,
        org=await runtime.organisations.get_organisation(caller, org_id),
        members=await runtime.accounts.list_members(caller, org_id),
        invitations=await runtime.invitations.pending(caller, org_id) if show_invitations else [],
        tokens=await runtime.accounts.list_api_tokens(caller, org_id) if show_tokens else [],
        can_manage=bool(policy.may_manage_members(principal, org_id)),
        show_invitations=show_invitations,
        show_tokens=show_tokens,
        assignable=sorted(policy.assignable_roles(principal)),
        actions=await runtime.members.actions(caller, org_id),
        kept=context.pop("kept", {"invite": {}, "token": {}}),
        **context,
    )
