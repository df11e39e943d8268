"""Every decision of who may do what to which object. Services ``require`` these; pages show buttons by them.

Each predicate answers with a :class:`Verdict`: allowed, or refused with a reason and the way to refuse —
``forbidden`` (403: you may see it but not do this), ``conceal`` (404: another organisation's object, answered
as if it did not exist, and audited) or ``conflict`` (409: allowed for you, but not in the object's state).
A verdict is truthy when allowed, so templates and pages can test it directly.
"""

from __future__ import annotations

import enum
import uuid
from typing import TYPE_CHECKING, Protocol

import msgspec

from portal.domain.assessments.states import EDITABLE, SUBMITTABLE, WITHDRAWABLE, State
from portal.errors import Conflict, Forbidden, NotFound
from portal.security.principal import (
    PROVIDER_ROLES,
    REGULATOR_ROLES,
    Actor,
    OrganisationStatus,
    Principal,
    Role,
    SystemOperator,
    requires_totp,
)

if TYPE_CHECKING:
    from portal.domain.context import Caller

EDITORS = frozenset({Role.PROVIDER_ADMIN, Role.PROVIDER_EDITOR})
ORGANISATION_ADMINS = frozenset({Role.PROVIDER_ADMIN, Role.REGULATOR_ADMIN})
# An API token acts in the lower of its own role and its creator's current one.
_TOKEN_RANK = {Role.PROVIDER_EDITOR: 1, Role.PROVIDER_ADMIN: 2}


class Refusal(enum.StrEnum):
    FORBIDDEN = "forbidden"
    CONCEAL = "conceal"
    CONFLICT = "conflict"


class Verdict(msgspec.Struct, frozen=True):
    allowed: bool
    reason: str = ""
    refusal: Refusal | None = None

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Verdict(True)


def forbid(reason: str) -> Verdict:
    return Verdict(False, reason, Refusal.FORBIDDEN)


def conceal(reason: str) -> Verdict:
    return Verdict(False, reason, Refusal.CONCEAL)


def conflict(reason: str) -> Verdict:
    return Verdict(False, reason, Refusal.CONFLICT)


class Filing(Protocol):
    """What a decision needs to know of an assessment."""

    @property
    def organisation_id(self) -> uuid.UUID: ...
    @property
    def state(self) -> str: ...
    @property
    def revision(self) -> int: ...


class Member(Protocol):
    """What a decision needs to know of an account it changes."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def organisation_id(self) -> uuid.UUID: ...
    @property
    def role(self) -> Role: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def deactivated_at(self) -> object: ...
    @property
    def joined(self) -> bool: ...
    @property
    def totp_enrolled(self) -> bool: ...


def _principal(who: Actor) -> Principal | None:
    return who if isinstance(who, Principal) else None


def has_role(who: Actor, roles: frozenset[Role] | set[Role]) -> Verdict:
    principal = _principal(who)
    if principal is None:
        return forbid("log in with an account that may do this")
    if principal.role not in roles:
        return forbid(f"this action needs one of the roles: {', '.join(sorted(roles))}")
    return ALLOW


def _member(who: Actor, organisation_id: uuid.UUID, roles: frozenset[Role] | None = None) -> Verdict:
    principal = _principal(who)
    if principal is None or principal.organisation_id != organisation_id:
        return forbid("you are not a member of this organisation")
    return has_role(who, roles) if roles else ALLOW


def _from_a_session(who: Actor, what: str) -> Verdict:
    principal = _principal(who)
    if principal is None or principal.via != "session":
        return forbid(f"{what} from a logged-in session, not with an API token")
    return ALLOW


def _all(*verdicts: Verdict) -> Verdict:
    return next((v for v in verdicts if not v.allowed), ALLOW)


# --- organisations, members, tokens ------------------------------------------------------------------------


def may_list_organisations(who: Actor) -> Verdict:
    return has_role(who, REGULATOR_ROLES)


def may_view_organisation(who: Actor, organisation_id: uuid.UUID) -> Verdict:
    principal = _principal(who)
    if principal is not None and (principal.is_regulator or principal.organisation_id == organisation_id):
        return ALLOW
    return forbid("you cannot see this organisation")


def may_decide_organisation(who: Actor) -> Verdict:
    """Verify or reject a provider's registration."""
    return has_role(who, {Role.REGULATOR_ADMIN})


