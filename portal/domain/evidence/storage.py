"""Content-addressed evidence storage behind a small interface, so an object store can be added later.

An upload streams into a private temporary file (mode 0600, held under an exclusive ``flock`` while it is
written) while it is hashed and measured; only a complete, accepted file is renamed (atomically) to
``<root>/<sha[:2]>/<sha>``, inside the database transaction that records it. A failed or abandoned upload
leaves nothing behind: its temporary file is removed. A process killed mid-upload leaves a temporary whose
lock died with it; the sweep removes exactly those, so it is safe while other workers are uploading.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from portal.errors import InvalidInput, Message, PayloadTooLarge

SNIFF_BYTES = 8192
ALLOWED_TYPES = {"application/pdf", "image/png", "image/jpeg", "text/plain", "text/csv", "application/json"}


def sniff(head: bytes, filename: str) -> str | None:
    """The media type decided from the first bytes; the filename only tells CSV from other text."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Only a multi-byte character cut off by the end of a full sample is forgiven.
        if exc.reason != "unexpected end of data" or len(head) < SNIFF_BYTES:
            return None
        text = head[: exc.start].decode("utf-8")
    if not text or any(ord(c) < 32 and c not in "\t\r\n\f" for c in text):
        return None
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] in ("{", "["):
        return "application/json"
    if filename.lower().endswith(".csv"):
        return "text/csv"
    return "text/plain"


class Upload:
    """One file being received: written to a temporary file, hashed and measured as it arrives."""

    def __init__(self, path: Path, limit: int, filename: str) -> None:
        self.path = path
        self.limit = limit
        self.filename = filename
        self.size = 0
        self.media_type: str | None = None
        self._hash = hashlib.sha256()
        self._head = b""
        # Private from the first byte, and locked while this process owns it (the sweep tests the lock).
        self._file = os.fdopen(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600), "wb")
        fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def accept(self, length: int) -> None:
        """Count ``length`` more bytes against the limit before they are queued for writing."""
        self.size += length
        if self.size > self.limit:
            raise PayloadTooLarge(Message("evidence files are limited to %(mb)s MB", mb=self.limit // (1024 * 1024)))

    def write(self, data: bytes) -> None:
        """Hash and write ``data`` (already accepted); called in order from one thread at a time."""
        if len(self._head) < SNIFF_BYTES:
            self._head += data[: SNIFF_BYTES - len(self._head)]
        self._hash.update(data)
        self._file.write(data)

    def finish(self) -> str:
        """Flush the file and check it; return its SHA-256. The lock is held until commit or discard."""
        self._file.flush()
        os.fsync(self._file.fileno())
        if self.size == 0:
            raise InvalidInput("the file is empty", field="file")
        self.media_type = sniff(self._head, self.filename)
        if self.media_type not in ALLOWED_TYPES:
            raise InvalidInput(
                "this file type is not accepted: send PDF, PNG, JPEG, plain text, CSV or JSON", field="file"
            )
        return self._hash.hexdigest()

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)


class EvidenceStore(Protocol):
    def begin(self, filename: str, limit: int) -> Upload: ...
    def commit(self, upload: Upload, sha256: str) -> bool: ...
    def path(self, sha256: str) -> Path: ...
    def exists(self, sha256: str) -> bool: ...
    def delete(self, sha256: str) -> None: ...
    def stored(self) -> Iterator[str]: ...
    def sweep_temporaries(self) -> int: ...


class FileEvidenceStore:
    """Evidence on a local or shared file system (``PORTAL_DATA_DIR/evidence``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True, mode=0o700)

    def begin(self, filename: str, limit: int) -> Upload:
        return Upload(self.tmp / f"{uuid.uuid4().hex}.part", limit, filename)

    def commit(self, upload: Upload, sha256: str) -> bool:
        """Move the finished file into place; return False when identical content was already stored."""
        target = self.path(sha256)
        target.parent.mkdir(exist_ok=True, mode=0o700)
        if target.exists():
            upload.discard()
            return False
        os.chmod(upload.path, 0o400)
        os.replace(upload.path, target)  # atomic on one file system
        upload.discard()  # closes the file and drops its lock; the temporary name is gone already
        return True

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def stored(self) -> Iterator[str]:
        """The digest of every stored file."""
        for folder in sorted(self.root.glob("[0-9a-f][0-9a-f]")):
            for item in sorted(folder.iterdir()):
                if len(item.name) == 64 and item.name.startswith(folder.name):
                    yield item.name

    def sweep_temporaries(self) -> int:
        """Remove temporaries whose writer is gone (their lock died with the process); returns how many."""
        removed = 0
        for leftover in self.tmp.glob("*.part"):
            with contextlib.suppress(FileNotFoundError), leftover.open("rb") as handle:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live upload in this or another worker
                leftover.unlink(missing_ok=True)
                removed += 1
        return removed
