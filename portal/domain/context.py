"""What every service call knows about its caller: who (if anyone) and from where."""

from __future__ import annotations

import msgspec

from portal.security.permissions import Principal


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    principal: Principal | None
    client: str = ""

    @property
    def actor(self) -> Principal:
        from portal.errors import NotAuthenticated

        if self.principal is None:
            raise NotAuthenticated("log in first")
        return self.principal


SYSTEM = Caller(principal=None, client="system")
