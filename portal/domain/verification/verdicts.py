"""The verify read model: each worker keeps the valid verdicts of genuine tokens, so a wallet or a procurement
system that verifies the same attestation on every use costs one dictionary lookup, not six queries and three
signature checks.

What is cached: per serial, the token the registry issued under it and the verdict on it, only when the
verdict was valid (every check passed and the registry holds that very token as active), looked up by the
token's exact text. A forged or altered token differs from every cached one, so it always takes the full
checklist; one token per serial and at most ``max_entries`` of them are held (the oldest go first).

What it depends on, and how a change reaches it: a verdict is made of the token, the registry's record, the
signed status list, the log proof and the JWKS. Every change to any of them appends a transparency-log entry
(a status change names the serial; a key rotation or revocation is a ``key`` entry), and the worker's
:class:`StatusLookup` follows the log's head: it forgets a serial here when an entry names it, and everything
when a ``key`` entry appears or the head moves back. So the staleness bound is the status lookup's: an entry
is used only while the last confirmation of the head is at most ``max_staleness`` old.

Time: an entry is used only before the token's ``exp`` and the registry's ``expires_at``; after that the
full checklist runs again (and records the expiry).
"""

from __future__ import annotations

from portal.clock import now
from portal.domain.verification.schemas import VerifyOut


class _Entry:
    __slots__ = ("serial", "until", "verdict")

    def __init__(self, serial: str, verdict: VerifyOut, until: float) -> None:
        self.serial, self.verdict, self.until = serial, verdict, until


class Verdicts:
    def __init__(self, *, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self._entries: dict[str, _Entry] = {}  # by the token itself: a hit needs no parsing
        self._tokens: dict[str, str] = {}  # serial -> its cached token
        self.generation = 0  # moves on whenever anything is forgotten, so a slow check never stores old news

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token: str) -> VerifyOut | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        if now().timestamp() >= entry.until:
            self._drop(entry.serial)
            return None
        return entry.verdict

    def put(self, serial: str, token: str, verdict: VerifyOut, *, until: float, generation: int) -> None:
        """Keep a valid verdict, unless something was forgotten since its checks began (``generation``)."""
        if not verdict.valid or generation != self.generation or self.max_entries <= 0:
            return
        self._drop(serial)
        if len(self._entries) >= self.max_entries:
            self._drop(next(iter(self._entries.values())).serial)
        self._entries[token] = _Entry(serial, verdict, until)
        self._tokens[serial] = token

    def _drop(self, serial: str) -> None:
        token = self._tokens.pop(serial, None)
        if token is not None:
            self._entries.pop(token, None)

    def changed(self, serial: str | None) -> None:
        """The log named ``serial`` (or, with ``None``, something every verdict depends on) as changed."""
        if serial is None:
            self._entries.clear()
            self._tokens.clear()
        else:
            self._drop(serial)
        self.generation += 1
