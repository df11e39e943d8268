"""The base of every request body, and how msgspec's validation messages become field errors."""

from __future__ import annotations

import msgspec

# Every request text refuses NUL: PostgreSQL cannot store it, and no legitimate text contains it.
NO_NUL = r"^[^\x00]*$"


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A request body: unknown members are refused, not ignored."""


def field_error(exc: msgspec.ValidationError) -> dict[str, str]:
    """``{"field", "message"}`` from msgspec's "message - at `$.a.b`" text (the field is the last path part)."""
    message, _, where = str(exc).partition(" - at `$.")
    return {"field": where.rstrip("`").split(".")[-1] if where else "", "message": message}
