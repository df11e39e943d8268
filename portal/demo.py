"""Demonstration data for `make run`: a regulator team, verified and pending providers, their logins."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

import controls
from portal.domain.accounts import repo as accounts_repo
from portal.domain.accounts.schemas import NewAccount, NewMember, NewOrganisation, Registration
from portal.domain.assessments.schemas import AnswerIn, AnswerStatus, NewAssessment, Scope
from portal.domain.context import SYSTEM, Caller
from portal.domain.organisations import repo as organisations_repo
from portal.runtime import Runtime
from portal.security.principal import OrganisationStatus, Principal, Role

# The demo files on the built-in baseline as this release ships it.
BASELINE_VERSION = controls.baseline_catalog().version

# Demo-only credentials, printed by `make run`. They exist only in a database seeded by `portal demo`.
DEMO_PASSWORD = "demo-portal-2026!"  # noqa: S105 - demo only, printed on purpose
REGULATORS = [
    ("admin@regulator.demo", "Rana Al-Khalifa", Role.REGULATOR_ADMIN),
    ("reviewer@regulator.demo", "Omar Haddad", Role.REVIEWER),
    ("signer@regulator.demo", "Layla Mansour", Role.SIGNING_OFFICER),
]
PROVIDERS = [
    # (organisation, admin, editor, verified)
    (
        dict(
            name="Gulf Telecom",
            name_ar="الخليج للاتصالات",
            legal_name="Gulf Telecommunications Company B.S.C.",
            category="telecom_operator",
            country="BH",
            registration_number="CR-10442",
            website="https://gulftelecom.example",
            contact_email="compliance@gulftelecom.example",
        ),
        ("admin@gulftelecom.demo", "Sara Yusuf"),
        ("editor@gulftelecom.demo", "Ali Hasan"),
        True,
    ),
    (
        dict(
            name="Nimbus Cloud",
            name_ar="نيمبس السحابية",
            legal_name="Nimbus Cloud Hosting W.L.L.",
            category="cloud_hosting",
            country="BH",
            registration_number="CR-88310",
            website="https://nimbus.example",
            contact_email="security@nimbus.example",
        ),
        ("admin@nimbus.demo", "Huda Salman"),
        None,
        False,
    ),
]


async def seed_demo(runtime: Runtime, *, only_if_empty: bool) -> dict[str, Any]:
    """Seed an empty database as the system operator; people act through the same services as on the web."""
    accounts, organisations = runtime.accounts, runtime.organisations
    if await organisations_repo.any_exists():
        if only_if_empty:
            return _logins(await _demo_secrets(runtime), seeded=False)
        raise RuntimeError("the database is not empty; the demo seeds only an empty database")
    system = SYSTEM
    regulator_id = await organisations.regulator_organisation("National ICT Regulatory Authority (demo)")
    for email, name, role in REGULATORS:
        await accounts.create_user(
            system,
            email=email,
            role=role,
            organisation_id=regulator_id,
            password=DEMO_PASSWORD,
            display_name=name,
        )
    admin = await _principal(REGULATORS[0][0])
    for org, (admin_email, admin_name), editor, verified in PROVIDERS:
        user = await runtime.registrations.register_confirmed(
            system,
            Registration(
                organisation=msgspec.convert(org, NewOrganisation),
                user=NewAccount(email=admin_email, password=DEMO_PASSWORD, display_name=admin_name),
            ),
        )
        if editor:
            await accounts.create_user(
                system,
                email=editor[0],
                role=Role.PROVIDER_EDITOR,
                organisation_id=user.organisation_id,
                password=DEMO_PASSWORD,
                display_name=editor[1],
            )
        if verified:
            await organisations.decide(
                Caller(principal=admin, client="demo"),
                user.organisation_id,
                OrganisationStatus.VERIFIED,
                "Identity checked against the commercial register",
            )
    # A pending invitation, so the organisation page shows one (the link is in the outbox, as mail would be).
    gulf_admin = await _principal(PROVIDERS[0][1][0])
    await runtime.invitations.invite(
        Caller(principal=gulf_admin, client="demo"),
        gulf_admin.organisation_id,
        NewMember(email="noor@gulftelecom.demo", display_name="Noor Al-Sayed", role=Role.PROVIDER_EDITOR),
    )
    await _demo_assessments(runtime)
    return _logins(await _demo_secrets(runtime), seeded=True)


async def _demo_assessments(runtime: Runtime) -> None:
    """Gulf Telecom: an attested filing, one recommended and waiting on the signing officer, a submitted one with
    evidence, and a draft half answered."""
    assessments = runtime.assessments
    await runtime.catalogs.ensure_baseline()
    caller = Caller(principal=await _principal(PROVIDERS[0][1][0]), client="demo")
    scope = Scope(
        summary="Mobile (4G/5G) and fixed broadband services in the Kingdom of Bahrain",
        services=["Mobile voice and data", "FTTH broadband", "Enterprise connectivity"],
        sites=["Manama core data centre", "Riffa disaster-recovery site"],
    )
    filed = await assessments.open_assessment(
        caller,
        NewAssessment(
            catalog_id="ppa-baseline", catalog_version=BASELINE_VERSION, title="2026 annual filing", scope=scope
        ),
    )
    row = await runtime.evidence.authorise_upload(caller, filed.id)

    async def policy() -> Any:
        yield b"Gulf Telecom information security policy\nApproved by the board, 2026-01-15.\n"

    evidence, _ = await runtime.evidence.store_upload(caller, row, "security-policy.txt", policy())
    for index, item in enumerate(filed.controls):
        await assessments.answer_control(
            caller,
            filed.id,
            item.control_id,
            AnswerIn(
                status=AnswerStatus.IMPLEMENTED,
                narrative=f"{item.title}: in place since 2025, checked by internal audit in Q4.",
                evidence_ids=[evidence.id] if index == 0 else [],
            ),
            None,
        )
    await assessments.submit(caller, filed.id)
    await _demo_attestation(runtime, caller, scope)
    colocation = Scope(summary="Colocation and managed hosting at the Manama data centre", services=["Colocation"])
    await _demo_attestation(runtime, caller, colocation, "Data centre colocation 2026", issue=False)
    draft = await assessments.open_assessment(
        caller,
        NewAssessment(
            catalog_id="ppa-baseline",
            catalog_version=BASELINE_VERSION,
            title="5G standalone core (draft)",
            scope=Scope(summary="The new 5G standalone core network", services=["5G SA"]),
        ),
    )
    for item in draft.controls[:10]:
        await assessments.answer_control(
            caller,
            draft.id,
            item.control_id,
            AnswerIn(
                status=AnswerStatus.PARTIALLY_IMPLEMENTED,
                narrative="Rolled out to the first region.",
                planned_date=dt.date.today() + dt.timedelta(days=120),
            ),
            None,
        )


async def _demo_attestation(
    runtime: Runtime, provider: Caller, scope: Scope, title: str = "2025 annual filing", *, issue: bool = True
) -> None:
    """A filing the whole way: submitted, reviewed, recommended and (unless ``issue`` is False, when it waits on
    the signing officer) issued by another person (four-eyes)."""
    from portal.domain.issuance.schemas import DecideIn, DecisionKind
    from portal.domain.reviews.schemas import Decision, FindingIn, RecommendIn, Verdict

    filed = await runtime.assessments.open_assessment(
        provider,
        NewAssessment(catalog_id="ppa-baseline", catalog_version=BASELINE_VERSION, title=title, scope=scope),
    )
    for item in filed.controls:
        await runtime.assessments.answer_control(
            provider,
            filed.id,
            item.control_id,
            AnswerIn(status=AnswerStatus.IMPLEMENTED, narrative=f"{item.title}: in place and audited in 2025."),
            None,
        )
    await runtime.assessments.submit(provider, filed.id)
    reviewer = Caller(principal=await _principal(REGULATORS[1][0]), client="demo")
    await runtime.reviews.claim(reviewer, filed.id)
    for item in filed.controls:
        await runtime.reviews.record_finding(reviewer, filed.id, item.control_id, FindingIn(verdict=Verdict.SATISFIED))
    await runtime.reviews.recommend(
        reviewer, filed.id, RecommendIn(decision=Decision.APPROVE, rationale="Every control met, evidence checked.")
    )
    if issue:
        signer = Caller(principal=await _principal(REGULATORS[2][0]), client="demo")
        await runtime.issuance.decide(signer, filed.id, DecideIn(decision=DecisionKind.ISSUE, valid_days=365))


async def _principal(email: str) -> Principal:
    user = await accounts_repo.login_record(email)
    assert user is not None
    return accounts_repo.principal_of(user, via="session")


async def _demo_secrets(runtime: Runtime) -> dict[str, str]:
    # Demo only: the regulators' TOTP seeds are shown again so a demo can always be logged into.
    secrets = {}
    for email, _, _ in REGULATORS:
        user = await accounts_repo.login_record(email)
        if user is not None and user.totp_secret:
            secrets[email] = runtime.accounts.totp_box.open(user.totp_secret)
    return secrets


def _logins(secrets: dict[str, str], *, seeded: bool) -> dict[str, Any]:
    accounts_out = [
        {"email": e, "role": r, "password": DEMO_PASSWORD, "totp_secret": secrets.get(e)} for e, _, r in REGULATORS
    ]
    accounts_out += [{"email": p[1][0], "role": "provider_admin", "password": DEMO_PASSWORD} for p in PROVIDERS]
    accounts_out += [
        {"email": p[2][0], "role": "provider_editor", "password": DEMO_PASSWORD} for p in PROVIDERS if p[2]
    ]
    lines = [
        "Demo data " + ("seeded." if seeded else "already present."),
        f"Demo logins (password for all: {DEMO_PASSWORD}):",
    ]
    for account in accounts_out:
        extra = f"  TOTP secret: {account['totp_secret']}" if account.get("totp_secret") else ""
        lines.append(f"  {account['email']:<28} {account['role']:<16}{extra}")
    lines.append(
        "Regulators: add the TOTP secret to an authenticator app (or run: "
        ".venv/bin/python -c \"import pyotp; print(pyotp.TOTP('SECRET').now())\")."
    )
    return {"seeded": seeded, "accounts": accounts_out, "text": "\n".join(lines)}