def may_decide_registration(who: Actor, status: str) -> Verdict:
    """A decision on one registration: a regulator admin's, once, while it is still pending."""
    return _all(
        may_decide_organisation(who),
        ALLOW if status == OrganisationStatus.PENDING else conflict(f"this organisation is already {status}"),
    )


def may_rename_organisation(who: Actor) -> Verdict:
    """Give or correct a provider's Arabic name (the name it registered stays the provider's own)."""
    return has_role(who, {Role.REGULATOR_ADMIN})


def may_list_members(who: Actor, organisation_id: uuid.UUID) -> Verdict:
    return _member(who, organisation_id)


def assignable_roles(who: Actor) -> frozenset[Role]:
    """Roles a principal may give to a new member of its own organisation."""
    principal = _principal(who)
    if principal is not None and principal.role == Role.PROVIDER_ADMIN:
        return PROVIDER_ROLES
    if principal is not None and principal.role == Role.REGULATOR_ADMIN:
        return REGULATOR_ROLES
    return frozenset()


def may_manage_members(who: Actor, organisation_id: uuid.UUID) -> Verdict:
    return _all(
        _member(who, organisation_id, frozenset({Role.PROVIDER_ADMIN, Role.REGULATOR_ADMIN})),
        _from_a_session(who, "members are invited"),
    )


def may_see_invitations(who: Actor, organisation_id: uuid.UUID) -> Verdict:
    """The organisation's pending invitations: its admins (a provider admin's API token too)."""
    return _member(who, organisation_id, frozenset({Role.PROVIDER_ADMIN, Role.REGULATOR_ADMIN}))


def may_give_role(who: Actor, role: Role) -> Verdict:
    return ALLOW if role in assignable_roles(who) else forbid(f"you cannot give the role {role}")


def may_manage_api_tokens(who: Actor, organisation_id: uuid.UUID) -> Verdict:
    """List and revoke the organisation's tokens (a token may revoke itself)."""
    return _member(who, organisation_id, frozenset({Role.PROVIDER_ADMIN}))


def may_create_api_token(who: Actor, organisation_id: uuid.UUID) -> Verdict:
    # A token cannot mint tokens, so a leaked one cannot outlive its revocation.
    return _all(
        may_manage_api_tokens(who, organisation_id),
        _from_a_session(who, "API tokens are created"),
    )


def token_role(token: Role, creator: Role) -> Role | None:
    """The role an API token acts in: never above its creator's current role (None: the token is void)."""
    if token not in _TOKEN_RANK or creator not in _TOKEN_RANK:
        return None
    return min(token, creator, key=_TOKEN_RANK.__getitem__)


# --- member lifecycle: deactivate, reactivate, change a role, reset a second factor ----------------------------


def may_list_every_user(who: Actor) -> Verdict:
    """Every account of every organisation: the operator's command line only."""
    return ALLOW if isinstance(who, SystemOperator) else forbid("only the operator lists every account")


def may_administer_members(who: Actor, organisation_id: uuid.UUID) -> Verdict:
    """The organisation's admin, from a session (a leaked token cannot lock the owners out), or the operator."""
    if isinstance(who, SystemOperator):
        return ALLOW
    return _all(
        _member(who, organisation_id, ORGANISATION_ADMINS),
        _from_a_session(who, "members are managed"),
    )


def may_deactivate_member(who: Actor, member: Member) -> Verdict:
    return _all(
        may_administer_members(who, member.organisation_id),
        conflict("the member is already deactivated") if member.deactivated_at is not None else ALLOW,
    )


def may_reactivate_member(who: Actor, member: Member) -> Verdict:
    return _all(
        may_administer_members(who, member.organisation_id),
        conflict("the member is not deactivated") if member.deactivated_at is None else ALLOW,
        ALLOW if member.joined else conflict("the member never accepted the invitation, so there is no account"),
    )


def may_change_role(who: Actor, member: Member, role: Role) -> Verdict:
    # The operator may give any role that fits the organisation (the service checks the fit).
    give = ALLOW if isinstance(who, SystemOperator) else may_give_role(who, role)
    return _all(
        may_administer_members(who, member.organisation_id),
        give,
        conflict(f"the member already has the role {role}") if member.role == role else ALLOW,
    )


