"""Dependencies handlers ask for by name: the caller, the settings and each service, built once."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from portal.domain.accounts.invitations import InvitationService
from portal.domain.accounts.members import MemberService
from portal.domain.accounts.registration import RegistrationService
from portal.domain.accounts.services import AccountService
from portal.domain.assessments.services import AssessmentService
from portal.domain.catalogs.services import CatalogService
from portal.domain.context import Caller
from portal.domain.evidence.services import EvidenceService
from portal.domain.issuance.lookup import StatusLookup
from portal.domain.issuance.services import IssuanceService
from portal.domain.keys.services import KeyService
from portal.domain.log.services import LogService
from portal.domain.organisations.services import OrganisationService
from portal.domain.registry.services import RegistryService
from portal.domain.reviews.inbox import InboxService
from portal.domain.reviews.services import ReviewService
from portal.domain.status.services import StatusListService
from portal.domain.verification.services import VerificationService
from portal.problems import caller_of
from portal.runtime import Runtime
from portal.settings import Settings


def _constant(value: Any) -> Provide:
    def provide() -> Any:
        return value

    return Provide(provide, sync_to_thread=False, use_cache=True)


def dependencies(runtime: Runtime) -> dict[str, Provide]:
    def provide_caller(request: Request[Any, Any, Any]) -> Caller:
        return caller_of(request)

    return {
        "caller": Provide(provide_caller, sync_to_thread=False),
        "runtime": _constant(runtime),
        "settings": _constant(runtime.settings),
        "accounts": _constant(runtime.accounts),
        "registrations": _constant(runtime.registrations),
        "invitations": _constant(runtime.invitations),
        "members": _constant(runtime.members),
        "organisations": _constant(runtime.organisations),
        "catalogs": _constant(runtime.catalogs),
        "assessments": _constant(runtime.assessments),
        "evidence": _constant(runtime.evidence),
        "keys": _constant(runtime.keys),
        "status_lists": _constant(runtime.status_lists),
        "issuance": _constant(runtime.issuance),
        "registry": _constant(runtime.registry),
        "status_lookup": _constant(runtime.status_lookup),
        "reviews": _constant(runtime.reviews),
        "inbox": _constant(runtime.inbox),
        "log": _constant(runtime.log),
        "verification": _constant(runtime.verification),
    }


# Handlers name these in their signatures; Litestar injects them.
CallerDep = NamedDependency[Caller]
RuntimeDep = NamedDependency[Runtime]
SettingsDep = NamedDependency[Settings]
Accounts = NamedDependency[AccountService]
Registrations = NamedDependency[RegistrationService]
Invitations = NamedDependency[InvitationService]
Members = NamedDependency[MemberService]
Organisations = NamedDependency[OrganisationService]
Catalogs = NamedDependency[CatalogService]
Assessments = NamedDependency[AssessmentService]
EvidenceFiles = NamedDependency[EvidenceService]
Keys = NamedDependency[KeyService]
StatusLists = NamedDependency[StatusListService]
Issuance = NamedDependency[IssuanceService]
Registry = NamedDependency[RegistryService]
StatusLookups = NamedDependency[StatusLookup]
Reviews = NamedDependency[ReviewService]
Inbox = NamedDependency[InboxService]
Log = NamedDependency[LogService]
Verification = NamedDependency[VerificationService]
