"""Evidence: streamed, size-limited, type-sniffed uploads; downloads for the owner and regulators only."""

from __future__ import annotations

import asyncio
import collections
import logging
import re
import unicodedata
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from portal.clock import now
from portal.db import atomic, lock
from portal.domain.assessments import repo as assessments_repo
from portal.domain.assessments.repo import AssessmentRecord
from portal.domain.assessments.schemas import EvidenceOut
from portal.domain.assessments.services import AssessmentService
from portal.domain.audit.services import record
from portal.domain.context import Caller
from portal.domain.evidence import repo
from portal.domain.evidence.multipart import StreamedFile
from portal.domain.evidence.repo import EvidenceRecord
from portal.domain.evidence.storage import EvidenceStore
from portal.errors import NotFound, PortalError
from portal.security import policy

log = logging.getLogger("portal.evidence")
BATCH_BYTES = 1024 * 1024
IN_FLIGHT = 4
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
# Bidirectional controls (embeddings, overrides, isolates, marks) make `invoice\u202eftp.exe` display as
# `invoiceexe.ptf`: removed, not replaced, so the name reads as it is.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
# The extension a download gets for each accepted type (the first), and the others it may keep.
EXTENSIONS = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "text/plain": (".txt",),
    "text/csv": (".csv",),
    "application/json": (".json",),
}