def may_reset_second_factor(who: Actor, member: Member) -> Verdict:
    """The regulator admin resets another regulator's lost second factor; providers have none."""
    principal = _principal(who)
    if isinstance(who, SystemOperator):
        admin = ALLOW
    elif principal is not None and principal.user_id == member.id:
        admin = forbid("you cannot reset your own second factor; ask another regulator admin")
    else:
        admin = _all(
            _member(who, member.organisation_id, frozenset({Role.REGULATOR_ADMIN})),
            _from_a_session(who, "second factors are reset"),
        )
    return _all(
        admin,
        ALLOW if requires_totp(member.role) else conflict("this account has no second factor"),
        ALLOW if member.totp_enrolled else conflict("no second factor is enrolled; one is set up at the next login"),
    )


def keeps_an_admin(member: Member, *, role_after: Role, active_after: bool, active_admins: int) -> Verdict:
    """Refuse a change that leaves the organisation without an active admin (``active_admins``: before it)."""
    was_admin = member.is_active and member.role in ORGANISATION_ADMINS
    stays_admin = active_after and role_after in ORGANISATION_ADMINS
    if was_admin and not stays_admin and active_admins <= 1:
        return conflict("this is the organisation's last active admin; make another member admin first")
    return ALLOW


# --- catalogs ------------------------------------------------------------------------------------------------


def may_see_catalog_drafts(who: Actor) -> bool:
    return isinstance(who, SystemOperator) or (isinstance(who, Principal) and who.is_regulator)


def may_manage_catalogs(who: Actor) -> Verdict:
    """Import, publish and retire catalog versions: the operator's commands, or a regulator admin."""
    if isinstance(who, SystemOperator):
        return ALLOW
    return has_role(who, {Role.REGULATOR_ADMIN})


# --- assessments and evidence --------------------------------------------------------------------------------


def _verified(principal: Principal) -> Verdict:
    if principal.organisation_status != OrganisationStatus.VERIFIED:
        return forbid(f"only verified organisations can submit; yours is {principal.organisation_status}")
    return ALLOW


def may_prepare_assessments(who: Actor) -> Verdict:
    """A provider's editors and admins work on their organisation's filings."""
    return has_role(who, EDITORS)


def may_open_assessment(who: Actor) -> Verdict:
    """The one rule for a provider awaiting verification: it prepares (opens, answers, attaches evidence) but
    does not submit until the regulator has verified it (`may_submit`); a rejected registration does neither."""
    verdict = may_prepare_assessments(who)
    principal = _principal(who)
    if not verdict or principal is None:
        return verdict
    if principal.organisation_status == OrganisationStatus.REJECTED:
        return forbid("the regulator rejected this organisation's registration; it cannot file")
    return ALLOW


def may_view_assessment(who: Actor, filing: Filing) -> Verdict:
    """Members see their organisation's assessments; regulators see those submitted at least once."""
    principal = _principal(who)
    if principal is not None and principal.organisation_id == filing.organisation_id:
        return ALLOW
    if principal is not None and principal.is_regulator and filing.revision > 0:
        return ALLOW
    return conceal("not visible to this organisation")


def sees_every_submitted_filing(who: Actor) -> bool:
    """Regulators list every organisation's submitted assessments; everyone else only their own."""
    principal = _principal(who)
    return principal is not None and principal.is_regulator


def may_edit_answers(who: Actor, filing: Filing) -> Verdict:
    """Answer controls, upload and remove evidence: the organisation's editors, while the provider holds it."""
    return _all(
        may_view_assessment(who, filing),
        _member(who, filing.organisation_id, EDITORS),
        ALLOW
        if filing.state in EDITABLE
        else conflict(f"the assessment is {filing.state}; it can change only in draft or changes_requested"),
    )


def may_submit(who: Actor, filing: Filing) -> Verdict:
    principal = _principal(who)
    return _all(
        may_view_assessment(who, filing),
        _member(who, filing.organisation_id, frozenset({Role.PROVIDER_ADMIN})),
        _verified(principal) if principal is not None else ALLOW,
        ALLOW
        if filing.state in SUBMITTABLE
        else conflict(f"the assessment is {filing.state}; only a draft or a returned assessment can be submitted"),
    )


