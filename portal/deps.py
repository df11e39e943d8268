"""Dependencies every controller may ask for by name."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from portal.domain.context import Caller
from portal.problems import caller_of
from portal.runtime import Runtime


def dependencies(runtime: Runtime) -> dict[str, Provide]:
    def provide_runtime() -> Runtime:
        return runtime

    def provide_caller(request: Request[Any, Any, Any]) -> Caller:
        return caller_of(request)

    return {
        "runtime": Provide(provide_runtime, sync_to_thread=False),
        "caller": Provide(provide_caller, sync_to_thread=False),
    }


# Handlers name these in their signatures; Litestar injects them.
RuntimeDep = NamedDependency[Runtime]
CallerDep = NamedDependency[Caller]
