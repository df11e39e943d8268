"""The transparency log over HTTP, public and without login: C2SP checkpoint and tiles under ``/log/``, JSON
conveniences under ``/api/v1/log/`` (DESIGN section 5)."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Response, get
from litestar.params import FromPath, FromQuery, QueryParameter

from attestations.log_proof import LogProof
from portal.deps import Log
from portal.domain.log.schemas import ConsistencyOut, EntriesOut
from portal.domain.log.tree import TILE_WIDTH, BadTilePath, parse_tile_path
from portal.errors import NotFound
from portal.openapi import problem_responses
from portal.security.ratelimit import RateLimited

NOTE_MEDIA_TYPE = "text/plain"  # Litestar adds the charset (utf-8)
IMMUTABLE = "public, max-age=31536000, immutable"  # a full tile never changes
SHORT_LIVED = "public, max-age=1"  # a partial tile is replaced by a wider one on the next append
CHECKPOINT_CACHE = "no-cache"


async def _checkpoint(log: Log) -> Response[str]:
    _, note = await log.checkpoint()
    return Response(note, media_type=NOTE_MEDIA_TYPE, headers={"Cache-Control": CHECKPOINT_CACHE})


class LogTilesController(Controller):
    """C2SP tlog-checkpoint and tlog-tiles: any generic tlog client reads the log from these alone."""

    path = "/log"
    tags = ["log"]
    middleware = [RateLimited("log")]

    @get("/checkpoint", summary="The latest signed checkpoint (C2SP signed note)", media_type=NOTE_MEDIA_TYPE)
    async def checkpoint(self, log: Log) -> Response[str]:
        return await _checkpoint(log)

    @get(
        "/tile/{tile_path:path}",
        summary="A hash tile <L>/<N>[.p/<W>] or an entry bundle entries/<N>[.p/<W>] (C2SP tlog-tiles, height 8)",
        media_type="application/octet-stream",
        # Declared here rather than with problems=[...]: Litestar copies a handler with a path parameter
        # without its opt, and the copy is the one the OpenAPI document describes.
        responses=problem_responses([400, 401, 404, 429]),
    )
    async def tile(self, log: Log, tile_path: FromPath[str]) -> Response[bytes]:
        try:
            level, index, width = parse_tile_path(tile_path)
        except BadTilePath as exc:
            raise NotFound(f"no such tile: {exc}") from exc
        data = await log.tile(level, index, width)
        cache = IMMUTABLE if width == TILE_WIDTH else SHORT_LIVED
        return Response(data, media_type="application/octet-stream", headers={"Cache-Control": cache})


class LogController(Controller):
    path = "/api/v1/log"
    tags = ["log"]
    middleware = [RateLimited("log")]

    @get(
        "/checkpoint",
        summary="The latest signed checkpoint (the same note as /log/checkpoint)",
        media_type=NOTE_MEDIA_TYPE,
    )
    async def checkpoint(self, log: Log) -> Response[str]:
        return await _checkpoint(log)

    @get("/entries", summary="Entries start .. end - 1 (end exclusive, at most 1,000 per answer)")
    async def entries(
        self,
        log: Log,
        start: Annotated[int, QueryParameter(ge=-(2**62), le=2**62)] = 0,
        end: Annotated[int | None, QueryParameter(ge=-(2**62), le=2**62)] = None,
    ) -> EntriesOut:
        return await log.entries(start, end)

    @get("/consistency", summary="RFC 9162 consistency proof between two tree sizes (hashes base64)")
    async def consistency(
        self,
        log: Log,
        from_: Annotated[int, QueryParameter(name="from", ge=-(2**62), le=2**62)],
        to: Annotated[int | None, QueryParameter(ge=-(2**62), le=2**62)] = None,
    ) -> ConsistencyOut:
        return await log.consistency_proof(from_, to)

    @get("/proof/{serial:str}", summary="The log-proof.json of an attestation's entry (issue, or its latest)")
    async def proof(
        self, log: Log, serial: FromPath[str], event: FromQuery[Literal["issue", "latest"]] = "issue"
    ) -> LogProof:
        return await log.proof(serial, event=event)
