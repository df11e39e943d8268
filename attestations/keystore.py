"""A file-based key store: encrypted PEM files plus a JSON manifest of active and retired keys.

Layout of the directory::

    manifest.json          {"version": 1, "keys": [KeyRecord, ...]}
    <kid>.pem              PKCS#8 PEM, encrypted with the store passphrase, mode 0600

One key per purpose is active; rotating a purpose retires its active key (it stays in the manifest and in
the JWKS, so what it signed still verifies) and makes a new one active. Files are written atomically.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from attestations.errors import InvalidInput, KeyNotFound, KeyStoreError
from attestations.keys import (
    PURPOSE_MEMBER,
    KeyPurpose,
    SigningKey,
    encrypt_private_key,
    generate_key,
    jwks,
    load_private_key,
    public_jwk,
)

MANIFEST = "manifest.json"


class KeyRecord(msgspec.Struct, frozen=True):
    """One key in the manifest. ``retired_at`` is ``None`` while the key is active."""

    kid: str
    purpose: KeyPurpose
    created_at: datetime
    public_jwk: dict[str, str]
    retired_at: datetime | None = None

    @property
    def active(self) -> bool:
        """True until the key is retired."""
        return self.retired_at is None


class _Manifest(msgspec.Struct):
    version: int = 1
    keys: list[KeyRecord] = msgspec.field(default_factory=list)


class Rotation(msgspec.Struct, frozen=True):
    """What a rotation did: the new active key and the key it retired (if there was one)."""

    purpose: KeyPurpose
    new_kid: str
    retired_kid: str | None
    at: datetime


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class KeyStore:
    """Keys for every purpose under one directory, opened with one passphrase."""

    def __init__(self, directory: Path | str, passphrase: bytes) -> None:
        if not passphrase:
            raise InvalidInput("the key store needs a non-empty passphrase")
        self.directory = Path(directory)
        self._passphrase = passphrase

    # -- manifest -----------------------------------------------------------------------------------

    def _manifest_path(self) -> Path:
        return self.directory / MANIFEST

    def _read(self) -> _Manifest:
        path = self._manifest_path()
        if not path.exists():
            return _Manifest()
        try:
            return msgspec.json.decode(path.read_bytes(), type=_Manifest)
        except msgspec.ValidationError as exc:
            raise KeyStoreError(f"{path} is not a valid key manifest: {exc}") from exc
        except msgspec.DecodeError as exc:
            raise KeyStoreError(f"{path} is not JSON: {exc}") from exc

    def _write(self, manifest: _Manifest) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        _atomic_write(self._manifest_path(), msgspec.json.format(msgspec.json.encode(manifest)), 0o644)

    def records(self) -> list[KeyRecord]:
        """Every key ever created, active and retired, oldest first."""
        return list(self._read().keys)

    # -- keys ---------------------------------------------------------------------------------------

    def _load(self, record: KeyRecord) -> SigningKey:
        path = self.directory / f"{record.kid}.pem"
        try:
            pem = path.read_bytes()
        except FileNotFoundError:
            raise KeyStoreError(f"the key file {path} is missing") from None
        try:
            key = load_private_key(pem, self._passphrase, record.purpose, created_at=record.created_at)
        except InvalidInput as exc:
            raise KeyStoreError(f"{path}: {exc}") from exc
        if key.kid != record.kid:
            raise KeyStoreError(f"{path} holds key {key.kid}, the manifest says {record.kid}")
        return key

    def active_record(self, purpose: KeyPurpose) -> KeyRecord:
        """The manifest entry of the active key for ``purpose``."""
        for record in self._read().keys:
            if record.purpose == purpose and record.active:
                return record
        raise KeyNotFound(f"no active {KeyPurpose(purpose).value} key in {self.directory}")

    def active(self, purpose: KeyPurpose) -> SigningKey:
        """The active private key for ``purpose`` (decrypted); :class:`KeyNotFound` if there is none."""
        return self._load(self.active_record(purpose))

    def key(self, kid: str) -> SigningKey:
        """Any key, active or retired, by ``kid``."""
        for record in self._read().keys:
            if record.kid == kid:
                return self._load(record)
        raise KeyNotFound(f"no key with kid {kid!r} in {self.directory}")

    def ensure(self, purpose: KeyPurpose, *, now: datetime | None = None) -> SigningKey:
        """The active key for ``purpose``, creating the first one if the store has none."""
        try:
            return self.active(purpose)
        except KeyNotFound:
            self.rotate(purpose, now=now)
            return self.active(purpose)

    def rotate(self, purpose: KeyPurpose, *, now: datetime | None = None) -> Rotation:
        """Make a new active key for ``purpose`` and retire the current one (kept in the JWKS)."""
        purpose = KeyPurpose(purpose)
        at = (now or datetime.now(UTC)).replace(microsecond=0)
        manifest = self._read()
        new = generate_key(purpose, now=at)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        # The private key is on disk before the manifest names it, so a crash never leaves a dangling kid.
        _atomic_write(self.directory / f"{new.kid}.pem", encrypt_private_key(new, self._passphrase), 0o600)
        retired_kid = None
        keys: list[KeyRecord] = []
        for record in manifest.keys:
            if record.purpose == purpose and record.active:
                retired_kid = record.kid
                record = msgspec.structs.replace(record, retired_at=at)
            keys.append(record)
        keys.append(KeyRecord(new.kid, purpose, at, public_jwk(new)))
        self._write(_Manifest(version=manifest.version, keys=keys))
        return Rotation(purpose=purpose, new_kid=new.kid, retired_kid=retired_kid, at=at)

    def public_jwks(self, purpose: KeyPurpose | None = None) -> dict[str, list[dict[str, str]]]:
        """The JWKS of every key (active first, then retired), optionally of one purpose only."""
        records = [r for r in self._read().keys if purpose is None or r.purpose == purpose]
        ordered = [r for r in records if r.active] + [r for r in records if not r.active]
        # Keys recorded before JWKs carried a purpose get it from their record, so old stores publish it too.
        return jwks({**r.public_jwk, PURPOSE_MEMBER: r.purpose.value} for r in ordered)
