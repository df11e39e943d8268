"""Evidence download: an attachment, never rendered by the browser."""

from __future__ import annotations

import base64
import uuid

from litestar import Controller, delete, get
from litestar.params import FromPath
from litestar.response import File

from portal.deps import CallerDep, EvidenceFiles
from portal.domain.evidence.services import download_name
from portal.security.auth import requires_login


class EvidenceController(Controller):
    path = "/api/v1/evidence"
    tags = ["evidence"]
    guards = [requires_login]

    @get("/{evidence_id:uuid}", summary="Download evidence (owner and regulators; regulator downloads are audited)")
    async def download(self, evidence: EvidenceFiles, caller: CallerDep, evidence_id: FromPath[uuid.UUID]) -> File:
        row, path = await evidence.for_download(caller, evidence_id)
        return File(
            path=path,
            filename=download_name(row),
            media_type=row.media_type,
            content_disposition_type="attachment",
            headers={
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, no-store",
                "Repr-Digest": f"sha-256=:{base64.b64encode(bytes.fromhex(row.sha256)).decode()}:",
            },
        )

    @delete(
        "/{evidence_id:uuid}", status_code=204, problems=[409], summary="Remove evidence no submitted revision contains"
    )
    async def remove(self, evidence: EvidenceFiles, caller: CallerDep, evidence_id: FromPath[uuid.UUID]) -> None:
        await evidence.delete_evidence(caller, evidence_id)
