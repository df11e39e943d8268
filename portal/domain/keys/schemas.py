"""Key bodies: what a rotation did, and the key history (public material only)."""

from __future__ import annotations

import datetime as dt

import msgspec

from attestations.keys import KeyPurpose
from portal.structs import Strict


class RotateKey(Strict):
    purpose: KeyPurpose
    totp: str = msgspec.field(default="")  # a fresh one-time code: rotating a key needs the second factor now


class RotationOut(msgspec.Struct, kw_only=True):
    purpose: KeyPurpose
    new_kid: str
    retired_kid: str | None
    at: dt.datetime


class KeyOut(msgspec.Struct, kw_only=True):
    kid: str
    purpose: KeyPurpose
    created_at: dt.datetime
    retired_at: dt.datetime | None
