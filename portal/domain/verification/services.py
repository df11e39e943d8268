"""Online verification: the offline verifier's checklist (``attestations.verify``) run with the portal's own JWKS,
status list and log, plus the registry's record of the serial.

Whatever is presented (a token, a certificate PDF, a serial), the verdict is valid only when every check passed,
none was skipped, and the registry holds exactly this token as active: a forged, altered, revoked, suspended,
expired or superseded attestation is never valid.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Literal

import msgspec

from attestations._jose import parse_compact
from attestations.certificate import extract_token
from attestations.errors import AttestationError, VerificationError
from attestations.keys import Keyring
from attestations.log_proof import LogProof
from attestations.policy import ExpectedIssuer
from attestations.verify import Check, verify_token
from portal.clock import now
from portal.db.reads import COMMITTED
from portal.domain.issuance import repo as issuance_repo
from portal.domain.issuance.lookup import StatusLookup
from portal.domain.issuance.rules import SERIAL_FORM as SERIAL
from portal.domain.issuance.schemas import AttestationOut
from portal.domain.issuance.services import IssuanceService
from portal.domain.issuance.states import Status
from portal.domain.keys.services import KeyService
from portal.domain.log.services import LogService
from portal.domain.status.services import StatusListService
from portal.domain.verification.schemas import TOKEN_MAX, CheckOut, VerifyOut
from portal.domain.verification.verdicts import Verdicts
from portal.errors import BadRequest, Message, NotFound

# The offline verifier's steps, in order; a step not reached (an earlier one failed) is listed as skipped.
STEPS = (
    "token format",
    "algorithm",
    "key id",
    "signature",
    "type",
    "claims",
    "issuer",
    "not before",
    "expiry",
    "status",
    "log inclusion",
)
REGISTRY = "registry record"
NEVER_ISSUED = "never-issued"


class VerificationService:
    def __init__(
        self,
        issuance: IssuanceService,
        keys: KeyService,
        status_lists: StatusListService,
        log: LogService,
        issuer: str,
        *,
        max_upload_bytes: int,
        lookup: StatusLookup | None = None,
        verdicts: Verdicts | None = None,
    ) -> None:
        self.issuance = issuance
        # The verify read model (verdicts.py), kept current by the status lookup's following of the log; without
        # a lookup every verdict is worked out afresh.
        self.lookup = lookup
        self.verdicts = verdicts if lookup is not None and verdicts is not None else None
        if self.lookup is not None and self.verdicts is not None:
            self.lookup.listeners.append(self.verdicts.changed)
        self.keys = keys
        self.status_lists = status_lists
        self.log = log
        self.issuer = issuer.rstrip("/")
        self.max_upload_bytes = max_upload_bytes
        self._keyring: tuple[dict[str, list[dict[str, str]]], Keyring] | None = None

    def keyring(self) -> Keyring:
        """The published keys, parsed again only when the JWKS (read afresh each time: another process may have
        rotated a key) has changed."""
        jwks = self.keys.jwks()
        if self._keyring is None or self._keyring[0] != jwks:
            self._keyring = (jwks, Keyring.from_jwks(jwks))
        return self._keyring[1]

    async def certificate(self, pdf: bytes) -> VerifyOut:
        """A certificate PDF: the token attached to it, checked online (the attached proof is not needed)."""
        if not pdf.startswith(b"%PDF-"):
            raise BadRequest("the file is not a PDF; upload the certificate PDF", field="file")
        try:
            token = await asyncio.to_thread(extract_token, pdf)
        except AttestationError as exc:
            raise BadRequest(f"the PDF is not a certificate of this portal: {exc}", field="file") from exc
        return await self.token(token, source="certificate")

    async def serial(self, serial: str) -> VerifyOut:
        """A serial: the token the registry issued under it, checked like any other."""
        serial = serial.strip()
        if not SERIAL.fullmatch(serial):
            raise BadRequest("a serial looks like PA-2026-000123", field="serial")
        record = await issuance_repo.by_serial(serial)
        if record is None:
            check = CheckOut(
                step=1,
                name=REGISTRY,
                passed=False,
                outcome="failed",
                detail=f"no attestation {serial} was ever issued by this registry",
            )
            return VerifyOut(valid=False, serial=serial, status=NEVER_ISSUED, checks=[check], source="serial")
        return await self.token(record.token, source="serial")

    async def token(self, token: str, *, source: Literal["token", "serial", "certificate"] = "token") -> VerifyOut:
        token = token.strip()
        if len(token) > TOKEN_MAX:  # however it came, a PDF's attachment too: nothing longer is parsed
            words = Message("a token is at most %(most)s characters; this one has %(has)s", most=f"{TOKEN_MAX:,}",
                            has=f"{len(token):,}")  # fmt: skip
            raise BadRequest(words, field="token")
        generation = -1
        if self.lookup is not None and self.verdicts is not None:
            await self.lookup.fresh()  # the staleness bound: the log's head confirmed within max_staleness
            known = self.verdicts.get(token)
            if known is not None:
                return known if known.source == source else msgspec.structs.replace(known, source=source)
            generation = self.verdicts.generation
        try:
            presented = parse_compact(token)
        except AttestationError as exc:
            raise BadRequest(f"this is not an attestation token (a compact JWS): {exc}", field="token") from exc
        try:
            decoded = msgspec.json.decode(presented.payload)
        except (msgspec.DecodeError, RecursionError):
            decoded = None  # the claims check reports it
        claimed = decoded if isinstance(decoded, dict) else {}
        serial = claimed.get("jti") if isinstance(claimed.get("jti"), str) else None
        status, registry, expires_at = await self._registry(token, serial)  # first: it records an expiry due
        status_list, proof = await self._evidence(claimed, serial)
        keyring = self.keyring()
        try:
            result = verify_token(
                token,
                keyring,
                issuer=ExpectedIssuer(self.issuer),
                status_list_token=status_list,
                log_proof=proof,
            )
        except VerificationError as exc:
            result = exc.result
        except (AttestationError, RecursionError, OverflowError, ValueError) as exc:
            raise BadRequest(f"the token cannot be verified: {exc.__class__.__name__}: {exc}", field="token") from exc
        checks = list(result.checks)
        reached = {c.name for c in checks}
        checks += [
            Check(name, "skipped", "not checked: an earlier check failed") for name in STEPS if name not in reached
        ]
        checks.append(registry)
        out = [
            CheckOut(step=n, name=c.name, passed=c.status == "passed", outcome=c.status, detail=c.detail)
            for n, c in enumerate(checks, start=1)
        ]
        valid = all(c.outcome == "passed" for c in out) and status == "active"
        verdict = VerifyOut(valid=valid, serial=serial, status=status, checks=out, source=source)
        if valid and self.verdicts is not None and serial is not None and result.claims is not None:
            until = min(float(result.claims.exp), expires_at.timestamp() if expires_at else 0.0)
            self.verdicts.put(serial, token, verdict, until=until, generation=generation)
        return verdict

    async def _evidence(self, claimed: dict[str, object], serial: str | None) -> tuple[str | None, LogProof | None]:
        """The portal's current signed status list for the token's entry, and the log proof of its serial."""
        status_list: str | None = None
        reference = claimed.get("status")
        entry = reference.get("status_list") if isinstance(reference, dict) else None
        uri = entry.get("uri") if isinstance(entry, dict) else None
        prefix = f"{self.issuer}/api/v1/status-lists/"
        if (
            isinstance(uri, str)
            and uri.startswith(prefix)
            and uri.removeprefix(prefix).isascii()
            and uri.removeprefix(prefix).isdigit()
        ):
            list_id = int(uri.removeprefix(prefix))
            if 1 <= list_id < 2**31:
                try:
                    status_list = (await self.status_lists.signed(list_id)).token
                except NotFound:
                    status_list = None
        proof: LogProof | None = None
        if serial is not None and SERIAL.fullmatch(serial):
            try:
                proof = await self.log.proof(serial)
            except NotFound:
                proof = None
        return status_list, proof

    async def _registry(self, token: str, serial: str | None) -> tuple[str, Check, dt.datetime | None]:
        """The registry's current status for the serial, whether it issued exactly this token, and when the
        registry's record expires."""
        if serial is None or not SERIAL.fullmatch(serial):
            return NEVER_ISSUED, Check(REGISTRY, "failed", "the token names no serial of this registry"), None
        current: issuance_repo.RegistryRow | AttestationOut | None = await issuance_repo.registry_row(COMMITTED, serial)
        if current is not None and current.status in (Status.ACTIVE, Status.SUSPENDED) and current.expires_at <= now():
            current = await self.issuance.get(serial)  # an expiry due: recorded first, then read again
        if current is None:
            never = f"no attestation {serial} was ever issued by this registry"
            return NEVER_ISSUED, Check(REGISTRY, "failed", never), None
        if token != current.token:
            different = f"{serial} exists, but the registry issued a different token under it"
            return current.status, Check(REGISTRY, "failed", different), current.expires_at
        if current.status != "active":
            detail = f"{serial} is {current.status}"
            if current.superseded_by:
                detail += f", replaced by {current.superseded_by}"
            return current.status, Check(REGISTRY, "failed", detail), current.expires_at
        active = f"{serial} is active, valid until {current.expires_at:%Y-%m-%d}"
        return current.status, Check(REGISTRY, "passed", active), current.expires_at
