"""create_app(settings): wiring only. Rules live in the domain services."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar
from litestar.config.allowed_hosts import AllowedHostsConfig
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from portal import i18n
from portal.api_docs import SWAGGER_UI, SWAGGER_UI_URL, ApiDocs
from portal.db import close_engine, connect, open_engine
from portal.deps import dependencies
from portal.domain.accounts.controllers import AuthController, MeController, MembersController
from portal.domain.accounts.pages import AccountPages, OrganisationPages
from portal.domain.assessments.controllers import AssessmentsController
from portal.domain.assessments.pages import AssessmentPages
from portal.domain.catalogs.controllers import CatalogsController
from portal.domain.catalogs.pages import CatalogPages
from portal.domain.evidence.controllers import EvidenceController
from portal.domain.issuance.controllers import AttestationsController, DecisionController
from portal.domain.issuance.pages import AttestationPages, DecisionPages
from portal.domain.issuance.status_route import StatusRoute
from portal.domain.keys.controllers import JwksController, KeysController
from portal.domain.log.controllers import LogController, LogTilesController
from portal.domain.organisations.controllers import OrganisationsController
from portal.domain.organisations.pages import RegulatorOrganisationPages
from portal.domain.registry.controllers import RegistryController
from portal.domain.registry.pages import RegistryPages
from portal.domain.reviews.controllers import ReviewQueueController, ReviewsController
from portal.domain.reviews.pages import InboxPages, ReviewPages, ThreadPages
from portal.domain.status.controllers import StatusListsController
from portal.domain.verification.controllers import VerifyController
from portal.domain.verification.pages import VerifyPages
from portal.openapi import AnyOfSchemas, ProblemResponses, StrictBodies
from portal.pages import set_language
from portal.problems import EXCEPTION_HANDLERS
from portal.runtime import build_runtime
from portal.security.csrf import PortalCSRFMiddleware, csrf_config
from portal.security.headers import security_headers
from portal.security.hosts import AllowedHosts
from portal.security.limits import BodyTimeout
from portal.security.nul import RefuseNul
from portal.security.redact import install_access_log_filter
from portal.settings import Settings, load_settings
from portal.site import SiteController

HERE = Path(__file__).parent


def _templates() -> TemplateConfig[JinjaTemplateEngine]:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True),
        auto_reload=False,
    )
    i18n.install(environment)
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    install_access_log_filter()  # invitation secrets in a path never reach uvicorn's access log
    runtime = build_runtime(settings)
    engine = connect(settings.database_url)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await open_engine(engine)
        await runtime.evidence.sweep()  # what a crash can leave: dead uploads' temporaries, unrecorded files
        await runtime.keys.log_unlogged()  # every key's history is public from its first use
        runtime.status_lookup.start()  # this worker follows the log to forget changed statuses
        try:
            yield
        finally:
            await runtime.status_lookup.stop()
            await close_engine(engine)

    csrf = csrf_config(runtime.csrf_secret, secure=settings.production)
    app = Litestar(
        route_handlers=[
            SiteController,
            AuthController,
            MeController,
            MembersController,
            OrganisationsController,
            AccountPages,
            OrganisationPages,
            RegulatorOrganisationPages,
            CatalogsController,
            CatalogPages,
            AssessmentsController,
            AssessmentPages,
            EvidenceController,
            JwksController,
            KeysController,
            StatusListsController,
            DecisionController,
            AttestationsController,
            DecisionPages,
            AttestationPages,
            RegistryController,
            RegistryPages,
            ReviewQueueController,
            ReviewsController,
            ReviewPages,
            InboxPages,
            ThreadPages,
            LogTilesController,
            LogController,
            VerifyController,
            VerifyPages,
            create_static_files_router(path="/static", directories=[HERE / "static"], include_in_schema=False),
            create_static_files_router(path=SWAGGER_UI_URL, directories=[SWAGGER_UI], include_in_schema=False),
        ],
        dependencies=dependencies(runtime),
        middleware=[
            DefineMiddleware(AllowedHosts, config=AllowedHostsConfig(allowed_hosts=settings.allowed_hosts)),
            RefuseNul,
            DefineMiddleware(
                BodyTimeout, idle_seconds=settings.body_idle_seconds, total_seconds=settings.body_total_seconds
            ),
            runtime.session_auth.middleware,
            DefineMiddleware(PortalCSRFMiddleware, config=csrf),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=set_language,
        before_send=[security_headers(settings.production)],
        template_config=_templates(),
        cors_config=CORSConfig(allow_origins=settings.cors_origins) if settings.cors_origins else None,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Provider Attestation Portal",
            version="1",
            path="/schema",
            render_plugins=[ApiDocs()],
            components=[runtime.session_auth.openapi_components],
        ),
        plugins=[ProblemResponses(), AnyOfSchemas(), StrictBodies()],
        lifespan=[lifespan],
        state=State({"runtime": runtime, "settings": settings}),
        debug=False,
    )
    # The hottest public read, answered ahead of the router when its read model keeps the answer (the
    # before-send hook, which adds the security headers, still sees it).
    lookup, limiter = runtime.status_lookup, runtime.rate_limiter
    app.asgi_handler = StatusRoute(app.asgi_handler, lookup, limiter, settings.allowed_hosts)
    return app
