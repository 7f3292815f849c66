"""Swagger UI served from the package itself, so /docs works on offline council networks.

FastAPI's default /docs loads Swagger UI from a CDN and is blank without internet; here the
assets come from the `swagger-ui-py` package (Swagger UI 5, which renders the OpenAPI 3.1
document FastAPI writes), mounted at /docs/static. The page reads /openapi.json directly.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

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


def _docs_page(app: FastAPI, schema_path: str) -> Callable[[Request], Any]:
    async def swagger_ui(request: Request) -> HTMLResponse:
        """Swagger UI, with every asset served by this service."""
        # root_path keeps every URL right when a proxy serves the API under a prefix.
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + schema_path,
            title=f"{app.title} - API docs",
            swagger_js_url=f"{root}{STATIC_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_PATH}/favicon-32x32.png",
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )

    return swagger_ui
