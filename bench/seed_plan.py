"""What ``bench.seed`` writes, decided for each attestation number on its own.

Every fact about attestation ``i`` — its serial, provider, dates, status, ids, status-list slot, claims and
document — is a pure function of ``(n, now, i)``: the random parts come from a keyed BLAKE2b of ``i``, not
from one random stream read in order. So any process can build any slice of the attestations, and the same N
and ``now`` give the same data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import uuid
from dataclasses import dataclass
from typing import Any

from attestations.status_list import MIN_SIZE, TokenStatus
from attestations.tokens import (
    Attestation,
    AttestationClaims,
    Catalog,
    Provider,
    Revision,
    Scope,
    Status,
    StatusListReference,
)

YEARS = 3
MIX = (("active", 0.80), ("suspended", 0.05), ("revoked", 0.06), ("expired", 0.05), ("superseded", 0.04))
LIST_VALUE = {
    "active": TokenStatus.VALID,
    "suspended": TokenStatus.SUSPENDED,
    "revoked": TokenStatus.INVALID,
    "expired": TokenStatus.INVALID,
    "superseded": TokenStatus.INVALID,
}
EVENT_OF = {"suspended": "suspend", "revoked": "revoke", "expired": "expire", "superseded": "supersede"}
CATEGORIES = ("telecom_operator", "cloud_hosting", "device_manufacturer", "software_producer", "digital_platform")
COUNTRIES = ("BH", "AE", "SA", "OM", "QA", "KW", "EG", "JO", "MA", "GB", "DE", "SG")
WORDS = (
    "Gulf", "Nimbus", "Falcon", "Pearl", "Delta", "Oasis", "Crescent", "Atlas", "Horizon", "Cedar", "Nile", "Zenith",
    "Harbor", "Summit", "Aurora", "Dune", "Coral", "Orbit", "Beacon", "Granite",
)  # fmt: skip
KINDS = ("Telecom", "Cloud", "Networks", "Devices", "Software", "Digital", "Systems", "Data")
FAMILIES = ("GOV", "IAM", "VUL", "CVD", "INC", "LOG", "SUP", "CRI", "PRV", "CON", "LAW", "PRD", "VUS", "HRI", "AWR")
RESULT = {f: {"controls": 3, "implemented": 3} for f in FAMILIES}  # one object shared by every document
REASONS = ("non_conformity", "provider_request", "misrepresentation", "scope_change", "other")
SUSPENSION = 90 * 86_400  # seconds a suspension lasts


def moment(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


@dataclass(frozen=True, slots=True)
class Fate:
    """One attestation's facts: everything but its token and the documents built from it."""

    number: int
    serial: str
    organisation: int  # index into Plan.organisations
    issued: int  # epoch seconds
    expires: int
    status: str
    changed: int | None  # epoch seconds of the change that gave it its status (None: active)
    superseded_by: str | None
    status_list: int
    status_index: int
    id: uuid.UUID
    assessment: uuid.UUID

    @property
    def change(self) -> str | None:
        """The log event of its later change, if it has one."""
        return None if self.changed is None else EVENT_OF[self.status]

    @property
    def reason(self) -> str:
        return REASONS[self.status_index % len(REASONS)]