def sanitise_filename(name: str) -> str:
    """A display name that is safe in a header and on any file system; never used as a storage path."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", _BIDI.sub("", name)).strip(" .")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:200]
    return name or "evidence"


class EvidenceMissing(PortalError):
    kind = "internal-error"
    title = "Internal error"


def _file_lock(sha256: str) -> str:
    return f"evidence-file:{sha256}"


def download_name(row: EvidenceRecord) -> str:
    """The display name with the extension of the type the bytes were recognised as (`report.html` sniffed
    as text is downloaded as `report.txt`), so what opens the file is chosen by what it is."""
    extensions = EXTENSIONS.get(row.media_type, ())
    if not extensions or row.filename.lower().endswith(extensions):
        return row.filename
    stem, dot, _ = row.filename.rpartition(".")
    return (stem if dot and stem else row.filename) + extensions[0]


def evidence_out(row: EvidenceRecord) -> EvidenceOut:
    return EvidenceOut(
        id=row.id,
        sha256=row.sha256,
        size=row.size,
        media_type=row.media_type,
        filename=row.filename,
        frozen=row.frozen,
        created_at=row.created_at,
    )


class EvidenceService:
    def __init__(self, store: EvidenceStore, assessments: AssessmentService, max_upload_bytes: int) -> None:
        self.store = store
        self.assessments = assessments
        self.max_upload_bytes = max_upload_bytes

    @property
    def max_body_bytes(self) -> int:
        """The whole multipart body of an upload: the file, plus 64 KiB for its headers and boundaries."""
        return self.max_upload_bytes + 64 * 1024

    async def authorise_upload(self, caller: Caller, assessment_id: uuid.UUID) -> AssessmentRecord:
        """Checked before a single byte of the body is read."""
        return await self.assessments.editable(caller, assessment_id)

    async def store_upload(
        self,
        caller: Caller,
        assessment: AssessmentRecord,
        filename: str,
        chunks: AsyncIterator[bytes] | StreamedFile,
    ) -> tuple[EvidenceOut, bool]:
        """Stream the file (its bytes, or a multipart body already opened) to storage and record the evidence;
        ``False`` when the assessment already had it.

        On any failure nothing is left behind.
        """
        name = sanitise_filename(filename)
        upload = self.store.begin(name, self.max_upload_bytes)
        loop = asyncio.get_running_loop()
        pending: collections.deque[asyncio.Future[None]] = collections.deque()
        # A multipart body is parsed on the writer thread too, so the event loop only receives: the body's
        # limit is counted as it arrives (StreamedFile.raw), the file's as it is parsed, a batch at most later.
        parsed = chunks if isinstance(chunks, StreamedFile) else None
        source = chunks.raw() if isinstance(chunks, StreamedFile) else chunks

        def write(pieces: list[bytes]) -> None:
            data = b"".join(pieces)
            if parsed is not None:
                data = b"".join(parsed.parse(data))
                upload.accept(len(data))
            upload.write(data)

        def end() -> None:
            if parsed is not None:
                data = b"".join(parsed.end())
                upload.accept(len(data))
                upload.write(data)

        try:
            # Parsing, hashing and writing (the last two release the GIL) run on one writer thread, in order, in
            # ~1 MB batches, while the event loop keeps receiving; at most IN_FLIGHT batches wait, so memory is
            # bounded.
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidence-writer") as writer:
                batch: list[bytes] = []
                size = 0
                try:
                    async for chunk in source:
                        if parsed is None:
                            upload.accept(len(chunk))  # the size limit is enforced here, before anything is queued
                        batch.append(chunk)
                        size += len(chunk)
                        if size >= BATCH_BYTES:
                            pending.append(loop.run_in_executor(writer, write, batch))
                            batch, size = [], 0
                            if len(pending) >= IN_FLIGHT:
                                await pending.popleft()
                    pending.append(loop.run_in_executor(writer, write, batch))
                    pending.append(loop.run_in_executor(writer, end))
                    while pending:
                        await pending.popleft()
                finally:
                    for future in pending:
                        future.cancel()
                sha256 = await loop.run_in_executor(writer, upload.finish)
        except BaseException:
            upload.discard()
            raise
        created = False
        try:
            async with atomic():
                # Whether a stored file is still referenced is decided under its lock, with the row written in
                # the same transaction: a delete racing another organisation's upload of the same bytes
                # can never remove the file that upload's record points at.
                await lock(_file_lock(sha256))
                await self.assessments.still_editable(assessment.id)  # not frozen while the file streamed in
                same = await repo.same_bytes(assessment.id, sha256)
                if same is not None:  # the same bytes again: the upload is idempotent
                    upload.discard()
                    return evidence_out(same), False
                row = await repo.insert(
                    organisation=assessment.organisation_id,
                    assessment=assessment.id,
                    sha256=sha256,
                    size=upload.size,
                    media_type=upload.media_type,
                    filename=name,
                    uploaded_by=caller.actor.user_id,
                    created_at=now(),
                )
                await record(
                    caller,
                    "evidence.uploaded",
                    object_type="evidence",
                    object_id=row.id,
                    after={
                        "assessment": str(assessment.id),
                        "sha256": sha256,
                        "size": upload.size,
                        "media_type": upload.media_type,
                        "filename": name,
                    },
                )
                created = self.store.commit(upload, sha256)
        except BaseException:
            upload.discard()
            if created:
                await self.release_file(sha256)  # the transaction rolled back: no row points at it now
            raise
        return evidence_out(row), True

    async def release_file(self, sha256: str) -> bool:
        """Delete the stored file unless a record still uses it, deciding under the file's lock."""
        async with atomic():
            await lock(_file_lock(sha256))
            if await repo.sha_in_use(sha256):
                return False
            self.store.delete(sha256)
            return True

    async def sweep(self) -> dict[str, int]:
        """Remove what a crash can leave: temporaries of dead uploads, and stored files no record uses.

        Safe while other workers run: a live upload's temporary is locked, and a stored file is removed only
        under its lock after checking, in the same transaction, that no committed record uses it.
        """
        temporaries = self.store.sweep_temporaries()
        stored = list(self.store.stored())
        used = await repo.shas_in_use(stored)
        orphans = 0
        for sha256 in stored:
            if sha256 not in used and await self.release_file(sha256):
                orphans += 1
        return {"temporaries": temporaries, "orphans": orphans}

    async def _evidence(self, caller: Caller, evidence_id: uuid.UUID) -> tuple[EvidenceRecord, AssessmentRecord]:
        row = await repo.item(evidence_id)
        assessment = await assessments_repo.get(row.assessment) if row else None
        if row is None or assessment is None:
            raise NotFound("no such evidence")
        await policy.require(
            caller,
            policy.may_view_assessment(caller.principal, assessment),
            object_type="evidence",
            object_id=evidence_id,
            missing="no such evidence",
        )
        return row, assessment

    async def for_download(self, caller: Caller, evidence_id: uuid.UUID) -> tuple[EvidenceRecord, Path]:
        """The owning organisation and regulators may download; every regulator download is audited."""
        principal = caller.actor
        row, _ = await self._evidence(caller, evidence_id)
        if not self.store.exists(row.sha256):
            # A record without its file is an operator's problem: logged here, a plain 500 for the client.
            log.error("evidence %s: stored file %s is missing", evidence_id, row.sha256)
            raise EvidenceMissing("the evidence file is not available; the operators have been told")
        if principal.is_regulator:
            await record(
                caller,
                "evidence.downloaded",
                object_type="evidence",
                object_id=evidence_id,
                after={"sha256": row.sha256, "assessment": str(row.assessment)},
            )
        return row, self.store.path(row.sha256)

    async def list_evidence(self, caller: Caller, assessment_id: uuid.UUID) -> list[EvidenceOut]:
        await self.assessments.visible(caller, assessment_id)
        return [evidence_out(row) for row in await repo.items(assessment_id)]

    async def delete_evidence(self, caller: Caller, evidence_id: uuid.UUID) -> None:
        """Editors remove evidence that no submitted revision contains; answers linking it let go of it."""
        row, assessment = await self._evidence(caller, evidence_id)
        await policy.require(
            caller,
            policy.may_remove_evidence(caller.principal, assessment, frozen=row.frozen),
            object_type="evidence",
            object_id=evidence_id,
        )
        async with atomic():
            await self.assessments.still_editable(assessment.id)
            await assessments_repo.unlink_evidence(assessment.id, evidence_id)
            await repo.delete(evidence_id)
            await record(
                caller,
                "evidence.deleted",
                object_type="evidence",
                object_id=evidence_id,
                before={"sha256": row.sha256, "filename": row.filename},
            )
        await self.release_file(row.sha256)
