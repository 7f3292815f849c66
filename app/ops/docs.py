"""Swagger UI served from the package itself, so /docs works on offline council networks.

FastAPI's default /docs loads Swagger UI from a CDN and is blank without internet; here the
assets come from the `swagger-ui-bundle` package, mounted at /docs/static.

That package ships Swagger UI 4, which refuses OpenAPI 3.1 documents ("does not specify a
valid version field") while FastAPI writes 3.1. The page therefore loads its own 3.0 rendering
of the schema from /docs/openapi.json; /openapi.json itself stays 3.1 for every other client.
With a Swagger UI 5 bundle the page uses /openapi.json directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/docs"
STATIC_PATH = "/docs/static"
UI_SCHEMA_PATH = "/docs/openapi.json"
NULL_SCHEMA = {"type": "null"}

SWAGGER_UI_PARAMETERS: dict[str, Any] = {
    "persistAuthorization": True,  # analysts should not re-enter the key on every reload
    "tryItOutEnabled": True,
    "displayRequestDuration": True,
    # The default validator badge calls validator.swagger.io: an external request, and
    # a broken image on locked-down networks.
    "validatorUrl": None,
}


def swagger_ui_major_version(asset_dir: str = swagger_ui_bundle.swagger_ui_path) -> int:
    """Major version of the bundled Swagger UI (its directory is named swagger-ui-X.Y.Z)."""
    found = re.search(r"(\d+)\.\d+\.\d+", Path(asset_dir).name)
    return int(found.group(1)) if found else 0


def install_docs(app: FastAPI) -> None:
    """Mount /docs with assets served from the package.

    Its Authorize button offers the key schemes that app/auth/dependencies.py declares.
    """
    app.mount(STATIC_PATH, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs")
    schema_path = app.openapi_url or "/openapi.json"
    if swagger_ui_major_version() < 5:
        app.add_api_route(UI_SCHEMA_PATH, _ui_schema(app), methods=["GET"], include_in_schema=False)
        schema_path = UI_SCHEMA_PATH
    app.add_api_route(
        DOCS_PATH, _docs_page(app, schema_path), methods=["GET"], include_in_schema=False
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


def _ui_schema(app: FastAPI) -> Callable[[], Any]:
    cache: dict[str, Any] = {}

    async def ui_schema() -> JSONResponse:
        """The OpenAPI document as 3.0, for Swagger UI 4."""
        if "doc" not in cache:
            cache["doc"] = openapi_30(app.openapi())
        return JSONResponse(cache["doc"])

    return ui_schema


def openapi_30(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of an OpenAPI 3.1 document in the 3.0 dialect that Swagger UI 4 renders.

    Covers what FastAPI and pydantic emit: `anyOf`/`oneOf` with `{"type": "null"}` and type
    lists become `nullable`, `const` an one-value `enum`, a schema's `examples` list its
    `example`, numeric `exclusiveMinimum`/`exclusiveMaximum` the 3.0 boolean form.
    """
    converted = _to_30(schema)
    converted["openapi"] = "3.0.3"
    return converted


def _to_30(node: Any) -> Any:
    if isinstance(node, list):
        return [_to_30(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _to_30(value) for key, value in node.items()}
    for key in ("anyOf", "oneOf"):
        options = out.get(key)
        if isinstance(options, list) and NULL_SCHEMA in options:
            _drop_null_option(out, key, [o for o in options if o != NULL_SCHEMA])
    if isinstance(out.get("type"), list) and "null" in out["type"]:
        kinds = [kind for kind in out["type"] if kind != "null"]
        out["nullable"] = True
        out["type"] = kinds[0] if len(kinds) == 1 else kinds
    if "const" in out and not isinstance(out["const"], dict):
        out.setdefault("enum", [out.pop("const")])
    if isinstance(out.get("examples"), list):
        examples = out.pop("examples")
        if examples:
            out.setdefault("example", examples[0])
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = out.get(bound)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[limit], out[bound] = value, True
    return out


def _drop_null_option(out: dict[str, Any], key: str, rest: list[Any]) -> None:
    out["nullable"] = True
    del out[key]
    if len(rest) == 1 and "$ref" not in rest[0]:
        out.update({k: v for k, v in rest[0].items() if k not in out})
    elif rest:
        # 3.0 ignores keywords beside $ref, so a nullable reference stays wrapped.
        out[key] = rest
