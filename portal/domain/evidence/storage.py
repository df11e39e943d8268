"""Content-addressed evidence storage behind a small interface, so an object store can be added later.

An upload streams into a private temporary file while it is hashed and measured; only a complete,
accepted file is renamed (atomically) to ``<root>/<sha[:2]>/<sha>``. A failed or abandoned upload leaves
nothing behind: its temporary file is removed, and temporaries left by a crash are swept at start-up.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from pathlib import Path
from typing import Protocol

from portal.errors import InvalidInput, PayloadTooLarge

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
        self._file = path.open("xb")

    def accept(self, length: int) -> None:
        """Count ``length`` more bytes against the limit before they are queued for writing."""
        self.size += length
        if self.size > self.limit:
            raise PayloadTooLarge(f"evidence files are limited to {self.limit // (1024 * 1024)} MB")

    def write(self, data: bytes) -> None:
        """Hash and write ``data`` (already accepted); called in order from one thread at a time."""
        if len(self._head) < SNIFF_BYTES:
            self._head += data[: SNIFF_BYTES - len(self._head)]
        self._hash.update(data)
        self._file.write(data)

    def finish(self) -> str:
        """Close the file and check it; return its SHA-256."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
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
    def delete(self, sha256: str) -> None: ...
    def sweep(self, older_than_seconds: float = 3600) -> int: ...


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
        return True

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def sweep(self, older_than_seconds: float = 3600) -> int:
        """Remove temporaries left by a crash; returns how many."""
        cutoff, removed = time.time() - older_than_seconds, 0
        for leftover in self.tmp.glob("*.part"):
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink(missing_ok=True)
                removed += 1
        return removed
