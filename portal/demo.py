"""Demonstration data for `make run`: a regulator team, verified and pending providers, their logins."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from portal.db.tables import Organisation, User
from portal.domain.accounts import services as accounts
from portal.domain.accounts.schemas import NewAccount, NewOrganisation, Registration
from portal.domain.context import Caller
from portal.domain.organisations import services as organisations
from portal.runtime import Runtime, build_runtime
from portal.security.permissions import OrganisationStatus, Principal, Role
from portal.settings import Settings

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


async def seed_demo(settings: Settings, *, only_if_empty: bool) -> dict[str, Any]:
    runtime = build_runtime(settings)
    if await Organisation.count() > 0:
        if only_if_empty:
            return _logins(await _demo_secrets(runtime), seeded=False)
        raise RuntimeError("the database is not empty; the demo seeds only an empty database")
    system = Caller(principal=None, client="demo")
    regulator_id = await organisations.regulator_organisation("National ICT Regulatory Authority (demo)")
    for email, name, role in REGULATORS:
        await accounts.create_user(
            runtime,
            system,
            email=email,
            role=role,
            organisation_id=regulator_id,
            password=DEMO_PASSWORD,
            display_name=name,
        )
    admin = await _principal(REGULATORS[0][0])
    for org, (admin_email, admin_name), editor, verified in PROVIDERS:
        user = await accounts.register(
            runtime,
            system,
            Registration(
                organisation=msgspec.convert(org, NewOrganisation),
                user=NewAccount(email=admin_email, password=DEMO_PASSWORD, display_name=admin_name),
            ),
        )
        if editor:
            await accounts.create_user(
                runtime,
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
    await _demo_assessments(runtime)
    return _logins(await _demo_secrets(runtime), seeded=True)


async def _demo_assessments(runtime: Runtime) -> None:
    """Gulf Telecom: one submitted assessment with evidence, and one draft half answered."""
    from portal.domain.assessments import repo as assessments_repo
    from portal.domain.assessments import services as assessments
    from portal.domain.assessments.schemas import AnswerIn, AnswerStatus, NewAssessment, Scope
    from portal.domain.catalogs.services import ensure_baseline
    from portal.domain.evidence.services import store_upload

    await ensure_baseline()
    caller = Caller(principal=await _principal(PROVIDERS[0][1][0]), client="demo")
    scope = Scope(
        summary="Mobile (4G/5G) and fixed broadband services in the Kingdom of Bahrain",
        services=["Mobile voice and data", "FTTH broadband", "Enterprise connectivity"],
        sites=["Manama core data centre", "Riffa disaster-recovery site"],
    )
    filed = await assessments.open_assessment(
        caller,
        NewAssessment(catalog_id="ppa-baseline", catalog_version="1.0.0", title="2026 annual filing", scope=scope),
    )
    row = await assessments_repo.assessment(filed.id)
    assert row is not None

    async def policy() -> Any:
        yield b"Gulf Telecom information security policy\nApproved by the board, 2026-01-15.\n"

    evidence, _ = await store_upload(
        caller, runtime.evidence, row, "security-policy.txt", policy(), runtime.settings.max_upload_bytes
    )
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
    draft = await assessments.open_assessment(
        caller,
        NewAssessment(
            catalog_id="ppa-baseline",
            catalog_version="1.0.0",
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


async def _principal(email: str) -> Principal:
    from portal.domain.accounts import repo

    row = await repo.user_by_email(email)
    assert row is not None
    return repo.principal_from_row(row, via="session")


async def _demo_secrets(runtime: Runtime) -> dict[str, str]:
    # Demo only: the regulators' TOTP seeds are shown again so a demo can always be logged into.
    rows = await User.select(User.email, User.totp_secret).where(User.email.like("%@regulator.demo"))
    return {row["email"]: runtime.totp_box.open(row["totp_secret"]) for row in rows if row["totp_secret"]}


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
