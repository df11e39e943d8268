"""Every permission decision, pinned as a table: role × own/other organisation × state."""

from __future__ import annotations

import uuid

import msgspec
import pytest

from portal.domain.assessments.states import State
from portal.security import policy
from portal.security.policy import Refusal
from portal.security.principal import OrganisationKind, OrganisationStatus, Principal, Role, SystemOperator

OWN = uuid.UUID(int=1)
OTHER = uuid.UUID(int=2)
REGULATOR_ORG = uuid.UUID(int=3)


def who(role: Role, org: uuid.UUID = OWN, *, status=OrganisationStatus.VERIFIED, via: str = "session") -> Principal:
    regulator = role in {Role.REVIEWER, Role.SIGNING_OFFICER, Role.REGULATOR_ADMIN}
    return Principal(
        user_id=uuid.uuid4(),
        email=f"{role}@example.org",
        display_name=str(role),
        role=role,
        organisation_id=REGULATOR_ORG if regulator else org,
        organisation_kind=OrganisationKind.REGULATOR if regulator else OrganisationKind.PROVIDER,
        organisation_status=status,
        via=via,
    )


class Filing(msgspec.Struct, frozen=True):
    organisation_id: uuid.UUID
    state: State
    revision: int


def filing(state: State, revision: int | None = None) -> Filing:
    return Filing(OWN, state, revision if revision is not None else (0 if state == State.DRAFT else 1))


def outcome(verdict: policy.Verdict) -> str:
    return "allow" if verdict else str(verdict.refusal)


ADMIN, EDITOR = Role.PROVIDER_ADMIN, Role.PROVIDER_EDITOR
REVIEWER, SIGNER, REG_ADMIN = Role.REVIEWER, Role.SIGNING_OFFICER, Role.REGULATOR_ADMIN


@pytest.mark.parametrize(
    ("role", "org", "state", "view", "edit", "submit", "withdraw"),
    [
        # the organisation's own people
        (ADMIN, OWN, State.DRAFT, "allow", "allow", "allow", "allow"),
        (EDITOR, OWN, State.DRAFT, "allow", "allow", "forbidden", "forbidden"),
        (ADMIN, OWN, State.SUBMITTED, "allow", "conflict", "conflict", "allow"),
        (EDITOR, OWN, State.SUBMITTED, "allow", "conflict", "forbidden", "forbidden"),
        (ADMIN, OWN, State.IN_REVIEW, "allow", "conflict", "conflict", "conflict"),
        (ADMIN, OWN, State.CHANGES_REQUESTED, "allow", "allow", "allow", "allow"),
        (ADMIN, OWN, State.RECOMMENDED, "allow", "conflict", "conflict", "conflict"),
        (ADMIN, OWN, State.ATTESTED, "allow", "conflict", "conflict", "conflict"),
        (ADMIN, OWN, State.WITHDRAWN, "allow", "conflict", "conflict", "conflict"),
        # another provider: never told the assessment exists
        (ADMIN, OTHER, State.DRAFT, "conceal", "conceal", "conceal", "conceal"),
        (EDITOR, OTHER, State.SUBMITTED, "conceal", "conceal", "conceal", "conceal"),
        # regulators: read a filing once submitted, never change it
        (REVIEWER, OWN, State.DRAFT, "conceal", "conceal", "conceal", "conceal"),
        (REVIEWER, OWN, State.SUBMITTED, "allow", "forbidden", "forbidden", "forbidden"),
        (SIGNER, OWN, State.RECOMMENDED, "allow", "forbidden", "forbidden", "forbidden"),
        (REG_ADMIN, OWN, State.CHANGES_REQUESTED, "allow", "forbidden", "forbidden", "forbidden"),
    ],
)
def test_assessment_decisions(role, org, state, view, edit, submit, withdraw) -> None:
    principal = who(role, org)
    target = filing(state)
    assert outcome(policy.may_view_assessment(principal, target)) == view
    assert outcome(policy.may_edit_answers(principal, target)) == edit
    assert outcome(policy.may_submit(principal, target)) == submit
    assert outcome(policy.may_withdraw(principal, target)) == withdraw


def test_anonymous_and_the_system_never_see_a_filing() -> None:
    for actor in (None, SystemOperator()):
        assert outcome(policy.may_view_assessment(actor, filing(State.SUBMITTED))) == "conceal"
        assert outcome(policy.may_open_assessment(actor)) == "forbidden"


