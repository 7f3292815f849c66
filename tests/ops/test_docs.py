"""/docs: Swagger UI 5 from the package itself (no CDN), reading /openapi.json."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import make_settings

ASSET_TYPES = {
    "/docs/static/swagger-ui-bundle.js": "javascript",
    "/docs/swagger-init.js": "javascript",
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


def _config(html: str) -> dict[str, object]:
    """The settings Swagger UI starts with: the page's JSON data block."""
    block = BeautifulSoup(html, "html.parser").find("script", id="swagger-ui-config")
    assert block is not None
    return dict(json.loads(block.get_text()))


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
    assert '"tryItOutEnabled": true' in html
    assert '"validatorUrl": null' in html  # the default badge calls validator.swagger.io


def test_swagger_ui_reads_the_openapi_31_document_with_the_key_schemes(
    client: TestClient,
) -> None:
    assert _config(client.get("/docs").text)["url"] == "/openapi.json"
    assert client.get("/docs/openapi.json").status_code == 404, "no separate UI schema"
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1.")
    schemes = doc["components"]["securitySchemes"]
    api_key = [
        n for n, s in schemes.items() if s.get("in") == "header" and s["name"] == "X-API-Key"
    ]
    bearer = [n for n, s in schemes.items() if s.get("scheme", "").lower() == "bearer"]
    assert api_key, schemes
    assert bearer, schemes
    required = {name for option in doc["paths"]["/v1/check"]["get"]["security"] for name in option}
    assert required == {api_key[0], bearer[0]}


def test_the_bundled_swagger_ui_is_version_5(client: TestClient) -> None:
    """Swagger UI 4 cannot render OpenAPI 3.1: the served bundle must be 5 or later."""
    bundle = client.get("/docs/static/swagger-ui-bundle.js").text
    found = re.search(r'PACKAGE_VERSION:"(\d+)\.\d+\.\d+"', bundle)
    assert found, "no Swagger UI version in the bundle"
    assert int(found.group(1)) >= 5, found.group(0)


def test_docs_routes_stay_out_of_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/docs")]


def test_docs_urls_follow_the_root_path_behind_a_proxy(app: FastAPI) -> None:
    html = TestClient(app, root_path="/lookup").get("/docs").text
    assert _config(html)["url"] == "/lookup/openapi.json"
    assert all(url.startswith("/lookup/docs/") for url in _asset_urls(html))


def test_docs_run_no_inline_script_under_a_strict_policy_and_refuse_framing(
    client: TestClient,
) -> None:
    page = client.get("/docs")
    scripts = BeautifulSoup(page.text, "html.parser").find_all("script")
    inline = [s for s in scripts if not s.get("src") and s.get("type") != "application/json"]
    assert inline == []
    assert [s.get("id") for s in scripts if not s.get("src")] == ["swagger-ui-config"]
    for response in (page, client.get("/docs/swagger-init.js")):
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "script-src 'self';" in policy
        assert "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