def may_withdraw(who: Actor, filing: Filing) -> Verdict:
    return _all(
        may_view_assessment(who, filing),
        _member(who, filing.organisation_id, frozenset({Role.PROVIDER_ADMIN})),
        ALLOW
        if filing.state in WITHDRAWABLE
        else conflict(f"the assessment is {filing.state}; it can no longer be withdrawn"),
    )


def may_remove_evidence(who: Actor, filing: Filing, *, frozen: bool) -> Verdict:
    return _all(
        may_edit_answers(who, filing),
        conflict("this evidence is part of a submitted revision and can no longer be removed") if frozen else ALLOW,
    )


# --- keys ---------------------------------------------------------------------------------------------------


def may_rotate_keys(who: Actor) -> Verdict:
    """Rotate a signing key: the operator's command, or a regulator admin in a logged-in session."""
    if isinstance(who, SystemOperator):
        return ALLOW
    return _all(has_role(who, {Role.REGULATOR_ADMIN}), _from_a_session(who, "keys are rotated"))


# --- review -------------------------------------------------------------------------------------------------

REVIEWERS = frozenset({Role.REVIEWER})
QUEUE_READERS = frozenset({Role.REVIEWER, Role.REGULATOR_ADMIN})
# The states in which a provider sees the findings: once the review has been handed back or decided.
FINDINGS_RETURNED = frozenset({State.CHANGES_REQUESTED, State.RECOMMENDED, State.ATTESTED, State.REJECTED})
COMMENTS_CLOSED = frozenset({State.WITHDRAWN})


def _user_id(who: Actor) -> uuid.UUID | None:
    principal = _principal(who)
    return principal.user_id if principal is not None else None


def _in_state(filing: Filing, states: frozenset[State] | set[State], what: str) -> Verdict:
    if filing.state in states:
        return ALLOW
    return conflict(f"the assessment is {filing.state}; {what}")


def may_review_queue(who: Actor) -> Verdict:
    return has_role(who, QUEUE_READERS)


def may_see_review(who: Actor, filing: Filing) -> Verdict:
    """The reviewer's workspace (findings, internal notes, the claim): regulators, once submitted."""
    return _all(may_view_assessment(who, filing), has_role(who, REGULATOR_ROLES))


def may_claim(who: Actor, filing: Filing) -> Verdict:
    return _all(
        may_see_review(who, filing),
        has_role(who, REVIEWERS),
        _in_state(filing, {State.SUBMITTED}, "only a submitted assessment can be claimed"),
    )


def may_release(who: Actor, filing: Filing, claimed_by: uuid.UUID | None) -> Verdict:
    """The claimer gives the review back to the queue; a regulator admin may take it off anyone."""
    principal = _principal(who)
    return _all(
        may_see_review(who, filing),
        has_role(who, {Role.REVIEWER, Role.REGULATOR_ADMIN}),
        _in_state(filing, {State.IN_REVIEW}, "only a review in progress can be released"),
        ALLOW
        if principal is not None and (principal.role == Role.REGULATOR_ADMIN or principal.user_id == claimed_by)
        else forbid("only the reviewer who claimed this assessment (or a regulator admin) can release it"),
    )


def may_assign(who: Actor, filing: Filing) -> Verdict:
    return _all(
        may_see_review(who, filing),
        has_role(who, {Role.REGULATOR_ADMIN}),
        _in_state(filing, {State.SUBMITTED, State.IN_REVIEW}, "only a submitted or claimed assessment can be assigned"),
    )


def _the_claimer(who: Actor, filing: Filing, claimed_by: uuid.UUID | None, what: str) -> Verdict:
    return _all(
        may_see_review(who, filing),
        has_role(who, REVIEWERS),
        _in_state(filing, {State.IN_REVIEW}, f"{what} only while it is in review"),
        ALLOW
        if claimed_by is not None and _user_id(who) == claimed_by
        else forbid(f"only the reviewer who claimed this assessment can {what}"),
    )


def may_record_finding(who: Actor, filing: Filing, claimed_by: uuid.UUID | None) -> Verdict:
    return _the_claimer(who, filing, claimed_by, "record findings")


def may_request_changes(who: Actor, filing: Filing, claimed_by: uuid.UUID | None) -> Verdict:
    return _the_claimer(who, filing, claimed_by, "request changes")


