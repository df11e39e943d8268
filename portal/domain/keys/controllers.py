"""Keys over HTTP: the public JWKS, the key history, and rotation for a regulator admin."""

from __future__ import annotations

import hashlib
from typing import Any, cast

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody

from portal.deps import CallerDep, Keys
from portal.domain.keys.schemas import KeyOut, RotateKey, RotationOut
from portal.security.auth import requires_login
from portal.security.ratelimit import RateLimited

JWKS_MAX_AGE = 300  # a key is published before it signs anything, so a few minutes' caching loses nothing


class JwksController(Controller):
    tags = ["keys"]
    middleware = [RateLimited("jwks")]

    @get(
        "/.well-known/jwks.json",
        summary="Every public key the portal has ever signed with, active and retired",
        media_type="application/jwk-set+json",
    )
    async def jwks(self, request: Request[Any, Any, Any], keys: Keys) -> Response[dict[str, list[dict[str, str]]]]:
        document = keys.jwks()
        etag = '"' + hashlib.sha256(msgspec.json.encode(document)).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Cache-Control": f"public, max-age={JWKS_MAX_AGE}"}
        if request.headers.get("if-none-match") == etag:
            return Response(cast(Any, b""), status_code=304, headers=headers)  # not modified: no body
        return Response(document, media_type="application/jwk-set+json", headers=headers)


class KeysController(Controller):
    path = "/api/v1/keys"
    tags = ["keys"]
    guards = [requires_login]

    @get("/", summary="The key history: every key, its purpose, when it was made and retired")
    async def history(self, keys: Keys) -> list[KeyOut]:
        return keys.keys()

    @post(
        "/rotate",
        status_code=200,
        summary="Rotate a signing key (regulator admin, with a fresh one-time code)",
        problems=[403, 429],
    )
    async def rotate(self, keys: Keys, caller: CallerDep, data: JSONBody[RotateKey]) -> RotationOut:
        return await keys.rotate(caller, data.purpose, data.totp or None)
