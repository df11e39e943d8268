"""Catalogs API: public reading (native JSON or OSCAL), diffs; import, publish and retire for regulator admins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, Union

from litestar import Controller, MediaType, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import FromPath, FromQuery, RawBody

import controls
from portal.deps import CallerDep, Catalogs
from portal.domain.catalogs.schemas import CatalogOut, CatalogSummary, ImportResult, OscalDocument
from portal.domain.catalogs.services import catalog_out, parse_document
from portal.openapi import ANY_OF
from portal.security.auth import requires_role
from portal.security.principal import Role

# ?format= picks the document; a portal view also satisfies the native schema, so documented as anyOf
CatalogDocument = Annotated[Union[CatalogOut, controls.Catalog, OscalDocument], ANY_OF]  # noqa: UP007 - a named union
admin_only = [requires_role(Role.REGULATOR_ADMIN)]


@dataclass
class ImportOperation(Operation):
    """The import reads its body raw (two formats, one parser per format), so the body is documented here."""

    def __post_init__(self) -> None:
        document = Schema(
            type=OpenAPIType.OBJECT,
            description="The native catalog document (see `Catalog`), or with `?format=oscal` an OSCAL 1.1 catalog",
        )
        self.request_body = RequestBody(content={MediaType.JSON: OpenAPIMediaType(schema=document)}, required=True)


class CatalogsController(Controller):
    path = "/api/v1/catalogs"
    tags = ["catalogs"]

    @get("/", summary="Catalog versions: published and retired (regulators also see drafts)")
    async def list(self, catalogs: Catalogs, caller: CallerDep) -> list[CatalogSummary]:
        return await catalogs.list_catalogs(caller)

    @get(
        "/{catalog_id:str}/{version:str}",
        summary="One catalog version with its families, controls and digest",
        description="`?format=oscal` gives the OSCAL 1.1 catalog JSON; `?format=native` the exact document "
        "whose RFC 8785 canonical form hashes to the digest.",
    )
    async def detail(
        self,
        catalogs: Catalogs,
        caller: CallerDep,
        catalog_id: FromPath[str],
        version: FromPath[str],
        format: FromQuery[Literal["portal", "native", "oscal"]] = "portal",
    ) -> Response[CatalogDocument]:
        view = await catalogs.get_catalog(caller, catalog_id, version)
        if format == "oscal":
            return Response(controls.to_oscal(view.catalog), media_type=MediaType.JSON)  # type: ignore[arg-type]
        if format == "native":
            return Response(controls.encode_catalog(view.catalog), media_type=MediaType.JSON)  # type: ignore[arg-type]
        return Response(catalog_out(view))

    @get("/{catalog_id:str}/{version:str}/diff", summary="Controls added, removed and changed since `against`")
    async def diff(
        self,
        catalogs: Catalogs,
        caller: CallerDep,
        catalog_id: FromPath[str],
        version: FromPath[str],
        against: FromQuery[str],
    ) -> controls.CatalogDiff:
        return await catalogs.diff(caller, catalog_id, version, against)

    @post(
        "/",
        guards=admin_only,
        operation_class=ImportOperation,
        responses={200: ResponseSpec(ImportResult, description="The same content is already stored: unchanged")},
        problems=[409, 422],
        summary="Import a catalog version (regulator admin): the native JSON document, or OSCAL with ?format=oscal",
    )
    async def import_(
        self,
        catalogs: Catalogs,
        caller: CallerDep,
        body: RawBody,
        format: FromQuery[Literal["native", "oscal"]] = "native",
        publish: FromQuery[bool] = False,
    ) -> Response[ImportResult]:
        catalog = parse_document(body, format=format, source="request body")
        result = await catalogs.import_catalog(caller, catalog, publish=publish)
        return Response(result, status_code=200 if result.outcome == "unchanged" else 201)

    @post(
        "/{catalog_id:str}/{version:str}/publish",
        guards=admin_only,
        status_code=200,
        problems=[409],
        summary="Publish a draft",
    )
    async def publish(
        self, catalogs: Catalogs, caller: CallerDep, catalog_id: FromPath[str], version: FromPath[str]
    ) -> CatalogSummary:
        return await catalogs.publish(caller, catalog_id, version)

    @post(
        "/{catalog_id:str}/{version:str}/retire",
        guards=admin_only,
        status_code=200,
        problems=[409],
        summary="Retire a version",
    )
    async def retire(
        self, catalogs: Catalogs, caller: CallerDep, catalog_id: FromPath[str], version: FromPath[str]
    ) -> CatalogSummary:
        return await catalogs.retire(caller, catalog_id, version)
