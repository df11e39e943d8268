"""Signing keys: one active Ed25519 key per purpose (attestation, status, log), rotated on demand, every key
ever used published in the JWKS. Private keys live encrypted under ``PORTAL_DATA_DIR/keys``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attestations.keys import KeyPurpose, SigningKey
from attestations.keystore import KeyStore, Rotation
from portal.db import atomic
from portal.domain.accounts.services import AccountService
from portal.domain.audit.services import record
from portal.domain.context import Caller
from portal.domain.keys.schemas import KeyOut, RotationOut
from portal.security import policy

if TYPE_CHECKING:
    from portal.domain.log.services import LogService


class KeyService:
    """The key store, shared by every worker: rotations are serialised by a file lock beside the keys."""

    def __init__(self, directory: Path, passphrase: bytes, accounts: AccountService) -> None:
        self.store = KeyStore(directory, passphrase)
        self.accounts = accounts
        self.directory = directory
        self._decrypted: dict[str, SigningKey] = {}
        self.log: LogService | None = None  # set by build_runtime: rotations are appended to the log

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with (self.directory / ".lock").open("a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def signing_key(self, purpose: KeyPurpose) -> SigningKey:
        """The active key for ``purpose`` (the first one is created on first use). A retired key never signs."""
        with self._locked():
            if not any(r.purpose == purpose and r.active for r in self.store.records()):
                self.store.rotate(purpose)
            active = self.store.active_record(purpose)
        # Decrypting is slow on purpose; the manifest (read each time) says which key is active now.
        if active.kid not in self._decrypted:
            self._decrypted[active.kid] = self.store.key(active.kid)
        return self._decrypted[active.kid]

    def ensure_all(self) -> None:
        """Every purpose has an active key (run at migrate, so the JWKS is complete before anything signs)."""
        for purpose in KeyPurpose:
            self.signing_key(purpose)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """Every key ever used; a key of each purpose exists before the JWKS is read, so none is published late."""
        if {r.purpose for r in self.store.records() if r.active} != set(KeyPurpose):
            self.ensure_all()
        return self.store.public_jwks()

    def keys(self) -> list[KeyOut]:
        return [
            KeyOut(kid=r.kid, purpose=r.purpose, created_at=r.created_at, retired_at=r.retired_at)
            for r in self.store.records()
        ]

    async def rotate(self, caller: Caller, purpose: KeyPurpose, totp: str | None = None) -> RotationOut:
        """Retire the active key of ``purpose`` and make a new one; the old one stays in the JWKS.

        A regulator admin confirms with a fresh one-time code; the operator's own command needs none.
        """
        await policy.require(caller, policy.may_rotate_keys(caller.principal), object_type="key")
        if not caller.is_system:
            await self.accounts.confirm_second_factor(caller, totp)

        def rotate_locked() -> Rotation:
            with self._locked():
                return self.store.rotate(purpose)

        await self.log_unlogged()  # the key being retired is in the log before its successor
        rotation = await asyncio.to_thread(rotate_locked)
        async with atomic():
            # The log's lock before the trail's, the order every other writer takes them in.
            if self.log is not None:
                await self.log.append(self._key_entry(rotation))
            await record(
                caller,
                "key.rotated",
                object_type="key",
                object_id=rotation.new_kid,
                before={"kid": rotation.retired_kid},
                after={"purpose": rotation.purpose.value, "kid": rotation.new_kid},
            )
        return RotationOut(
            purpose=rotation.purpose, new_kid=rotation.new_kid, retired_kid=rotation.retired_kid, at=rotation.at
        )

    async def log_unlogged(self) -> int:
        """Append a `key` entry for every key in the store the log does not name yet (the first key of each
        purpose, made at ``portal migrate`` or on first use), oldest first; returns how many.

        Runs at ``portal migrate``, when a worker starts and before a rotation's own entry. Under the log's
        lock, so workers starting together write each entry once.
        """
        if self.log is None:
            return 0
        self.ensure_all()
        appended = 0
        async with atomic():
            await self.log.lock()
            logged = await self.log.logged_kids()
            previous: dict[str, str] = {}
            for record in self.store.records():
                if record.kid not in logged:
                    retired = previous.get(record.purpose.value)
                    rotation = Rotation(
                        purpose=record.purpose, new_kid=record.kid, retired_kid=retired, at=record.created_at
                    )
                    await self.log.append(self._key_entry(rotation))
                    appended += 1
                previous[record.purpose.value] = record.kid
        return appended

    def _key_entry(self, rotation: Rotation) -> dict[str, Any]:
        """The log's `key` entry: the new key id and its public JWK, so a key's history is public."""
        jwk = next(k for k in self.jwks()["keys"] if k.get("kid") == rotation.new_kid)
        entry: dict[str, Any] = {
            "event": "key",
            "kid": rotation.new_kid,
            "purpose": rotation.purpose.value,
            "jwk": jwk,
            "at": int(rotation.at.timestamp()),
        }
        if rotation.retired_kid:
            entry["retired_kid"] = rotation.retired_kid
        return entry


def key_passphrase(settings: Any) -> bytes:
    """``PORTAL_KEY_PASSPHRASE`` when set, else a key derived from ``PORTAL_SECRET_KEY`` for this purpose only."""
    from portal.security.sealed import derive_key

    if settings.key_passphrase:
        return str(settings.key_passphrase).encode()
    return derive_key(settings.secret_key, "key-store").hex().encode()
