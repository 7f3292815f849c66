"""Swagger UI served from the package itself, so /docs works on offline council networks.

FastAPI's default /docs loads Swagger UI from a CDN and is blank without internet; here the
assets come from the `swagger-ui-py` package (Swagger UI 5, which renders the OpenAPI 3.1
document FastAPI writes), mounted at /docs/static. The page reads /openapi.json directly.
It has no inline script (its start-up is /docs/swagger-init.js), so its Content-Security-
Policy allows only this service's own files, and it may not be framed.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app.ops.edge import page_policy

DOCS_PATH = "/docs"
STATIC_PATH = "/docs/static"

SWAGGER_UI_PARAMETERS: dict[str, Any] = {
    "persistAuthorization": True,  # analysts should not re-enter the key on every reload
    "tryItOutEnabled": True,
    "displayRequestDuration": True,
    # The default validator badge calls validator.swagger.io: an external request, and
    # a broken image on locked-down networks.
    "validatorUrl": None,
}


def swagger_ui_static_dir() -> Path:
    """The Swagger UI assets shipped in the `swagger_ui` package (from swagger-ui-py).

    Found without importing the package, whose __init__ loads its own framework adapters.
    """
    spec = find_spec("swagger_ui")
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise RuntimeError("swagger-ui-py is not installed: /docs has no Swagger UI assets")
    return Path(locations[0]) / "static"


INIT_PATH = "/docs/swagger-init.js"
# Swagger UI's start-up, a served file rather than an inline script, so the page's
# Content-Security-Policy can forbid inline script. It reads its settings from the page's
# JSON data block (data, never executed).
INIT_SCRIPT = """\
"use strict";
(function () {
  var config = JSON.parse(document.getElementById("swagger-ui-config").textContent);
  config.presets = [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset];
  window.ui = SwaggerUIBundle(config);
})();
"""
PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title}</title>
<link rel="stylesheet" href="{static}/swagger-ui.css">
<link rel="icon" href="{static}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script type="application/json" id="swagger-ui-config">{config}</script>
<script src="{static}/swagger-ui-bundle.js"></script>
<script src="{init}"></script>
</body>
</html>
"""
# The page and its start-up script: our own files only, and never in a frame.
PAGE_HEADERS = {"Content-Security-Policy": page_policy(), "X-Frame-Options": "DENY"}


def install_docs(app: FastAPI) -> None:
    """Mount /docs with assets served from the package.

    Its Authorize button offers the key schemes that app/auth/dependencies.py declares.
    """
    app.mount(STATIC_PATH, StaticFiles(directory=swagger_ui_static_dir()), name="docs")
    app.add_api_route(
        DOCS_PATH,
        _docs_page(app, app.openapi_url or "/openapi.json"),
        methods=["GET"],
        include_in_schema=False,
    )
    app.add_api_route(INIT_PATH, _init_script, methods=["GET"], include_in_schema=False)


async def _init_script() -> Response:
    """Swagger UI's start-up script (see INIT_SCRIPT)."""
    return Response(INIT_SCRIPT, media_type="text/javascript", headers=PAGE_HEADERS)


def swagger_ui_config(schema_url: str) -> dict[str, Any]:
    """What SwaggerUIBundle is started with (as FastAPI's own /docs page, plus ours)."""
    return {
        "url": schema_url,
        "dom_id": "#swagger-ui",
        "layout": "BaseLayout",
        "deepLinking": True,
        "showExtensions": True,
        "showCommonExtensions": True,
        **SWAGGER_UI_PARAMETERS,
    }


def _docs_page(app: FastAPI, schema_path: str) -> Callable[[Request], Any]:
    async def swagger_ui(request: Request) -> HTMLResponse:
        """Swagger UI, with every asset served by this service and no inline script."""
        # root_path keeps every URL right when a proxy serves the API under a prefix.
        root = request.scope.get("root_path", "").rstrip("/")
        # In a <script> data block only "</" could end it early: write "<" as an escape.
        config = json.dumps(swagger_ui_config(root + schema_path)).replace("<", "\\u003c")
        page = PAGE.format(
            title=html.escape(f"{app.title} - API docs"),
            static=root + STATIC_PATH,
            init=root + INIT_PATH,
            config=config,
        )
        return HTMLResponse(page, headers=PAGE_HEADERS)

    return swagger_ui