class Plan:
    """The attestations of one seed: ``n`` of them issued over the ``YEARS`` before ``now``."""

    def __init__(self, n: int, now: int, issuer: str, catalog: dict[str, str]) -> None:
        if not 0 < n <= 2_999_997:
            raise ValueError("between 1 and 2,999,997 attestations (a serial numbers 999,999 a year)")
        self.n, self.now, self.issuer, self.catalog = n, now, issuer, catalog
        rng = random.Random(n)
        self.organisations = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(max(1, n // 10))]
        self.lists = -(-n // MIN_SIZE)
        self.orders = []  # status-list slot of each position: a shuffle, so an index says nothing of issue order
        for _ in range(self.lists):
            order = list(range(MIN_SIZE))
            rng.shuffle(order)
            self.orders.append(order)
        self.start = now - (YEARS * 365 - 60) * 86_400  # the oldest 3-year attestation still has 60 days
        self._key = f"bench.seed {n} {now}".encode()
        self._providers: dict[int, dict[str, str]] = {}
        self._first: dict[int, int] = {}  # year -> the number of its first attestation
        i = 0
        while i < n:
            year = moment(self.issued(i)).year
            self._first[year] = i
            i = self._last_of(year, i) + 1

    def _last_of(self, year: int, low: int) -> int:
        """The last number issued in ``year`` (binary search: issue times only grow)."""
        high = self.n - 1
        while low < high:
            middle = (low + high + 1) // 2
            if moment(self.issued(middle)).year == year:
                low = middle
            else:
                high = middle - 1
        return low

    def issued(self, i: int) -> int:
        return self.start + (self.now - 3_600 - self.start) * i // self.n

    def serial(self, i: int) -> str:
        year = moment(self.issued(i)).year
        return f"PA-{year:04d}-{i - self._first[year] + 1:06d}"

    def provider(self, org: int) -> dict[str, str]:
        """A provider's details: one dict per provider, shared by its documents (nothing changes them)."""
        known = self._providers.get(org)
        if known is not None:
            return known
        pick = random.Random(org)
        name = f"{pick.choice(WORDS)} {pick.choice(KINDS)} {org}"
        made = self._providers[org] = {
            "name": name,
            "legal_name": f"{name} W.L.L.",
            "category": CATEGORIES[org % len(CATEGORIES)],
            "country": COUNTRIES[org % len(COUNTRIES)],
            "registration": f"CR-{100000 + org}",
        }
        return made

    def fate(self, i: int) -> Fate:
        drawn = hashlib.blake2b(i.to_bytes(8, "big"), digest_size=48, key=self._key).digest()
        draw = int.from_bytes(drawn[:7], "big") / 2**56
        status = "active"
        for name, share in MIX:
            if draw < share:
                status = name
                break
            draw -= share
        issued = self.issued(i)
        expires = issued + (365 if status == "expired" else 1095) * 86_400
        if status == "expired" and expires >= self.now:
            status, expires = "active", issued + 1095 * 86_400
        successor = i + len(self.organisations)  # the same provider's next attestation supersedes this one
        if status == "superseded" and successor >= self.n:
            status = "active"
        changed, superseded_by = None, None
        if status == "expired":
            changed = expires
        elif status in ("suspended", "revoked"):
            span = max(1, min(expires, self.now) - issued - 3_600)
            changed = issued + 3_600 + int.from_bytes(drawn[8:16], "big") % span
        elif status == "superseded":
            changed, superseded_by = self.issued(successor), self.serial(successor)
        list_number, position = divmod(i, MIN_SIZE)
        return Fate(
            number=i,
            serial=self.serial(i),
            organisation=i % len(self.organisations),
            issued=issued,
            expires=expires,
            status=status,
            changed=changed,
            superseded_by=superseded_by,
            status_list=list_number + 1,
            status_index=self.orders[list_number][position],
            id=uuid.UUID(bytes=drawn[16:32], version=4),
            assessment=uuid.UUID(bytes=drawn[32:48], version=4),
        )

    def scope(self, fate: Fate) -> dict[str, Any]:
        """A provider's renewals cycle through three scopes."""
        variant = fate.number // len(self.organisations) % 3 + 1
        name = self.provider(fate.organisation)["name"]
        return {"summary": f"{name}: services in scope {variant}", "services": ["Core"]}

    def document(self, fate: Fate) -> dict[str, Any]:
        """``attestation.document``: what the token attests, as the portal stores it."""
        return {
            "provider": self.provider(fate.organisation),
            "scope": self.scope(fate),
            "catalog": {"id": self.catalog["catalog_id"], "version": self.catalog["version"],
                        "sha256": self.catalog["digest"]},
            "revision": {"number": 1, "sha256": hashlib.sha256(fate.serial.encode()).hexdigest()},
            "level": "full",
            "result": RESULT,
            "conditions": [],
        }  # fmt: skip

    def claims(self, fate: Fate, document: dict[str, Any]) -> AttestationClaims:
        provider, scope = document["provider"], document["scope"]
        uri = f"{self.issuer}/api/v1/status-lists/{fate.status_list}"
        return AttestationClaims(
            iss=self.issuer,
            sub=f"urn:portal:org:{self.organisations[fate.organisation]}",
            jti=fate.serial,
            iat=fate.issued,
            nbf=fate.issued,
            exp=fate.expires,
            status=Status(StatusListReference(idx=fate.status_index, uri=uri)),
            att=Attestation(
                provider=Provider(provider["name"], provider["category"], provider["country"],
                                  provider["registration"]),
                scope=Scope(scope["summary"], scope["services"], [], []),
                catalog=Catalog(**document["catalog"]),
                revision=Revision(**document["revision"]),
                level="full",
                result=document["result"],
                conditions=[],
            ),
        )  # fmt: skip
