"""POST /api/v1/verify: a token, a serial or a certificate PDF in; the verdict and every check out (public)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, post
from litestar.enums import RequestEncodingType
from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema

from portal.deps import Verification
from portal.domain.verification.body import submission
from portal.domain.verification.schemas import VerifyOut
from portal.domain.verification.services import VerificationService
from portal.security.ratelimit import RateLimited


@dataclass
class VerifyOperation(Operation):
    """The body is read from the stream (to refuse a huge upload while it arrives), so it is documented here."""

    def __post_init__(self) -> None:
        text = Schema(type=OpenAPIType.STRING)
        json = Schema(type=OpenAPIType.OBJECT, properties={"token": text, "serial": text})
        file = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
        form = Schema(type=OpenAPIType.OBJECT, properties={"file": file}, required=["file"])
        self.request_body = RequestBody(
            content={
                RequestEncodingType.JSON: OpenAPIMediaType(schema=json),
                RequestEncodingType.MULTI_PART: OpenAPIMediaType(schema=form),
                "application/pdf": OpenAPIMediaType(schema=file),
            },
            required=True,
        )


async def verdict(request: Request[Any, Any, Any], verification: VerificationService) -> VerifyOut:
    kind, value = await submission(
        request.headers.get("content-type", ""),
        request.headers.get("content-length"),
        request.stream(),
        verification.max_upload_bytes,
    )
    if kind == "certificate":
        assert isinstance(value, bytes)
        return await verification.certificate(value)
    assert isinstance(value, str)
    return await verification.serial(value) if kind == "serial" else await verification.token(value)


class VerifyController(Controller):
    path = "/api/v1/verify"
    tags = ["attestations"]
    middleware = [RateLimited("verify")]

    @post(
        "/",
        status_code=200,
        request_max_body_size=None,
        operation_class=VerifyOperation,
        exclude_from_csrf=True,  # changes nothing and answers everyone alike: nothing for a forged request to use
        problems=[400, 413, 429],
        summary='Verify {"token"}, {"serial"} or a certificate PDF (multipart "file"): the verdict and each check',
    )
    async def verify(self, request: Request[Any, Any, Any], verification: Verification) -> VerifyOut:
        return await verdict(request, verification)
