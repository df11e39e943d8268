"""State machines: the allowed transitions of a stateful object, in one table each.

Nothing writes a ``state`` column except a repository's ``move``, which checks the table first and then
changes the row with one compare-and-set, so two racing requests cannot both win.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

S = TypeVar("S", bound=enum.StrEnum)


class IllegalTransition(ValueError):
    """A programming error: code asked for a move the table does not allow."""


class StateMachine(Generic[S]):
    def __init__(self, name: str, transitions: Mapping[S, Iterable[S]]) -> None:
        self.name = name
        self.transitions: dict[S, frozenset[S]] = {state: frozenset(to) for state, to in transitions.items()}

    def allows(self, source: S, target: S) -> bool:
        return target in self.transitions.get(source, frozenset())

    def check(self, sources: Iterable[S], target: S) -> list[S]:
        """The sources, each checked against the table; raises :class:`IllegalTransition` for any that is not."""
        checked = list(sources)
        for source in checked:
            if not self.allows(source, target):
                raise IllegalTransition(f"{self.name}: {source} -> {target} is not an allowed transition")
        if not checked:
            raise IllegalTransition(f"{self.name}: a move to {target} needs at least one source state")
        return checked

    def sources(self, target: S) -> frozenset[S]:
        """Every state from which ``target`` can be reached in one move."""
        return frozenset(source for source, targets in self.transitions.items() if target in targets)
