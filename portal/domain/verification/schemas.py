"""Verification bodies: what may be verified, and the verdict with every check (DESIGN section 5)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from portal.structs import Strict

TOKEN_MAX = 65_536  # characters of a token, however it comes (JSON, a form, a plain body, a certificate PDF)


class VerifyIn(Strict):
    """A token or a serial (a PDF comes as a multipart ``file`` or an ``application/pdf`` body)."""

    token: Annotated[str, msgspec.Meta(min_length=1, max_length=TOKEN_MAX)] | None = None
    serial: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | None = None


class CheckOut(msgspec.Struct, kw_only=True):
    step: int
    name: str
    passed: bool
    outcome: Literal["passed", "failed", "skipped"]
    detail: str


class VerifyOut(msgspec.Struct, kw_only=True):
    valid: bool
    serial: str | None
    # active | suspended | revoked | expired | superseded (the registry's record), or never-issued
    status: str | None
    checks: list[CheckOut]
    source: Literal["token", "serial", "certificate"]
