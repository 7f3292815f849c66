"""/docs: Swagger UI from the package itself (no CDN), and the schema it is given."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from app.ops import docs
from app.ops.docs import openapi_30, swagger_ui_major_version
from tests.conftest import make_settings

ASSET_TYPES = {
    "/docs/static/swagger-ui-bundle.js": "javascript",
    "/docs/static/swagger-ui.css": "text/css",
    "/docs/static/favicon-32x32.png": "image/png",
}


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    """The app, not started: /docs and the schemas need no database."""
    return create_app(make_settings(f"sqlite:///{tmp_path / 'docs.sqlite3'}"))


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    """A client that does not run the lifespan."""
    return TestClient(app)


def _asset_urls(html: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    tags = soup.find_all(["script", "link", "img"])
    return [
        str(tag.get("src") or tag.get("href")) for tag in tags if tag.get("src") or tag.get("href")
    ]


def test_docs_page_loads_every_asset_from_this_service(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    urls = _asset_urls(page.text)
    assert set(urls) == set(ASSET_TYPES)
    external = [url for url in urls if urlsplit(url).scheme or urlsplit(url).netloc]
    assert external == []
    for url, media_type in ASSET_TYPES.items():
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert media_type in asset.headers["content-type"], url


def test_docs_page_persists_authorisation_and_calls_no_external_validator(
    client: TestClient,
) -> None:
    html = client.get("/docs").text
    assert '"persistAuthorization": true' in html
    assert '"validatorUrl": null' in html  # the default badge calls validator.swagger.io


def test_swagger_ui_gets_an_openapi_30_document_with_the_key_schemes(client: TestClient) -> None:
    assert swagger_ui_major_version() == 4  # the bundle cannot render OpenAPI 3.1
    assert "url: '/docs/openapi.json'" in client.get("/docs").text
    ui_doc = client.get("/docs/openapi.json").json()
    api_doc = client.get("/openapi.json").json()
    assert ui_doc["openapi"].startswith("3.0.")
    assert api_doc["openapi"].startswith("3.1."), "/openapi.json itself must stay untouched"
    assert ui_doc["paths"].keys() == api_doc["paths"].keys()
    assert '{"type": "null"}' not in json.dumps(ui_doc)
    schemes = ui_doc["components"]["securitySchemes"]
    api_key = [
        n for n, s in schemes.items() if s.get("in") == "header" and s["name"] == "X-API-Key"
    ]
    bearer = [n for n, s in schemes.items() if s.get("scheme", "").lower() == "bearer"]
    assert api_key, schemes
    assert bearer, schemes
    required = {
        name for option in ui_doc["paths"]["/v1/check"]["get"]["security"] for name in option
    }
    assert required == {api_key[0], bearer[0]}


def test_docs_routes_stay_out_of_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/docs")]


def test_docs_urls_follow_the_root_path_behind_a_proxy(app: FastAPI) -> None:
    html = TestClient(app, root_path="/lookup").get("/docs").text
    assert "url: '/lookup/docs/openapi.json'" in html
    assert all(url.startswith("/lookup/docs/static/") for url in _asset_urls(html))


def test_with_a_swagger_ui_5_bundle_the_page_reads_openapi_json_directly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docs, "swagger_ui_major_version", lambda: 5)
    client = TestClient(create_app(make_settings(f"sqlite:///{tmp_path / 'x.sqlite3'}")))
    assert "url: '/openapi.json'" in client.get("/docs").text
    assert client.get("/docs/openapi.json").status_code == 404


@pytest.mark.parametrize(
    ("directory", "major"),
    [("swagger-ui-4.15.5", 4), ("/x/vendor/swagger-ui-5.32.6", 5), ("swagger-ui", 0)],
)
def test_swagger_ui_major_version_is_read_from_the_bundle_directory(
    directory: str, major: int
) -> None:
    assert swagger_ui_major_version(directory) == major


def _schema_doc(schema: dict[str, Any]) -> dict[str, Any]:
    return {"openapi": "3.1.0", "components": {"schemas": {"S": schema}}}


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (
            {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}], "title": "D"},
            {"type": "string", "format": "date", "nullable": True, "title": "D"},
        ),
        (
            {"anyOf": [{"$ref": "#/components/schemas/T"}, {"type": "null"}]},
            {"anyOf": [{"$ref": "#/components/schemas/T"}], "nullable": True},
        ),
        (
            {"oneOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]},
            {"oneOf": [{"type": "integer"}, {"type": "string"}], "nullable": True},
        ),
        ({"type": ["integer", "null"]}, {"type": "integer", "nullable": True}),
        ({"const": "certified"}, {"enum": ["certified"]}),
        ({"type": "string", "examples": ["a", "b"]}, {"type": "string", "example": "a"}),
        (
            {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1.5},
            {
                "type": "number",
                "minimum": 0,
                "exclusiveMinimum": True,
                "maximum": 1.5,
                "exclusiveMaximum": True,
            },
        ),
        (
            {"properties": {"const": {"type": "string"}, "examples": {"type": "integer"}}},
            {"properties": {"const": {"type": "string"}, "examples": {"type": "integer"}}},
        ),
    ],
)
def test_openapi_30_rewrites_31_schema_keywords(
    schema: dict[str, Any], expected: dict[str, Any]
) -> None:
    source = _schema_doc(schema)
    before = copy.deepcopy(source)
    converted = openapi_30(source)
    assert converted["openapi"] == "3.0.3"
    assert converted["components"]["schemas"]["S"] == expected
    assert source == before, "the cached 3.1 document must not be modified"


def test_openapi_30_keeps_parameter_example_maps() -> None:
    examples = {"listed": {"summary": "A listed name", "value": "Severn NHS FT"}}
    source = {
        "openapi": "3.1.0",
        "paths": {"/x": {"get": {"parameters": [{"examples": examples}]}}},
    }
    converted = openapi_30(source)
    assert converted["paths"]["/x"]["get"]["parameters"][0]["examples"] == examples
