"""Evidence: streamed, size-limited, type-sniffed uploads; downloads for the owner and regulators only."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from portal.db import atomic
from portal.db.tables import Answer, Evidence
from portal.domain.assessments import repo as assessments_repo
from portal.domain.assessments.schemas import EDITABLE, EvidenceOut
from portal.domain.assessments.services import EDITORS, can_view, still_editable
from portal.domain.audit.services import record
from portal.domain.context import Caller
from portal.domain.evidence.storage import EvidenceStore
from portal.errors import Conflict, NotFound
from portal.security.permissions import require_member

BATCH_BYTES = 1024 * 1024
IN_FLIGHT = 4
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def sanitise_filename(name: str) -> str:
    """A display name that is safe in a header and on any file system; never used as a storage path."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:200]
    return name or "evidence"


def evidence_out(row: dict[str, Any]) -> EvidenceOut:
    return EvidenceOut(
        id=row["id"],
        sha256=row["sha256"],
        size=row["size"],
        media_type=row["media_type"],
        filename=row["filename"],
        frozen=row["frozen"],
        created_at=row["created_at"],
    )


async def authorise_upload(caller: Caller, assessment_id: uuid.UUID) -> dict[str, Any]:
    """Checked before a single byte of the body is read."""
    row = await assessments_repo.assessment(assessment_id)
    if row is None or not can_view(caller.actor, row):
        raise NotFound("no such assessment")
    require_member(caller.actor, row["organisation"], *EDITORS)
    if row["state"] not in EDITABLE:
        raise Conflict(f"the assessment is {row['state']}; evidence can be added only in draft or changes_requested")
    return row


async def store_upload(
    caller: Caller,
    store: EvidenceStore,
    assessment: dict[str, Any],
    filename: str,
    chunks: AsyncIterator[bytes],
    limit: int,
) -> tuple[EvidenceOut, bool]:
    """Stream ``chunks`` to storage and record the evidence; ``False`` when the assessment already had it.

    On any failure nothing is left behind.
    """
    name = sanitise_filename(filename)
    upload = store.begin(name, limit)
    loop = asyncio.get_running_loop()
    pending: collections.deque[asyncio.Future[None]] = collections.deque()
    try:
        # Hashing and writing (both release the GIL) run on one writer thread, in order, in ~1 MB batches,
        # while the event loop keeps receiving and parsing; at most IN_FLIGHT batches wait, so memory is bounded.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidence-writer") as writer:
            batch: list[bytes] = []
            size = 0
            try:
                async for chunk in chunks:
                    upload.accept(len(chunk))  # the size limit is enforced here, before anything is queued
                    batch.append(chunk)
                    size += len(chunk)
                    if size >= BATCH_BYTES:
                        pending.append(loop.run_in_executor(writer, upload.write, b"".join(batch)))
                        batch, size = [], 0
                        if len(pending) >= IN_FLIGHT:
                            await pending.popleft()
                if batch:
                    pending.append(loop.run_in_executor(writer, upload.write, b"".join(batch)))
                while pending:
                    await pending.popleft()
            finally:
                for future in pending:
                    future.cancel()
            sha256 = await loop.run_in_executor(writer, upload.finish)
    except BaseException:
        upload.discard()
        raise
    created = store.commit(upload, sha256)
    row = Evidence(
        organisation=assessment["organisation"],
        assessment=assessment["id"],
        sha256=sha256,
        size=upload.size,
        media_type=upload.media_type,
        filename=name,
        uploaded_by=caller.actor.user_id,
        created_at=dt.datetime.now(dt.UTC),
    )
    try:
        async with atomic():
            await still_editable(assessment["id"])  # not frozen while the file streamed in
            same = (
                await Evidence.select()
                .where((Evidence.assessment == assessment["id"]) & (Evidence.sha256 == sha256))
                .first()
            )
            if same is not None:  # the same bytes again: the upload is idempotent
                return evidence_out(same), False
            await row.save()
            await record(
                caller,
                "evidence.uploaded",
                object_type="evidence",
                object_id=row.id,
                after={
                    "assessment": str(assessment["id"]),
                    "sha256": sha256,
                    "size": upload.size,
                    "media_type": upload.media_type,
                    "filename": name,
                },
            )
    except BaseException:
        if created and not await assessments_repo.sha_in_use(sha256):
            store.delete(sha256)  # no row points at it: do not leave an orphan file
        raise
    return evidence_out(row.to_dict()), True


async def for_download(caller: Caller, store: EvidenceStore, evidence_id: uuid.UUID) -> tuple[dict[str, Any], Path]:
    """The owning organisation and regulators may download; every regulator download is audited."""
    principal = caller.actor
    row = await assessments_repo.evidence_item(evidence_id)
    assessment = await assessments_repo.assessment(row["assessment"]) if row else None
    if row is None or assessment is None or not can_view(principal, assessment):
        raise NotFound("no such evidence")
    if principal.is_regulator:
        await record(
            caller,
            "evidence.downloaded",
            object_type="evidence",
            object_id=evidence_id,
            after={"sha256": row["sha256"], "assessment": str(row["assessment"])},
        )
    return row, store.path(row["sha256"])


async def list_evidence(caller: Caller, assessment_id: uuid.UUID) -> list[EvidenceOut]:
    assessment = await assessments_repo.assessment(assessment_id)
    if assessment is None or not can_view(caller.actor, assessment):
        raise NotFound("no such assessment")
    return [evidence_out(row) for row in await assessments_repo.evidence_items(assessment_id)]


async def delete_evidence(caller: Caller, store: EvidenceStore, evidence_id: uuid.UUID) -> None:
    """Editors remove evidence that no submitted revision contains; answers linking it let go of it."""
    row = await assessments_repo.evidence_item(evidence_id)
    assessment = await assessments_repo.assessment(row["assessment"]) if row else None
    if row is None or assessment is None or not can_view(caller.actor, assessment):
        raise NotFound("no such evidence")
    require_member(caller.actor, assessment["organisation"], *EDITORS)
    if row["frozen"]:
        raise Conflict("this evidence is part of a submitted revision and can no longer be removed")
    async with atomic():
        await still_editable(assessment["id"])
        for answer in (await assessments_repo.answers(assessment["id"])).values():
            if str(evidence_id) in answer["evidence_ids"]:
                kept = [e for e in answer["evidence_ids"] if e != str(evidence_id)]
                await Answer.update({Answer.evidence_ids: kept, Answer.version: answer["version"] + 1}).where(
                    Answer.id == answer["id"]
                )
        await Evidence.delete().where(Evidence.id == evidence_id)
        await record(
            caller,
            "evidence.deleted",
            object_type="evidence",
            object_id=evidence_id,
            before={"sha256": row["sha256"], "filename": row["filename"]},
        )
    if not await assessments_repo.sha_in_use(row["sha256"]):
        store.delete(row["sha256"])
