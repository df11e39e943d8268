"""Issuance: a signing officer's four-eyes decision on a recommended revision, the signed attestation, its
certificate, and its lifecycle (suspend, reinstate, revoke, expire, supersede, conditions).

Issuing writes, in one transaction: the assessment's move to ``attested`` (the compare-and-set that makes
exactly one decide win), the decision row (unique per revision), the attestation with its token and status
list entry, its first event, what it supersedes, and the audit event. The certificate file is content-
addressed and written before the commit, so a crash leaves either all of it or none of it in the database
(an unreferenced certificate file at worst, which nothing serves).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

import controls
from attestations.canonical import canonical_digest
from attestations.certificate import CertificateData, render_certificate
from attestations.keys import KeyPurpose
from attestations.log_proof import attestation_log_entry, encode_log_proof
from attestations.tokens import (
    Attestation,
    AttestationClaims,
    Catalog,
    Condition,
    Product,
    Provider,
    Revision,
    Scope,
    Status,
    StatusListReference,
    sign_attestation,
)
from controls.models import ProviderCategory
from portal.clock import now
from portal.db import atomic, lock
from portal.domain.assessments import repo as assessments_repo
from portal.domain.assessments.repo import AssessmentRecord
from portal.domain.assessments.services import AssessmentService
from portal.domain.assessments.states import State
from portal.domain.audit import repo as audit_repo
from portal.domain.audit.services import record
from portal.domain.context import Caller
from portal.domain.issuance import repo, rules
from portal.domain.issuance.repo import AttestationRecord
from portal.domain.issuance.schemas import (
    AttestationOut,
    AttestationSummary,
    DecideIn,
    DecisionKind,
    EventOut,
    PendingDecision,
    RejectionOut,
    RevokeIn,
    SuspendIn,
)
from portal.domain.issuance.states import LIST_VALUE
from portal.domain.issuance.states import Status as Lifecycle
from portal.domain.keys.services import KeyService
from portal.domain.log.services import LogService
from portal.domain.organisations import repo as organisations_repo
from portal.domain.registry import repo as registry_repo
from portal.domain.reviews import repo as reviews_repo
from portal.domain.status.services import StatusListService
from portal.errors import Conflict, InvalidInput, Message, NeverIssued, NotFound
from portal.security import policy

MAX_SUSPENSION = dt.timedelta(days=180)


class CertificateStore:
    """Certificate PDFs, content-addressed under ``PORTAL_DATA_DIR/certificates``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.pdf"

    def put(self, pdf: bytes) -> str:
        sha256 = hashlib.sha256(pdf).hexdigest()
        target = self.path(sha256)
        if target.exists():
            return sha256
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pdf)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha256

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()


def certificate_data(token: str, proof: bytes, document: dict[str, Any], catalog: controls.Catalog) -> CertificateData:
    """What the certificate prints: the token's facts, with the category and families in words in both languages."""
    code = document["provider"]["category"]
    category = ProviderCategory(code) if code in ProviderCategory.__members__ else None
    return CertificateData.from_token(
        token,
        log_proof=proof,
        provider_name_ar=document["provider"].get("name_ar") or None,
        category=(category.label, category.label_ar) if category else None,
        family_titles={family.id: family.title for family in catalog.families},
    )


def _epoch(value: dt.datetime) -> int:
    return int(value.timestamp())


PUBLIC_CONDITION = ("control_id", "text", "due_date", "state", "met_at")


def attestation_out(row: AttestationRecord, events: list[EventOut]) -> AttestationOut:
    """The public attestation: a condition's state and date, never the regulator's note on how it was met."""
    document = row.document
    return AttestationOut(
        serial=row.serial,
        status=row.status,
        token=row.token,
        provider=document["provider"],
        scope=document["scope"],
        catalog=document["catalog"],
        revision=document["revision"],
        level=row.level,
        result=document["result"],
        conditions=[{k: c[k] for k in PUBLIC_CONDITION if k in c} for c in document["conditions"]],
        valid_from=row.valid_from,
        expires_at=row.expires_at,
        superseded_by=row.superseded_by,
        suspended_until=row.suspended_until if row.status == Lifecycle.SUSPENDED else None,
        events=events,
    )


