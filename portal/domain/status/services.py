"""Token status lists (IETF draft): every attestation holds a random index in a signed list of 2-bit statuses.

Handing out an index and changing a status happen inside the caller's write transaction (the attestation's
issue, suspension, revocation), under a lock, so they commit or roll back with it. The signed list is cached
per version: a change bumps the version, and the next request signs the new state.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from attestations.keys import KeyPurpose
from attestations.status_list import MIN_SIZE, StatusList, TokenStatus, sign_status_list
from portal.clock import now
from portal.db import lock
from portal.domain.keys.services import KeyService
from portal.domain.status import repo
from portal.errors import NotFound

TOKEN_LIFETIME = 24 * 3600  # a signed list is valid a day; it is re-signed long before it expires
REFRESH_AFTER = 3600
TTL = 60  # what a verifier may cache it for; the portal itself never serves a list older than 1 s


class StatusRef:
    __slots__ = ("index", "list_id", "uri")

    def __init__(self, list_id: int, index: int, uri: str) -> None:
        self.list_id, self.index, self.uri = list_id, index, uri


class SignedList:
    __slots__ = ("etag", "signed_at", "token", "version")

    def __init__(self, token: str, version: int, signed_at: float) -> None:
        self.token, self.version, self.signed_at = token, version, signed_at
        self.etag = '"' + hashlib.sha256(token.encode()).hexdigest()[:32] + '"'


class StatusListService:
    def __init__(self, keys: KeyService, issuer: str, *, size: int = MIN_SIZE) -> None:
        self.keys = keys
        self.issuer = issuer.rstrip("/")
        self.size = size
        self._signed: dict[int, SignedList] = {}

    def uri(self, list_id: int) -> str:
        return f"{self.issuer}/api/v1/status-lists/{list_id}"

    def changed(self, serial: str | None) -> None:
        """Told by the status lookup of what the log says changed: ``None`` (a key rotation among others) drops
        every signed list kept, so the next answer is signed by the key active now, not a retired one."""
        if serial is None:
            self._signed.clear()

    async def allocate(self, serial: str) -> StatusRef:
        """A random index never handed out before, in the newest list with room (a new list when it is full).

        Call inside a write transaction.
        """
        await lock("status-lists")
        current = await repo.open_list()
        if current is None:
            list_id = await repo.create(bits=2, size=self.size, data=StatusList(self.size, 2).to_bytes(), at=now())
            allocated, size = 0, self.size
        else:
            list_id, allocated, size = current.id, current.allocated, current.size
        draw = secrets.SystemRandom()
        if (size - allocated) * 4 >= size:
            while True:  # mostly empty: fewer than 4 draws on average
                index = draw.randrange(size)
                if not await repo.index_taken(list_id, index):
                    break
        else:
            taken = await repo.taken_indexes(list_id)
            index = draw.choice([i for i in range(size) if i not in taken])
        await repo.hand_out(list_id, index, serial, now())
        return StatusRef(list_id, index, self.uri(list_id))

    async def set_status(self, list_id: int, index: int, status: TokenStatus) -> None:
        """Change one entry. Call inside the write transaction of the change it records."""
        await lock(f"status-list:{list_id}")
        current = await repo.get(list_id)
        if current is None:
            raise NotFound(f"there is no status list {list_id}")
        entries = StatusList(current.size, current.bits, data=current.data)
        entries.set(index, int(status))
        await repo.write_data(list_id, entries.to_bytes(), now())

    async def status(self, list_id: int, index: int) -> TokenStatus:
        current = await repo.get(list_id)
        if current is None:
            raise NotFound(f"there is no status list {list_id}")
        return TokenStatus(StatusList(current.size, current.bits, data=current.data).get(index))

    async def signed(self, list_id: int) -> SignedList:
        """The signed ``statuslist+jwt`` of the list's current version (cached until it changes or ages)."""
        version = await repo.version(list_id)
        if version is None:
            raise NotFound(f"there is no status list {list_id}", list_id=list_id)
        cached = self._signed.get(list_id)
        if cached is not None and cached.version == version and time.time() - cached.signed_at < REFRESH_AFTER:
            return cached
        current = await repo.get(list_id)
        assert current is not None
        issued = int(time.time())
        token = sign_status_list(
            StatusList(current.size, current.bits, data=current.data),
            self.keys.signing_key(KeyPurpose.STATUS),
            uri=self.uri(list_id),
            iat=issued,
            exp=issued + TOKEN_LIFETIME,
            ttl=TTL,
            iss=self.issuer,
        )
        self._signed[list_id] = SignedList(token, current.version, issued)
        return self._signed[list_id]
