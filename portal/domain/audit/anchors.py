"""Audit anchors: the audit chain's head appended to the transparency log every M events or N minutes.

The chain alone shows an edited or deleted row but not rows cut from its end. An ``audit-anchor`` entry
``{"event": "audit-anchor", "seq", "head", "at"}`` puts the hash of event ``seq`` in the public log, where
nobody can take it back; ``portal audit verify`` then fails when the trail ends before an anchored event or
that event's hash differs.

The anchor is written inside the audited transaction of the event that makes it due, right after that
event's row, so it costs that one request a log append (one checkpoint signature, a few milliseconds) and
adds no way for it to fail that issuance does not already have. Deciding whether an anchor is due costs
nothing on the other requests: this process remembers the last anchor and the head it last saw, and looks
at the log only when its memory says one may be due (another worker may have anchored meanwhile). When it
looks, it takes the log's lock before the trail's, the order issuance takes them in, so the two never wait
on each other in a cycle.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from portal.clock import now
from portal.domain.log import repo as log_repo

if TYPE_CHECKING:
    from portal.domain.log.services import LogService


class AuditAnchors:
    def __init__(self, log: LogService, *, events: int, minutes: float) -> None:
        self.log = log
        self.events = events
        self.minutes = minutes
        self.forget()

    def forget(self) -> None:
        """Drop what this process knows; the next audited event looks at the log."""
        self._checked = False
        self._anchor: tuple[int, dt.datetime] | None = None  # (seq, at) of the last anchor known
        self._head = 0  # the last event seq this process wrote
        self._since = now()  # with no anchor yet, minutes count from this process's start

    def _due(self, seq: int, at: dt.datetime) -> bool:
        base_seq, base_at = self._anchor or (0, self._since)
        return seq > base_seq and (seq - base_seq >= self.events or at - base_at >= dt.timedelta(minutes=self.minutes))

    def may_be_due(self, at: dt.datetime) -> bool:
        """From memory only: whether the next event might make an anchor due (then take the log's lock first)."""
        return not self._checked or self._due(self._head + 1, at)

    async def after(self, seq: int, head: str, at: dt.datetime, *, looked: bool) -> None:
        """Inside the audited transaction, after event ``seq`` (hash ``head``) is written."""
        self._head = max(self._head, seq)
        if not looked:
            return
        latest = await log_repo.latest_of("audit-anchor")
        self._checked = True
        if latest is not None:
            self._anchor = (int(latest["seq"]), dt.datetime.fromtimestamp(int(latest["at"]), dt.UTC))
        if self._due(seq, at):
            await self.log.append({"event": "audit-anchor", "seq": seq, "head": head, "at": int(at.timestamp())})
            self._anchor = (seq, at)
