"""What every service call knows about its caller: who (a principal, the system, or nobody) and from where."""

from __future__ import annotations

import msgspec

from portal.errors import NotAuthenticated
from portal.security.principal import Actor, Principal, SystemOperator


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    principal: Actor
    client: str = ""

    @property
    def actor(self) -> Principal:
        """The logged-in principal; an anonymous visitor (or the system, which has no account) gets 401."""
        if not isinstance(self.principal, Principal):
            raise NotAuthenticated("log in first")
        return self.principal

    @property
    def is_system(self) -> bool:
        return isinstance(self.principal, SystemOperator)


SYSTEM = Caller(principal=SystemOperator(), client="system")
ANONYMOUS = Caller(principal=None)
