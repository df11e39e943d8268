"""The ceiling the status lookup is compared with: a bare Litestar app answering a constant msgspec struct.

Served the same way as the portal (uvicorn, uvloop, httptools, one worker) by ``bench.servers``:
``uvicorn bench.bare:app``. The upload bench's ceiling, a handler streaming the raw body to disk, is here too.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile

import msgspec
from litestar import Litestar, Request, get, post


class Status(msgspec.Struct):
    serial: str
    status: str
    expires_at: dt.datetime
    checked_at: dt.datetime


CONSTANT = Status(
    serial="PA-2026-000001",
    status="active",
    expires_at=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
    checked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
)


@get("/status")
async def status() -> Status:
    return CONSTANT


@post("/upload", status_code=201)
async def upload(request: Request[None, None, None]) -> dict[str, int]:
    """Stream the raw body to a file on the data disk and make it durable, as the evidence store does."""
    directory = os.environ.get("BARE_UPLOAD_DIR") or tempfile.gettempdir()
    fd, path = tempfile.mkstemp(dir=directory, prefix="bare-upload-")
    size = 0
    try:
        with os.fdopen(fd, "wb") as handle:
            async for chunk in request.stream():
                handle.write(chunk)
                size += len(chunk)
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        os.unlink(path)
    return {"size": size}


app = Litestar(route_handlers=[status, upload], request_max_body_size=None, debug=False)