def may_recommend(who: Actor, filing: Filing, claimed_by: uuid.UUID | None) -> Verdict:
    return _the_claimer(who, filing, claimed_by, "recommend")


def may_see_internal(who: Actor) -> bool:
    """Internal notes: regulators only, never a provider."""
    principal = _principal(who)
    return principal is not None and principal.is_regulator


def may_see_findings(who: Actor, filing: Filing) -> Verdict:
    """Regulators see findings as they are recorded; the provider once the review is handed back or decided."""
    principal = _principal(who)
    return _all(
        may_view_assessment(who, filing),
        ALLOW
        if principal is not None and (principal.is_regulator or filing.state in FINDINGS_RETURNED)
        else forbid("findings are shown to the provider once the reviewer hands the assessment back"),
    )


def may_read_comments(who: Actor, filing: Filing) -> Verdict:
    return may_view_assessment(who, filing)


def may_comment(who: Actor, filing: Filing, *, internal: bool) -> Verdict:
    """Regulators and the provider's own people talk once the assessment is submitted; notes are regulators'."""
    principal = _principal(who)
    regulator = principal is not None and principal.is_regulator
    return _all(
        may_view_assessment(who, filing),
        ALLOW if regulator else _member(who, filing.organisation_id, EDITORS),
        forbid("internal notes are for regulators only") if internal and not regulator else ALLOW,
        conflict("comments open once the assessment is submitted") if filing.revision == 0 else ALLOW,
        conflict(f"the assessment is {filing.state}; its threads are closed")
        if filing.state in COMMENTS_CLOSED
        else ALLOW,
    )


# --- issuance -------------------------------------------------------------------------------------------------

ATTESTATION_OFFICERS = frozenset({Role.SIGNING_OFFICER, Role.REGULATOR_ADMIN})


def may_decide(who: Actor, filing: Filing, participants: set[uuid.UUID]) -> Verdict:
    """Issue or reject: a signing officer who took no part in the review (four-eyes), on a recommended filing."""
    principal = _principal(who)
    return _all(
        may_view_assessment(who, filing),
        has_role(who, {Role.SIGNING_OFFICER}),
        forbid("four-eyes: you claimed, reviewed or recommended this assessment; another signing officer decides")
        if principal is not None and principal.user_id in participants
        else ALLOW,
        ALLOW if filing.state == "recommended" else conflict(f"the assessment is {filing.state}, not recommended"),
    )


def may_see_decisions(who: Actor) -> Verdict:
    """The signing officers' queue of recommendations."""
    return has_role(who, ATTESTATION_OFFICERS)


def may_manage_attestation(who: Actor) -> Verdict:
    """Suspend, reinstate, revoke, mark conditions met: signing officers and the regulator admin."""
    return has_role(who, ATTESTATION_OFFICERS)


def attestation_scope(who: Principal, requested: uuid.UUID | None) -> uuid.UUID | None:
    """Whose attestations a listing shows: what a regulator asks for (``None``: all); a provider's own."""
    return requested if who.is_regulator else (requested or who.organisation_id)


def may_list_attestations(who: Actor, organisation_id: uuid.UUID | None) -> Verdict:
    """Regulators see every attestation with its lifecycle; a provider sees its own organisation's."""
    principal = _principal(who)
    if principal is not None and principal.is_regulator:
        return ALLOW
    if principal is not None and organisation_id == principal.organisation_id:
        return ALLOW
    return forbid("you can list only your own organisation's attestations")


# --- enforcing ----------------------------------------------------------------------------------------------


async def require(
    caller: Caller, verdict: Verdict, *, object_type: str, object_id: object = "", missing: str | None = None
) -> None:
    """Raise the refusal a verdict names. A concealed object answers 404 and is audited here, once.

    Call it outside a write transaction, so the audit row of a concealed object is not rolled back with it.
    """
    if verdict.allowed:
        return
    if verdict.refusal == Refusal.CONCEAL:
        from portal.domain.audit.services import record

        await record(
            caller,
            "permission.denied",
            outcome="denied",
            object_type=object_type,
            object_id=object_id,
            after={"detail": verdict.reason},
        )
        raise NotFound(missing or f"no such {object_type}")
    if verdict.refusal == Refusal.CONFLICT:
        raise Conflict(verdict.reason)
    raise Forbidden(verdict.reason)  # audited with the route by the problem handler
