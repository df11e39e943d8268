"""The API documentation at /schema: Swagger UI, served by the portal itself.

Litestar's Swagger plugin loads its script from a CDN and starts it with an inline script, both of which the
Content Security Policy (script-src 'self') refuses, leaving a blank page. This page loads Swagger UI from the
`swagger-ui-py` package's copy (Apache-2.0, its LICENSE is served beside it) under /static/swagger-ui and
starts it from /static/api-docs/start.js, which reads the OpenAPI document from /schema/openapi.json.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import swagger_ui
from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

SWAGGER_UI = Path(swagger_ui.__file__).parent / "static"
SWAGGER_UI_URL = "/static/swagger-ui"


class ApiDocs(OpenAPIRenderPlugin):
    def __init__(self) -> None:
        super().__init__(path="/swagger", favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema["info"]["title"]))
        return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} — API</title>
  <link rel="icon" href="/favicon.ico">
  <link rel="stylesheet" href="{SWAGGER_UI_URL}/swagger-ui.css">
  <link rel="stylesheet" href="/static/api-docs/api-docs.css">
</head>
<body>
  <main id="swagger-ui" data-openapi-url="/schema/openapi.json"></main>
  <script src="{SWAGGER_UI_URL}/swagger-ui-bundle.js"></script>
  <script src="/static/api-docs/start.js"></script>
</body>
</html>
""".encode()