def test_a_pending_organisation_prepares_but_does_not_submit() -> None:
    pending = who(ADMIN, status=OrganisationStatus.PENDING)
    assert policy.may_prepare_assessments(pending)
    assert outcome(policy.may_open_assessment(pending)) == "allow"
    assert outcome(policy.may_edit_answers(pending, filing(State.DRAFT))) == "allow"
    verdict = policy.may_submit(pending, filing(State.DRAFT))
    assert (verdict.refusal, verdict.reason) == (
        Refusal.FORBIDDEN,
        "only verified organisations can submit; yours is pending",
    )
    rejected = who(ADMIN, status=OrganisationStatus.REJECTED)
    assert outcome(policy.may_open_assessment(rejected)) == "forbidden"
    assert outcome(policy.may_open_assessment(who(REVIEWER))) == "forbidden"
    assert outcome(policy.may_open_assessment(who(EDITOR))) == "allow"


def test_frozen_evidence_is_never_removed() -> None:
    assert outcome(policy.may_remove_evidence(who(EDITOR), filing(State.DRAFT), frozen=False)) == "allow"
    frozen = policy.may_remove_evidence(who(EDITOR), filing(State.CHANGES_REQUESTED), frozen=True)
    assert (frozen.refusal, frozen.reason) == (
        Refusal.CONFLICT,
        "this evidence is part of a submitted revision and can no longer be removed",
    )
    assert outcome(policy.may_remove_evidence(who(EDITOR, OTHER), filing(State.DRAFT), frozen=False)) == "conceal"


@pytest.mark.parametrize(
    ("role", "org", "via", "members", "give_editor", "tokens", "create_token", "view_org"),
    [
        (ADMIN, OWN, "session", "allow", "allow", "allow", "allow", "allow"),
        (ADMIN, OWN, "api_token", "forbidden", "allow", "allow", "forbidden", "allow"),
        (EDITOR, OWN, "session", "forbidden", "forbidden", "forbidden", "forbidden", "allow"),
        (ADMIN, OTHER, "session", "forbidden", "allow", "forbidden", "forbidden", "forbidden"),
        (REVIEWER, OWN, "session", "forbidden", "forbidden", "forbidden", "forbidden", "allow"),
    ],
)
def test_organisation_decisions(role, org, via, members, give_editor, tokens, create_token, view_org) -> None:
    principal = who(role, org, via=via)
    assert outcome(policy.may_manage_members(principal, OWN)) == members
    assert outcome(policy.may_give_role(principal, Role.PROVIDER_EDITOR)) == give_editor
    assert outcome(policy.may_manage_api_tokens(principal, OWN)) == tokens
    assert outcome(policy.may_create_api_token(principal, OWN)) == create_token
    assert outcome(policy.may_view_organisation(principal, OWN)) == view_org


def test_roles_each_admin_may_give() -> None:
    assert policy.assignable_roles(who(ADMIN)) == {Role.PROVIDER_ADMIN, Role.PROVIDER_EDITOR}
    assert policy.assignable_roles(who(REG_ADMIN)) == {Role.REVIEWER, Role.SIGNING_OFFICER, Role.REGULATOR_ADMIN}
    assert policy.assignable_roles(who(EDITOR)) == frozenset()
    assert policy.assignable_roles(who(REVIEWER)) == frozenset()
    assert policy.may_manage_members(who(REG_ADMIN), REGULATOR_ORG)
    assert not policy.may_give_role(who(ADMIN), Role.REVIEWER)


@pytest.mark.parametrize(
    ("actor", "list_orgs", "decide_org", "drafts", "manage_catalogs"),
    [
        (None, "forbidden", "forbidden", False, "forbidden"),
        (SystemOperator(), "forbidden", "forbidden", True, "allow"),
        (who(ADMIN), "forbidden", "forbidden", False, "forbidden"),
        (who(REVIEWER), "allow", "forbidden", True, "forbidden"),
        (who(SIGNER), "allow", "forbidden", True, "forbidden"),
        (who(REG_ADMIN), "allow", "allow", True, "allow"),
    ],
)
def test_regulator_and_catalog_decisions(actor, list_orgs, decide_org, drafts, manage_catalogs) -> None:
    assert outcome(policy.may_list_organisations(actor)) == list_orgs
    assert outcome(policy.may_decide_organisation(actor)) == decide_org
    assert policy.may_see_catalog_drafts(actor) is drafts
    assert outcome(policy.may_manage_catalogs(actor)) == manage_catalogs


