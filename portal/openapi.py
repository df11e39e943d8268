"""The problem responses of every API operation in the OpenAPI document, decided in one place.

`portal.problems` turns errors into RFC 9457 problem details; this module says which statuses each operation
can answer with one, so clients (and the fuzzer in tests/api/test_fuzz.py) know what to expect. Most follow
from what the route is: any request may carry a bad Authorization header (401); input can be malformed
(400); a path names something that may not exist (404); a body may be too large (413); a cookie-authenticated
change needs the CSRF header (403); a role guard refuses (403); login and registration take JSON only (415).
What a service refuses beyond that, a handler declares with ``problems=[...]`` (an `opt` key, like
``exclude_from_csrf``). `ProblemResponses` is a Litestar plugin that adds them to each handler's `responses`
as routes are registered.

Two schema plugins make the rest of the document say what the API does: `StrictBodies` marks request bodies
that refuse unknown members with ``additionalProperties: false``, and `AnyOfSchemas` documents a body that is
one of several overlapping documents (a catalog version in its three formats) as ``anyOf``.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

import msgspec
from litestar.constants import RESERVED_KWARGS
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Schema
from litestar.plugins import OpenAPISchemaPlugin, ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.typing import FieldDefinition
from msgspec import UNSET, UnsetType

from portal.problems import PROBLEM_JSON
from portal.security.auth import requires_login
from portal.security.csrf import SAFE_METHODS, requires_json
from portal.security.ratelimit import RateLimited

BODY_KWARGS = {"data", "body"}


class FieldProblem(msgspec.Struct):
    field: str
    message: str


class Problem(msgspec.Struct, kw_only=True):
    """An RFC 9457 problem document; the optional members appear where they help."""

    type: str  # a relative URI reference: /problems/<kind>
    title: str
    status: int
    detail: str
    instance: str
    field: str | UnsetType = UNSET  # the input member at fault
    errors: list[FieldProblem] | UnsetType = UNSET  # malformed or mistyped input, member by member
    problems: list[FieldProblem] | UnsetType = UNSET  # every rule an answer breaks
    missing: list[str] | UnsetType = UNSET  # what a submit still needs
    current_version: int | UnsetType = UNSET  # a stale or missing If-Match: the answer's version now
    retry_after: int | UnsetType = UNSET  # seconds, as in the Retry-After header
    catalog_id: str | UnsetType = UNSET
    version: str | UnsetType = UNSET
    versions: list[str] | UnsetType = UNSET  # the versions a catalog has
    digest: str | UnsetType = UNSET  # a published version's digest
    catalog_status: str | UnsetType = UNSET


WHY = {
    400: "The request is malformed or mistyped (invalid-input, with errors)",
    401: "No valid credentials (not-authenticated), or a second factor is needed (totp-required)",
    403: "Not allowed, or a cookie session without the X-CSRFToken header (forbidden)",
    404: "No such object, or one of another organisation (not-found)",
    409: "The current state does not allow this, or a stale version (conflict)",
    413: "The body is too large (too-large)",
    415: "The body must be application/json (unsupported-media-type)",
    422: "The input breaks a rule (invalid-input, with field, problems or missing)",
    428: "Replacing an answer needs If-Match (precondition-required)",
    429: "Too many attempts, or too many requests from this address; see Retry-After (too-many-requests)",
}


def problem_statuses(route: HTTPRoute, handler: HTTPRouteHandler) -> set[int]:
    """The problem statuses one operation can answer with."""
    if not route.path.startswith("/api/"):
        return {401}  # authentication runs before every route: a malformed or unknown token is refused
    layers = handler.ownership_layers  # read as declared: resolving them here would cache them too early
    dependencies = {name for layer in layers for name in (layer.dependencies or {})}
    guards = [guard for layer in layers for guard in (layer.guards or [])]
    parameters = set(handler.parsed_fn_signature.parameters) - dependencies
    inputs = (parameters - RESERVED_KWARGS) | (parameters & BODY_KWARGS)
    statuses = {401}
    if inputs or route.path_parameters:
        statuses.add(400)
    if route.path_parameters:
        statuses.add(404)
    if parameters & BODY_KWARGS:
        statuses.add(413)
    if not handler.http_methods <= SAFE_METHODS and not handler.opt.get("exclude_from_csrf"):
        statuses.add(403)
    if any(isinstance(guard, RateLimited) for guard in guards):
        statuses.add(429)  # a public route's rate limit
    if any(guard not in (requires_login, requires_json) and not isinstance(guard, RateLimited) for guard in guards):
        statuses.add(403)  # a role guard
    if requires_json in guards:
        statuses.add(415)
    declared: Iterable[int] = handler.opt.get("problems", ())
    return statuses | set(declared)


def problem_responses(statuses: Iterable[int]) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_JSON,
            description=WHY.get(status, HTTPStatus(status).phrase),
            generate_examples=False,
        )
        for status in sorted(statuses)
    }


class ProblemResponses(ReceiveRoutePlugin):
    """Documents each operation's problem responses; responses a handler declares itself take precedence."""

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            if handler.resolve_include_in_schema():
                handler.responses = {**problem_responses(problem_statuses(route, handler)), **(handler.responses or {})}


class _AnyOf:
    """Marks a union whose documents may satisfy more than one member's schema (``oneOf`` would refuse them)."""


ANY_OF = _AnyOf()


class AnyOfSchemas(OpenAPISchemaPlugin):
    """``Annotated[A | B, ANY_OF]`` is documented as ``anyOf: [A, B]``."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return any(isinstance(item, _AnyOf) for item in field_definition.metadata)

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        members = [FieldDefinition.from_annotation(member) for member in field_definition.args]
        return Schema(any_of=[schema_creator.for_field_definition(member) for member in members])


class StrictBodies(OpenAPISchemaPlugin):
    """Request bodies that refuse unknown members (`portal.structs.Strict`) say so: ``additionalProperties: false``.

    The schema itself comes from the next plugin that handles the struct (Litestar's own).
    """

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        config = getattr(field_definition.type_, "__struct_config__", None)
        return field_definition.is_subclass_of(msgspec.Struct) and bool(config and config.forbid_unknown_fields)

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        plugins = schema_creator.plugins
        following = plugins[plugins.index(self) + 1 :]
        plugin = next(p for p in following if schema_creator.plugin_supports_field(p, field_definition))
        schema: Schema = plugin.to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema
