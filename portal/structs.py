"""The base of every request body (a page turns a validation failure into field messages in portal/forms.py)."""

from __future__ import annotations

import msgspec

# Every request text refuses NUL: PostgreSQL cannot store it, and no legitimate text contains it.
NO_NUL = r"^[^\x00]*$"


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A request body: unknown members are refused, not ignored, and no text may hold a NUL character
    (PostgreSQL cannot store one, and no field here has a use for it)."""

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            if _holds_nul(getattr(self, name)):
                raise ValueError(f"`{name}` must not contain the NUL character")


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_holds_nul(item) for item in value)
    return False  # nested Strict bodies check themselves