# --- review ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "org", "state", "revision", "see_review", "claim", "assign", "findings", "comment", "internal"),
    [
        # the provider's own people: they talk in the threads, never inside the review
        (ADMIN, OWN, State.SUBMITTED, 1, "forbidden", "forbidden", "forbidden", "forbidden", "allow", "forbidden"),
        (EDITOR, OWN, State.CHANGES_REQUESTED, 1, "forbidden", "forbidden", "forbidden", "allow", "allow", "forbidden"),
        (ADMIN, OWN, State.DRAFT, 0, "forbidden", "forbidden", "forbidden", "forbidden", "conflict", "forbidden"),
        (ADMIN, OWN, State.RECOMMENDED, 1, "forbidden", "forbidden", "forbidden", "allow", "allow", "forbidden"),
        (ADMIN, OWN, State.WITHDRAWN, 1, "forbidden", "forbidden", "forbidden", "forbidden", "conflict", "forbidden"),
        # another provider: never told the assessment exists
        (ADMIN, OTHER, State.SUBMITTED, 1, "conceal", "conceal", "conceal", "conceal", "conceal", "conceal"),
        (EDITOR, OTHER, State.CHANGES_REQUESTED, 1, "conceal", "conceal", "conceal", "conceal", "conceal", "conceal"),
        # regulators: never a draft; reviewers claim, regulator admins assign
        (REVIEWER, OWN, State.DRAFT, 0, "conceal", "conceal", "conceal", "conceal", "conceal", "conceal"),
        (REVIEWER, OWN, State.SUBMITTED, 1, "allow", "allow", "forbidden", "allow", "allow", "allow"),
        (REVIEWER, OWN, State.IN_REVIEW, 1, "allow", "conflict", "forbidden", "allow", "allow", "allow"),
        (REVIEWER, OWN, State.CHANGES_REQUESTED, 2, "allow", "conflict", "forbidden", "allow", "allow", "allow"),
        (SIGNER, OWN, State.RECOMMENDED, 1, "allow", "forbidden", "forbidden", "allow", "allow", "allow"),
        (REG_ADMIN, OWN, State.SUBMITTED, 1, "allow", "forbidden", "allow", "allow", "allow", "allow"),
        (REG_ADMIN, OWN, State.IN_REVIEW, 1, "allow", "forbidden", "allow", "allow", "allow", "allow"),
        (REG_ADMIN, OWN, State.RECOMMENDED, 1, "allow", "forbidden", "conflict", "allow", "allow", "allow"),
    ],
)
def test_review_decisions(role, org, state, revision, see_review, claim, assign, findings, comment, internal) -> None:
    principal = who(role, org)
    target = filing(state, revision)
    assert outcome(policy.may_see_review(principal, target)) == see_review
    assert outcome(policy.may_claim(principal, target)) == claim
    assert outcome(policy.may_assign(principal, target)) == assign
    assert outcome(policy.may_see_findings(principal, target)) == findings
    assert outcome(policy.may_comment(principal, target, internal=False)) == comment
    assert outcome(policy.may_comment(principal, target, internal=True)) == internal
    assert policy.may_see_internal(principal) is principal.is_regulator


