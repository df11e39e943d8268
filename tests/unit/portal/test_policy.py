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


def test_a_pending_organisation_prepares_but_neither_opens_nor_submits() -> None:
    pending = who(ADMIN, status=OrganisationStatus.PENDING)
    assert policy.may_prepare_assessments(pending)
    verdict = policy.may_open_assessment(pending)
    assert (verdict.refusal, verdict.reason) == (
        Refusal.FORBIDDEN,
        "only verified organisations can file; yours is pending",
    )
    assert outcome(policy.may_submit(pending, filing(State.DRAFT))) == "forbidden"
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
