"""Status lists over HTTP: public, signed, cheap to poll with an ETag."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import Parameter

from portal.deps import StatusLists
from portal.security.ratelimit import RateLimited

MEDIA_TYPE = "application/statuslist+jwt"


class StatusListsController(Controller):
    path = "/api/v1/status-lists"
    tags = ["status"]
    middleware = [RateLimited("status-lists")]

    @get(
        "/{list_id:int}",
        summary="A signed token status list (2-bit entries: 0 valid, 1 revoked, 2 suspended)",
        media_type=MEDIA_TYPE,
    )
    async def status_list(
        self,
        request: Request[Any, Any, Any],
        status_lists: StatusLists,
        # Bounded like the column (a 32-bit integer): a larger id is a 400, never a database error.
        list_id: Annotated[int, Parameter(ge=1, le=2**31 - 1)],
    ) -> Response[str]:
        signed = await status_lists.signed(list_id)
        # max-age=1: no cache in between lets a status change stay hidden longer than a second.
        headers = {"ETag": signed.etag, "Cache-Control": "public, max-age=1"}
        if request.headers.get("if-none-match") == signed.etag:
            return Response("", status_code=304, headers=headers, media_type=MEDIA_TYPE)
        return Response(signed.token, media_type=MEDIA_TYPE, headers=headers)