@pytest.mark.parametrize(
    ("actor", "state", "holder", "record", "release"),
    [
        # only the claimer records, requests changes and recommends; the claimer or an admin releases
        ("claimer", State.IN_REVIEW, "claimer", "allow", "allow"),
        ("other reviewer", State.IN_REVIEW, "claimer", "forbidden", "forbidden"),
        ("regulator admin", State.IN_REVIEW, "claimer", "forbidden", "allow"),
        ("signing officer", State.IN_REVIEW, "claimer", "forbidden", "forbidden"),
        ("claimer", State.SUBMITTED, None, "conflict", "conflict"),
        ("claimer", State.CHANGES_REQUESTED, None, "conflict", "conflict"),
        ("claimer", State.RECOMMENDED, "claimer", "conflict", "conflict"),
        ("provider", State.IN_REVIEW, "claimer", "forbidden", "forbidden"),
        ("other provider", State.IN_REVIEW, "claimer", "conceal", "conceal"),
    ],
)
def test_only_the_claimer_records_and_decides(actor, state, holder, record, release) -> None:
    claimer = who(REVIEWER)
    people = {
        "claimer": claimer,
        "other reviewer": who(REVIEWER),
        "regulator admin": who(REG_ADMIN),
        "signing officer": who(SIGNER),
        "provider": who(ADMIN),
        "other provider": who(ADMIN, OTHER),
    }
    principal = people[actor]
    target = filing(state, 1)
    claimed_by = claimer.user_id if holder else None
    assert outcome(policy.may_record_finding(principal, target, claimed_by)) == record
    assert outcome(policy.may_request_changes(principal, target, claimed_by)) == record
    assert outcome(policy.may_recommend(principal, target, claimed_by)) == record
    assert outcome(policy.may_release(principal, target, claimed_by)) == release


def test_the_queue_is_for_reviewers_and_regulator_admins() -> None:
    assert [outcome(policy.may_review_queue(who(r))) for r in (ADMIN, EDITOR, REVIEWER, SIGNER, REG_ADMIN)] == [
        "forbidden",
        "forbidden",
        "allow",
        "forbidden",
        "allow",
    ]
    assert outcome(policy.may_review_queue(None)) == "forbidden"
    assert policy.may_see_internal(None) is False and policy.may_see_internal(SystemOperator()) is False