class IssuanceService:
    def __init__(
        self,
        assessments: AssessmentService,
        keys: KeyService,
        status_lists: StatusListService,
        certificates: CertificateStore,
        issuer: str,
        log: LogService,
    ) -> None:
        self.log = log
        self.assessments = assessments
        self.keys = keys
        self.status_lists = status_lists
        self.certificates = certificates
        self.issuer = issuer.rstrip("/")
        # Called with a serial after each committed status change (the status read model forgets it at once).
        self.on_change: list[Callable[[str], None]] = []

    def _changed(self, *serials: str) -> None:
        for serial in serials:
            for listener in self.on_change:
                listener(serial)

    # --- who took part ------------------------------------------------------------------------------------

    async def participants(self, assessment_id: uuid.UUID) -> set[uuid.UUID]:
        """Everyone who claimed, was assigned, recorded a finding on, or recommended this assessment."""
        people: set[uuid.UUID] = set()
        review = await reviews_repo.review(assessment_id)
        if review is not None:
            people |= {p for p in (review.claimed_by, review.last_reviewer) if p is not None}
        people |= {f.author for f in await reviews_repo.findings(assessment_id)}
        recommendation = await reviews_repo.latest_recommendation(assessment_id)
        if recommendation is not None:
            people.add(recommendation.recommended_by)
        for action in ("review.claimed", "review.assigned", "review.recommended", "review.finding"):
            people |= {uuid.UUID(a) for a in await audit_repo.actors(action, str(assessment_id))}
        return people

    # --- the decision -------------------------------------------------------------------------------------

    async def decide(self, caller: Caller, assessment_id: uuid.UUID, data: DecideIn) -> AttestationOut | RejectionOut:
        principal = caller.actor
        row = await self.assessments.visible(caller, assessment_id)
        await policy.require(
            caller,
            policy.may_decide(principal, row, await self.participants(assessment_id)),
            object_type="assessment",
            object_id=assessment_id,
        )
        recommendation = await reviews_repo.latest_recommendation(assessment_id)
        if recommendation is None or recommendation.revision != row.revision:
            raise Conflict("there is no recommendation on the current revision")
        if data.decision == DecisionKind.REJECT:
            return await self._reject(caller, row, data.reason)
        if recommendation.decision != "approve":
            raise InvalidInput(
                "the reviewer recommended rejection; an attestation is issued only on an approval", field="decision"
            )
        return await self._issue(caller, row, recommendation.level or "full", recommendation.conditions, data)

    async def _reject(self, caller: Caller, row: AssessmentRecord, reason: str) -> RejectionOut:
        if len(reason.strip()) < 3:
            raise InvalidInput("say why the assessment is rejected; the provider reads it", field="reason")
        async with atomic():
            if not await assessments_repo.move(row.id, [State.RECOMMENDED], State.REJECTED, at=now()):
                raise Conflict("the assessment was decided meanwhile")
            await repo.insert_decision(
                row.id,
                row.revision,
                decision="reject",
                reason=reason.strip(),
                decided_by=caller.actor.user_id,
                at=now(),
            )
            await record(
                caller,
                "assessment.rejected",
                object_type="assessment",
                object_id=row.id,
                before={"state": row.state},
                after={"state": State.REJECTED, "revision": row.revision, "reason": reason.strip()},
            )
        return RejectionOut(id=row.id, state=State.REJECTED, reason=reason.strip())

    async def _document(
        self, row: AssessmentRecord, level: str, conditions: list[dict[str, Any]]
    ) -> tuple[dict[str, Any], controls.Catalog]:
        """The public description of the attestation, from the frozen revision (never from live rows)."""
        catalog, _ = await self.assessments.applicable(row)
        revision = await assessments_repo.revision(row.id, row.revision)
        assert revision is not None
        frozen = msgspec.json.decode(revision.document)
        organisation = await organisations_repo.get(row.organisation_id)
        assert organisation is not None
        scope = frozen["scope"]
        document = {
            "provider": {
                "name": organisation.name,
                "name_ar": organisation.name_ar,
                "legal_name": organisation.legal_name,
                "category": organisation.category or "",
                "country": organisation.country,
                "registration": organisation.registration_number,
            },
            "scope": scope,
            "catalog": {"id": row.catalog_id, "version": row.catalog_version, "sha256": row.catalog_digest},
            "revision": {"number": row.revision, "sha256": revision.sha256},
            "level": level,
            "result": rules.result_per_family(catalog, frozen),
            "conditions": [
                {"control_id": c["control_id"], "text": c["text"], "due_date": c["due_date"], "state": "open"}
                for c in conditions
            ],
        }
        return document, catalog

    async def _issue(
        self, caller: Caller, row: AssessmentRecord, level: str, conditions: list[dict[str, Any]], data: DecideIn
    ) -> AttestationOut:
        principal = caller.actor
        document, catalog = await self._document(row, level, conditions)
        key = self.keys.signing_key(KeyPurpose.ATTESTATION)
        issued = now().replace(microsecond=0)
        expires = rules.expiry(issued, data.valid_days)
        scope_sha256 = canonical_digest({"organisation": str(row.organisation_id), "scope": document["scope"]})
        async with atomic():
            # The compare-and-set first: of many concurrent decides, one moves the assessment, the rest get 409.
            if not await assessments_repo.move(row.id, [State.RECOMMENDED], State.ATTESTED, at=issued):
                raise Conflict("the assessment was decided meanwhile")
            await repo.insert_decision(row.id, row.revision, decision="issue", decided_by=principal.user_id, at=issued)
            await lock("attestation-serials")
            serial = rules.serial(issued.year, await repo.last_number_in_year(issued.year) + 1)
            status = await self.status_lists.allocate(serial)
            claims = AttestationClaims(
                iss=self.issuer,
                sub=f"urn:portal:org:{row.organisation_id}",
                jti=serial,
                iat=_epoch(issued),
                nbf=_epoch(issued),
                exp=_epoch(expires),
                status=Status(status_list=StatusListReference(idx=status.index, uri=status.uri)),
                att=Attestation(
                    provider=Provider(
                        name=document["provider"]["name"],
                        category=document["provider"]["category"],
                        country=document["provider"]["country"],
                        registration=document["provider"]["registration"],
                    ),
                    scope=Scope(
                        summary=document["scope"]["summary"],
                        services=list(document["scope"].get("services", [])),
                        products=[Product(**p) for p in document["scope"].get("products", [])],
                        sites=list(document["scope"].get("sites", [])),
                    ),
                    catalog=Catalog(**document["catalog"]),
                    revision=Revision(**document["revision"]),
                    level=level,
                    result=document["result"],
                    conditions=[Condition(text=c["text"], due=c["due_date"]) for c in document["conditions"]],
                ),
            )
            token = sign_attestation(claims, key)
            # The issue entry joins the log in this transaction; the certificate carries its inclusion proof.
            appended = await self.log.append(attestation_log_entry(token, jti=serial, event="issue", at=claims.iat))
            proof = encode_log_proof(await self.log.proof(serial))
            pdf = await asyncio.to_thread(render_certificate, certificate_data(token, proof, document, catalog))
            certificate = await asyncio.to_thread(self.certificates.put, pdf)
            attestation_id = uuid.uuid4()
            await repo.insert(
                id=attestation_id,
                serial=serial,
                assessment=row.id,
                revision_key=f"{row.id}:{row.revision}",
                organisation=row.organisation_id,
                scope_sha256=scope_sha256,
                document=document,
                level=level,
                status=Lifecycle.ACTIVE.value,
                status_list=status.list_id,
                status_index=status.index,
                token=token,
                token_sha256=hashlib.sha256(token.encode()).hexdigest(),
                certificate_sha256=certificate,
                valid_from=issued,
                expires_at=expires,
                issued_by=principal.user_id,
                created_at=issued,
                updated_at=issued,
            )
            await repo.add_event(
                attestation_id,
                serial=serial,
                event="issue",
                status=Lifecycle.ACTIVE.value,
                actor=principal.user_id,
                log_index=appended.index,
                at=issued,
            )
            await registry_repo.refresh(serial)  # the public registry's row, in this transaction
            current = await repo.current_for_scope(row.organisation_id, scope_sha256)
            superseded = [older for older in current if older.serial != serial]
            for older in superseded:
                await self._move(caller, older, Lifecycle.SUPERSEDED, "supersede", values={"superseded_by": serial})
            await record(
                caller,
                "attestation.issued",
                object_type="attestation",
                object_id=serial,
                before={"state": State.RECOMMENDED},
                after={
                    "assessment": str(row.id),
                    "revision": row.revision,
                    "level": level,
                    "expires_at": expires.isoformat(),
                    "status_list": status.list_id,
                },
            )
        self._changed(serial, *(o.serial for o in superseded))
        return await self.get(serial)

    # --- the signing officers' queue ---------------------------------------------------------------------

    async def pending(self, caller: Caller, assessment_id: uuid.UUID | None = None) -> list[PendingDecision]:
        """Recommendations waiting for a decision, oldest first (or the one of ``assessment_id``)."""
        await policy.require(caller, policy.may_see_decisions(caller.principal), object_type="assessment")
        rows = [r for r in await assessments_repo.in_states([State.RECOMMENDED]) if assessment_id in (None, r.id)]
        out = []
        for row in rows:
            recommendation = await reviews_repo.latest_recommendation(row.id)
            revision = await assessments_repo.revision(row.id, row.revision)
            if recommendation is None or revision is None:
                continue
            people = await self.participants(row.id)
            names = await reviews_repo.names(people | {recommendation.recommended_by})
            findings = [f for f in await reviews_repo.findings(row.id) if f.revision == row.revision]
            verdict = policy.may_decide(caller.principal, row, people)
            out.append(
                PendingDecision(
                    assessment_id=row.id,
                    title=row.title,
                    provider=row.organisation_name,
                    revision=row.revision,
                    revision_sha256=revision.sha256,
                    catalog=f"{row.catalog_id} {row.catalog_version}",
                    recommendation=recommendation.decision,
                    level=recommendation.level,
                    rationale=recommendation.rationale,
                    conditions=recommendation.conditions,
                    reasons=recommendation.reasons,
                    recommended_by=names.get(recommendation.recommended_by, ""),
                    recommended_at=recommendation.at,
                    reviewers=sorted(names.get(p, "") for p in people),
                    findings={
                        v: sum(1 for f in findings if f.verdict == v) for v in sorted({f.verdict for f in findings})
                    },
                    may_decide=verdict.allowed,
                    refusal=verdict.reason,
                )
            )
        return sorted(out, key=lambda p: p.recommended_at)

    # --- reading ------------------------------------------------------------------------------------------

    async def _fresh(self, serial: str) -> AttestationRecord:
        """The attestation, expired first if its time has come (the first request after expiry records it)."""
        found = await repo.by_serial(serial)
        if found is None:
            raise NeverIssued(f"no attestation {serial} was ever issued", serial=serial)
        if found.status in (Lifecycle.ACTIVE, Lifecycle.SUSPENDED) and found.expires_at <= now():
            await self.expire_due()
            found = await repo.by_serial(serial)
            assert found is not None
        return found

    async def get(self, serial: str) -> AttestationOut:
        found = await self._fresh(serial)
        # Each event's date is the one its transparency log entry records: what a monitor replaying the log sees.
        history = await self.log.history(serial)
        return attestation_out(found, [EventOut(event=e, at=at, log_index=i) for i, e, at in history])

    async def certificate(self, serial: str) -> tuple[str, bytes]:
        found = await self._fresh(serial)
        return found.serial, await asyncio.to_thread(self.certificates.read, found.certificate_sha256)

    async def listing(self, caller: Caller, requested: uuid.UUID | None = None) -> list[AttestationSummary]:
        """Every attestation for regulators (or one organisation's, when asked); a provider's own otherwise."""
        organisation_id = policy.attestation_scope(caller.actor, requested)
        await policy.require(
            caller, policy.may_list_attestations(caller.principal, organisation_id), object_type="attestation"
        )
        await self.expire_due()
        today, moment = dt.date.today().isoformat(), now()

        def overdue(a: AttestationRecord) -> bool:
            late_suspension = a.status == Lifecycle.SUSPENDED and (a.suspended_until or moment) < moment
            late_condition = any(c["state"] == "open" and c["due_date"] < today for c in a.document["conditions"])
            return late_suspension or late_condition

        return [
            AttestationSummary(
                serial=a.serial,
                status=a.status,
                organisation_id=a.organisation,
                provider_name=a.document["provider"]["name"],
                level=a.level,
                valid_from=a.valid_from,
                expires_at=a.expires_at,
                overdue=overdue(a),
            )
            for a in await repo.listing(organisation_id=organisation_id)
        ]

    async def rejection(self, assessment_id: uuid.UUID) -> str | None:
        decision = await repo.decision(assessment_id)
        return decision.reason if decision is not None and decision.decision == "reject" else None

    # --- the lifecycle ------------------------------------------------------------------------------------

    async def _move(
        self,
        caller: Caller,
        row: AttestationRecord,
        target: Lifecycle,
        event: str,
        *,
        reason: str = "",
        detail: str = "",
        until: dt.datetime | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        """Inside a write transaction: the status, the status list entry, the log entry, the event and the audit
        row together."""
        at = now()
        if not await repo.move(row.serial, [row.status], target, at=at, values=values):
            raise Conflict(Message("attestation %(serial)s changed meanwhile; reload it", serial=row.serial))
        await self.status_lists.set_status(row.status_list, row.status_index, LIST_VALUE[target])
        principal = caller.principal
        actor = getattr(principal, "user_id", None)
        entry = attestation_log_entry(row.token, jti=row.serial, event=event, at=_epoch(at))
        if reason:
            entry["reason"] = reason
        if until is not None:
            entry["until"] = _epoch(until)
        if values and values.get("superseded_by"):
            entry["superseded_by"] = values["superseded_by"]
        appended = await self.log.append(entry)
        await registry_repo.refresh(row.serial)
        await repo.add_event(
            row.id,
            log_index=appended.index,
            serial=row.serial,
            event=event,
            status=target.value,
            reason=reason,
            detail=detail,
            until=until,
            actor=actor,
            at=at,
        )
        await record(
            caller,
            f"attestation.{event}",
            object_type="attestation",
            object_id=row.serial,
            before={"status": row.status},
            after={"status": target, "reason": reason or None, "until": until.isoformat() if until else None},
        )

    async def _managed(self, caller: Caller, serial: str) -> AttestationRecord:
        await policy.require(
            caller, policy.may_manage_attestation(caller.principal), object_type="attestation", object_id=serial
        )
        return await self._fresh(serial)

    async def suspend(self, caller: Caller, serial: str, data: SuspendIn) -> AttestationOut:
        row = await self._managed(caller, serial)
        until = data.until or now() + MAX_SUSPENSION
        if until.tzinfo is None:
            raise InvalidInput(
                "give the end of the suspension with a time zone, e.g. 2027-01-31T00:00:00Z", field="until"
            )
        if until <= now() or until > now() + MAX_SUSPENSION:
            raise InvalidInput("a suspension ends in the future and at most 180 days from now", field="until")
        if row.status != Lifecycle.ACTIVE:
            raise Conflict(
                Message(
                    "attestation %(serial)s is %(status)s; only an active attestation can be suspended",
                    serial=serial,
                    status=row.status,
                )
            )
        async with atomic():
            await self._move(
                caller,
                row,
                Lifecycle.SUSPENDED,
                "suspend",
                detail=data.reason,
                until=until,
                values={"suspended_until": until},
            )
        self._changed(serial)
        return await self.get(serial)

    async def reinstate(self, caller: Caller, serial: str, reason: str) -> AttestationOut:
        row = await self._managed(caller, serial)
        if row.status != Lifecycle.SUSPENDED:
            raise Conflict(
                Message(
                    "attestation %(serial)s is %(status)s; only a suspended attestation can be reinstated",
                    serial=serial,
                    status=row.status,
                )
            )
        async with atomic():
            await self._move(
                caller, row, Lifecycle.ACTIVE, "reinstate", detail=reason, values={"suspended_until": None}
            )
        self._changed(serial)
        return await self.get(serial)

    async def revoke(self, caller: Caller, serial: str, data: RevokeIn) -> AttestationOut:
        row = await self._managed(caller, serial)
        if row.status not in (Lifecycle.ACTIVE, Lifecycle.SUSPENDED):
            raise Conflict(
                Message(
                    "attestation %(serial)s is %(status)s; it can no longer be revoked",
                    serial=serial,
                    status=row.status,
                )
            )
        async with atomic():
            await self._move(caller, row, Lifecycle.REVOKED, "revoke", reason=data.reason.value, detail=data.detail)
        self._changed(serial)
        return await self.get(serial)

    async def condition_met(self, caller: Caller, serial: str, number: int, note: str) -> AttestationOut:
        row = await self._managed(caller, serial)
        conditions = row.document["conditions"]
        if not 1 <= number <= len(conditions):
            raise NotFound(Message("attestation %(serial)s has no condition %(number)s", serial=serial, number=number))
        if conditions[number - 1]["state"] == "met":
            raise Conflict(Message("condition %(number)s is already met", number=number))
        document = {
            **row.document,
            "conditions": [
                {**c, "state": "met", "met_at": now().date().isoformat(), "note": note} if i == number - 1 else c
                for i, c in enumerate(conditions)
            ],
        }
        async with atomic():
            await repo.set_document(serial, document, now())
            await registry_repo.refresh(serial)
            entry = attestation_log_entry(row.token, jti=serial, event="condition", at=_epoch(now()))
            appended = await self.log.append({**entry, "condition": number, "state": "met"})
            await repo.add_event(
                row.id,
                log_index=appended.index,
                serial=serial,
                event="condition",
                status=row.status,
                detail=f"{number}: {note}",
                actor=caller.actor.user_id,
                at=now(),
            )
            await record(
                caller,
                "attestation.condition_met",
                object_type="attestation",
                object_id=serial,
                after={"condition": number, "control_id": conditions[number - 1]["control_id"]},
            )
        return await self.get(serial)

    async def expire_due(self) -> int:
        """Record the expiry of every attestation whose time has come (idempotent; safe from any worker)."""
        from portal.domain.context import SYSTEM

        expired = 0
        for serial in await repo.due_to_expire(now()):
            row = await repo.by_serial(serial)
            if row is None or row.status not in (Lifecycle.ACTIVE, Lifecycle.SUSPENDED):
                continue
            try:
                async with atomic():
                    await self._move(SYSTEM, row, Lifecycle.EXPIRED, "expire")
                expired += 1
                self._changed(serial)
            except Conflict:
                continue  # another worker recorded it first
        return expired
