"""The public status read model: ``GET /api/v1/attestations/{serial}/status`` without touching the ORM.

What is cached where: each worker process keeps, per serial asked for, the answer's bytes already encoded
(everything but ``checked_at``), or the fact that the serial was never issued; at most ``max_entries`` of
them (the oldest go first). A miss is one indexed ``SELECT`` through ``portal.db.reads``.

How workers learn of a change: every status change (issue, suspend, reinstate, revoke, expire, supersede)
appends a transparency-log entry naming the serial in the transaction of the change, under the log's lock,
so log indexes become visible in commit order. Each worker follows the log's head (index and leaf hash)
every ``poll_seconds`` and forgets the serials of the new entries; a head that moved backwards or changed
its hash, or an entry at the old head's index that no longer has the old head's hash (a restored database,
whether or not it has grown past the old head since), or a ``key`` entry (a rotation, which the verify read
model depends on), forgets everything. ``listeners`` (the verify read model) are told of each serial
forgotten. The worker that made a change forgets it at once, after its commit. Nothing else is needed to
share: the database every worker already uses is the channel.

How staleness is bounded: an answer is served from the cache only while the last confirmation of the log's
head is at most ``max_staleness`` seconds old, counted from the moment before the head was read; past that,
the request itself confirms it first. ``checked_at`` is that moment, so a reader sees how old the answer may
be: every change committed before ``checked_at`` is in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import time
from collections.abc import Awaitable, Callable

import msgspec

from portal.clock import now
from portal.db.reads import Reader
from portal.domain.issuance import repo, rules
from portal.domain.issuance.schemas import StatusOut
from portal.domain.issuance.states import Status
from portal.domain.log import repo as log_repo
from portal.errors import BadRequest, NeverIssued

# RFC 3339 date-time: a full date, a time, and an offset (Z or ±hh:mm); fromisoformat alone accepts more.
RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_MARK = dt.datetime(1, 1, 1, tzinfo=dt.UTC)  # stands for checked_at in the pre-encoded answer
_MARK_BYTES = msgspec.json.encode(_MARK)[1:-1]
_FORGET_ALL_AFTER = 10_000  # more changed serials than this in one poll: forget everything instead


class _Answer:
    __slots__ = ("expires_at", "head", "live", "tail")

    def __init__(self, row: repo.StatusRow, serial: str) -> None:
        body = StatusOut(
            serial=serial,
            status=row.status,
            expires_at=row.expires_at,
            checked_at=_MARK,
            superseded_by=row.superseded_by if row.status == Status.SUPERSEDED else None,
        )
        self.head, self.tail = msgspec.json.encode(body).split(_MARK_BYTES, 1)
        self.expires_at = row.expires_at
        self.live = row.status in (Status.ACTIVE, Status.SUSPENDED)

    def due(self) -> bool:
        """Active or suspended past its expiry: the expiry is to be recorded before anyone is answered."""
        return self.live and self.expires_at <= now()


_NEVER = object()  # cached: this serial was never issued


def parse_instant(value: str) -> dt.datetime:
    if not RFC3339.fullmatch(value):
        raise BadRequest("at is an RFC 3339 date-time with an offset, e.g. 2026-03-01T12:00:00Z", field="at")
    try:
        return dt.datetime.fromisoformat(value.upper().replace(" ", "T"))
    except ValueError:
        raise BadRequest("at is not a valid date-time", field="at") from None


class StatusLookup:
    def __init__(
        self,
        reader: Reader,
        expire_due: Callable[[], Awaitable[object]],
        *,
        max_entries: int = 200_000,
        max_staleness: float = 0.5,
        poll_seconds: float = 0.2,
    ) -> None:
        self.reader = reader
        self.expire_due = expire_due  # records the expiry of what is due (IssuanceService.expire_due)
        self.max_entries = max_entries
        self.max_staleness = max_staleness
        self.poll_seconds = poll_seconds
        self._answers: dict[str, _Answer | object] = {}
        self._head: tuple[int, str] | None = None  # the log head last confirmed; None: not yet known
        self._confirmed = -float("inf")  # time.monotonic() of the last confirmation
        self._checked_at = b""
        self._generation = 0  # moves on whenever anything is forgotten, so a slow miss never stores old news
        self._confirming: asyncio.Task[None] | None = None
        self._poller: asyncio.Task[None] | None = None
        # Other read models of this worker told of the same changes: a serial, or None for everything.
        self.listeners: list[Callable[[str | None], None]] = []

    # --- following the log ----------------------------------------------------------------------------------

    async def _confirm(self) -> None:
        # Stamped before the head is read: whatever commits after this moment may be missed by this confirmation,
        # so the staleness bound and checked_at count from here, not from when the reads came back.
        confirmed, checked_at = time.monotonic(), now().replace(microsecond=0)
        head = await log_repo.head(self.reader)
        known = self._head
        if known != head:
            if known is None or head[0] <= known[0] or await log_repo.leaf_hash(self.reader, known[0]) != known[1]:
                self.forget_all()  # first sight, or another history (a restored database, grown or not)
            else:
                found = await log_repo.changes_between(self.reader, known[0], head[0], _FORGET_ALL_AFTER)
                if found is None or found[1]:  # too many to forget one by one, or a key entry
                    self.forget_all()
                else:
                    for serial in found[0]:
                        self.forget(serial)
            self._head = head
        self._confirmed = confirmed
        self._checked_at = msgspec.json.encode(checked_at)[1:-1]

    async def confirm(self) -> None:
        """Confirm the cache against the log's head (one query at a time, however many requests wait)."""
        if self._confirming is None or self._confirming.done():
            self._confirming = asyncio.ensure_future(self._confirm())
        await asyncio.shield(self._confirming)

    async def _follow(self) -> None:
        while True:
            with contextlib.suppress(Exception):  # a database hiccup: the staleness bound still holds per request
                await self.confirm()
            await asyncio.sleep(self.poll_seconds)

    def start(self) -> None:
        """Follow the log in the background (the app's lifespan: one follower per worker)."""
        if self._poller is None:
            self._poller = asyncio.ensure_future(self._follow())

    async def stop(self) -> None:
        """Stop following the log, and end a confirmation still under way before the reader closes (left
        running, it would fail on the closing pool with nobody to hear it)."""
        for task in (self._poller, self._confirming):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._poller = self._confirming = None
        self.reader.close()

    def forget(self, serial: str) -> None:
        self._answers.pop(serial, None)
        self._generation += 1
        for listener in self.listeners:
            listener(serial)

    def forget_all(self) -> None:
        self._answers.clear()
        self._generation += 1
        for listener in self.listeners:
            listener(None)

    def _stale(self) -> bool:
        return time.monotonic() - self._confirmed > self.max_staleness

    async def fresh(self) -> None:
        """Confirm the log's head first when the last confirmation is older than ``max_staleness``."""
        if self._stale():
            await self.confirm()

    # --- answering ------------------------------------------------------------------------------------------

    def kept(self, serial: str) -> bytes | None:
        """The answer for ``serial`` when it can be given with no await at all: kept, within the staleness
        bound, and not an expiry still to record; else None (:meth:`current` answers it)."""
        answer = None if self._stale() else self._answers.get(serial)
        if not isinstance(answer, _Answer) or answer.due():
            return None
        return answer.head + self._checked_at + answer.tail

    async def _answer(self, serial: str) -> _Answer | object:
        found = self._answers.get(serial)
        if found is not None:
            return found
        generation = self._generation
        row = await repo.status_row(self.reader, serial)
        answer = _NEVER if row is None else _Answer(row, serial)
        if generation == self._generation and self.max_entries > 0:
            if len(self._answers) >= self.max_entries:
                del self._answers[next(iter(self._answers))]
            self._answers[serial] = answer
        return answer

    async def current(self, serial: str) -> bytes:
        """The JSON of :class:`StatusOut` for ``serial`` now; raises :class:`NeverIssued`."""
        await self.fresh()
        answer = await self._answer(serial)
        if answer is _NEVER:
            raise NeverIssued(f"no attestation {serial} was ever issued", serial=serial)
        assert isinstance(answer, _Answer)
        if answer.due():
            await self.expire_due()  # the first request after expiry records it (an `expire` log entry)
            self.forget(serial)
            return await self.current(serial)
        return answer.head + self._checked_at + answer.tail

    async def at(self, serial: str, instant: dt.datetime) -> StatusOut:
        """The status at ``instant``, from the attestation's event history (never cached)."""
        found = await repo.by_serial(serial)
        if found is None:
            raise NeverIssued(f"no attestation {serial} was ever issued", serial=serial)
        events = [(e.at, e.status) for e in await repo.events(serial)]
        then = rules.status_at(events, instant, expires_at=found.expires_at, superseded_by=found.superseded_by)
        if not then.issued:
            raise NeverIssued(
                f"{serial} was not yet issued at {instant.isoformat()}; it was issued at "
                f"{found.valid_from.isoformat()}",
                serial=serial,
                valid_from=found.valid_from.isoformat(),
            )
        return StatusOut(
            serial=serial,
            status=Status(then.status),
            expires_at=found.expires_at,
            checked_at=now().replace(microsecond=0),
            superseded_by=then.superseded_by,
        )