class Account(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    organisation_id: uuid.UUID
    role: Role
    is_active: bool = True
    deactivated_at: object = None
    joined: bool = True
    totp_enrolled: bool = False


def account(role: Role, org: uuid.UUID = OWN, **state) -> Account:
    regulator = role in {REVIEWER, SIGNER, REG_ADMIN}
    return Account(id=uuid.uuid4(), organisation_id=REGULATOR_ORG if regulator else org, role=role, **state)


@pytest.mark.parametrize(
    ("actor", "target", "deactivate", "reactivate", "make_admin", "reset"),
    [
        # a provider's admin, from a session, on its own organisation's members
        (who(ADMIN), account(EDITOR), "allow", "conflict", "allow", "forbidden"),
        (
            who(ADMIN),
            account(EDITOR, deactivated_at="then", is_active=False),
            "conflict",
            "allow",
            "allow",
            "forbidden",
        ),
        (who(ADMIN), account(ADMIN), "allow", "conflict", "conflict", "forbidden"),
        (who(ADMIN), account(EDITOR, is_active=False, joined=False), "allow", "conflict", "allow", "forbidden"),
        # the wrong role, the wrong organisation, a token
        (who(EDITOR), account(EDITOR), "forbidden", "forbidden", "forbidden", "forbidden"),
        (who(ADMIN, OTHER), account(EDITOR), "forbidden", "forbidden", "forbidden", "forbidden"),
        (who(ADMIN, via="api_token"), account(EDITOR), "forbidden", "forbidden", "forbidden", "forbidden"),
        (who(REG_ADMIN), account(EDITOR), "forbidden", "forbidden", "forbidden", "forbidden"),
        (None, account(EDITOR), "forbidden", "forbidden", "forbidden", "forbidden"),
        # the operator: anything the rules allow (a provider has no second factor to reset)
        (SystemOperator(), account(EDITOR), "allow", "conflict", "allow", "conflict"),
    ],
)
def test_member_lifecycle_decisions_for_providers(actor, target, deactivate, reactivate, make_admin, reset) -> None:
    assert outcome(policy.may_deactivate_member(actor, target)) == deactivate
    assert outcome(policy.may_reactivate_member(actor, target)) == reactivate
    assert outcome(policy.may_change_role(actor, target, ADMIN)) == make_admin
    assert outcome(policy.may_reset_second_factor(actor, target)) == reset


@pytest.mark.parametrize(
    ("actor", "target", "deactivate", "make_signer", "reset"),
    [
        (who(REG_ADMIN), account(REVIEWER, totp_enrolled=True), "allow", "allow", "allow"),
        (who(REG_ADMIN), account(REVIEWER, totp_enrolled=False), "allow", "allow", "conflict"),
        (who(REG_ADMIN, via="api_token"), account(REVIEWER, totp_enrolled=True), "forbidden", "forbidden", "forbidden"),
        (who(REVIEWER), account(REVIEWER, totp_enrolled=True), "forbidden", "forbidden", "forbidden"),
        (who(SIGNER), account(REVIEWER, totp_enrolled=True), "forbidden", "forbidden", "forbidden"),
        (who(ADMIN), account(REVIEWER, totp_enrolled=True), "forbidden", "forbidden", "forbidden"),
        (SystemOperator(), account(REVIEWER, totp_enrolled=True), "allow", "allow", "allow"),
    ],
)
def test_member_lifecycle_decisions_for_the_regulator(actor, target, deactivate, make_signer, reset) -> None:
    assert outcome(policy.may_deactivate_member(actor, target)) == deactivate
    assert outcome(policy.may_change_role(actor, target, SIGNER)) == make_signer
    assert outcome(policy.may_reset_second_factor(actor, target)) == reset


def test_nobody_resets_their_own_second_factor_or_gives_a_role_they_may_not() -> None:
    chief = who(REG_ADMIN)
    own = Account(id=chief.user_id, organisation_id=REGULATOR_ORG, role=REG_ADMIN, totp_enrolled=True)
    verdict = policy.may_reset_second_factor(chief, own)
    assert (verdict.refusal, verdict.reason) == (
        Refusal.FORBIDDEN,
        "you cannot reset your own second factor; ask another regulator admin",
    )
    assert outcome(policy.may_change_role(who(ADMIN), account(EDITOR), REVIEWER)) == "forbidden"
    assert outcome(policy.may_change_role(chief, account(REVIEWER), ADMIN)) == "forbidden"
    assert outcome(policy.may_list_every_user(SystemOperator())) == "allow"
    assert outcome(policy.may_list_every_user(chief)) == "forbidden"


@pytest.mark.parametrize(
    ("target", "role_after", "active_after", "admins", "expected"),
    [
        (account(ADMIN), ADMIN, False, 1, "conflict"),  # deactivate the last admin
        (account(ADMIN), EDITOR, True, 1, "conflict"),  # demote the last admin
        (account(ADMIN), EDITOR, True, 2, "allow"),
        (account(ADMIN), ADMIN, False, 2, "allow"),
        (account(ADMIN, is_active=False, deactivated_at="then"), EDITOR, False, 1, "allow"),  # not an active admin
        (account(EDITOR), EDITOR, False, 1, "allow"),
        (account(REG_ADMIN), REVIEWER, True, 1, "conflict"),
        (account(REG_ADMIN), SIGNER, True, 3, "allow"),
    ],
)
def test_the_last_active_admin_stays(target, role_after, active_after, admins, expected) -> None:
    verdict = policy.keeps_an_admin(target, role_after=role_after, active_after=active_after, active_admins=admins)
    assert outcome(verdict) == expected


@pytest.mark.parametrize(
    ("token", "creator", "acts_as"),
    [
        (ADMIN, ADMIN, ADMIN),
        (ADMIN, EDITOR, EDITOR),  # a demoted creator's admin token acts as an editor
        (EDITOR, ADMIN, EDITOR),
        (EDITOR, EDITOR, EDITOR),
        (ADMIN, REVIEWER, None),  # never a regulator, never above a provider role
        (REVIEWER, REG_ADMIN, None),
    ],
)
def test_an_api_token_acts_in_the_lower_of_its_role_and_its_creators(token, creator, acts_as) -> None:
    assert policy.token_role(token, creator) == acts_as


def test_whose_attestations_a_listing_shows() -> None:
    other = uuid.UUID(int=9)
    assert policy.attestation_scope(who(Role.REVIEWER), None) is None  # regulators: every organisation
    assert policy.attestation_scope(who(Role.SIGNING_OFFICER), other) == other
    assert policy.attestation_scope(who(Role.PROVIDER_EDITOR), None) == OWN
    # A provider asking for another organisation is asked about that one, and refused.
    assert policy.attestation_scope(who(Role.PROVIDER_ADMIN), other) == other
    assert outcome(policy.may_list_attestations(who(Role.PROVIDER_ADMIN), other)) == "forbidden"
    assert outcome(policy.may_list_attestations(who(Role.PROVIDER_ADMIN), OWN)) == "allow"
