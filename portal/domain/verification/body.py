"""What a verify request carries, read from the stream under the evidence upload limit (never whole first).

A multipart body gives its ``file`` field; any other body is read up to the limit and taken as a PDF when it
starts like one, as JSON (``{"token"}`` or ``{"serial"}``) when it is JSON, as a form's ``token`` or ``serial``
field when it is a form, and otherwise as the token itself. Past the limit, the read stops with a 413; so does
a body that is not a PDF once it is longer than any token, serial or form of one could be (``SMALL``), so a
long text is never read, held or parsed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal
from urllib.parse import parse_qs

import msgspec
from python_multipart.multipart import parse_options_header

from portal.domain.evidence.multipart import StreamedFile
from portal.domain.verification.schemas import TOKEN_MAX, VerifyIn
from portal.errors import BadRequest, InvalidInput, Message, PayloadTooLarge

Kind = Literal["token", "serial", "certificate"]
WHAT = "verify uploads"
SMALL = TOKEN_MAX + 4096  # a token in JSON or a form, with room for the field names and escapes


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"{WHAT} are limited to {limit // (1024 * 1024)} MB")


async def _read(stream: AsyncIterator[bytes], limit: int) -> bytes:
    data = bytearray()
    async for chunk in stream:
        data += chunk
        if len(data) > limit:
            raise _too_large(limit)
        if len(data) > SMALL and not data.startswith(b"%PDF-"):
            words = Message("a token, a serial or a form is at most %(kib)s KiB; send a certificate as a PDF",
                            kib=SMALL // 1024)  # fmt: skip
            raise PayloadTooLarge(words)
    return bytes(data)


def _one(token: str | None, serial: str | None) -> tuple[Kind, str]:
    if bool(token) == bool(serial):
        raise BadRequest('send exactly one of "token" and "serial" (or a certificate PDF)', field="token")
    return ("token", token) if token else ("serial", serial or "")


async def submission(
    content_type: str, content_length: str | None, stream: AsyncIterator[bytes], limit: int
) -> tuple[Kind, str | bytes]:
    """``("certificate", pdf bytes)``, ``("token", text)`` or ``("serial", text)``."""
    if content_length and content_length.isascii() and content_length.isdigit() and int(content_length) > limit:
        raise _too_large(limit)  # said up front: refused before a byte of the body is read
    kind = parse_options_header(content_type)[0].decode("latin-1").lower()
    if kind == "multipart/form-data":
        pdf = bytearray()
        try:
            upload = StreamedFile(content_type, stream, limit=limit, what=WHAT)
            await upload.open()
            async for chunk in upload.chunks():
                pdf += chunk
        except InvalidInput as exc:  # a malformed form, or one without its file: not a PDF at all
            raise BadRequest(exc.words, field="file") from exc
        return "certificate", bytes(pdf)
    body = await _read(stream, limit)
    if body.startswith(b"%PDF-"):
        return "certificate", body
    if kind == "application/x-www-form-urlencoded":
        fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
        return _one(fields.get("token", [""])[0].strip() or None, fields.get("serial", [""])[0].strip() or None)
    if kind == "application/json" or body.lstrip().startswith(b"{"):
        try:
            wanted = msgspec.json.decode(body, type=VerifyIn)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise BadRequest(f'send {{"token": "..."}} or {{"serial": "..."}}: {exc}', field="token") from exc
        return _one(wanted.token, wanted.serial)
    try:
        return "token", body.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise BadRequest("the body is neither a token nor a PDF", field="token") from exc
