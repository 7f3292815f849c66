"""Access to /reconcile when reads need a key: OpenRefine cannot send headers, so the key
travels as ?api_key= on the URL it was given (declared in the manifest's `authentication`);
it is checked before any body is read and never written to the log or the metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth.keys import Scope, create_key
from app.config import Settings
from app.db import make_engine
from app.main import create_app
from tests.api.conftest import sync_from
from tests.conftest import SAMPLE_SITE, make_settings
from tests.reconcile.spec import assert_valid
from tests.support.httpserver import routes_from_directory, serve

QUERIES = json.dumps({"q0": {"query": "Safe-Hands Training Ltd"}})


@pytest.fixture
def keyed_settings(database_url: str) -> Settings:
    """Reads need a key; production's logging (JSON at INFO), so the log can be read."""
    with serve(routes_from_directory(SAMPLE_SITE)) as server:
        settings = make_settings(
            database_url, source_url=server.url, public_read=False, log_json=True, log_level="INFO"
        )
        sync_from(settings)
    return settings


def _key(settings: Settings) -> str:
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with Session(engine) as session, session.begin():
            return create_key(session, "openrefine", Scope.READ, settings.key_pepper).key
    finally:
        engine.dispose()


@pytest.fixture
def key(keyed_settings: Settings) -> str:
    return _key(keyed_settings)


@pytest.fixture
def keyed_app(keyed_settings: Settings, key: str) -> FastAPI:
    return create_app(keyed_settings)


@pytest.fixture
def client(keyed_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(keyed_app) as test_client:
        yield test_client


def test_the_manifest_is_public_and_declares_the_key_in_the_query(client: TestClient) -> None:
    response = client.get("/reconcile")
    assert response.status_code == 200
    manifest = response.json()
    assert_valid("0.2", "manifest", manifest)
    assert manifest["authentication"]["type"] == "apiKey"
    assert manifest["authentication"]["in"] == "query"
    assert manifest["authentication"]["name"] == "api_key"
    assert "api_key" not in json.dumps(manifest["suggest"]) + manifest["preview"]["url"]


def test_a_manifest_asked_with_a_key_carries_it_where_the_browser_needs_it(
    client: TestClient, key: str
) -> None:
    response = client.get("/reconcile", params={"api_key": key})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    manifest = response.json()
    preview = urlsplit(manifest["preview"]["url"].replace("{{id}}", "3"))
    assert parse_qs(preview.query) == {"id": ["3"], "api_key": [key]}
    entity = urlsplit(manifest["suggest"]["entity"]["service_path"])
    assert parse_qs(entity.query) == {"api_key": [key]}
    view = urlsplit(manifest["view"]["url"].replace("{{id}}", "3"))
    assert parse_qs(view.query) == {"api_key": [key]}
    # OpenRefine appends "?type=" to the proposal path as it is: no query there.
    assert "?" not in manifest["extend"]["propose_properties"]["service_path"]


def test_a_wrong_key_on_the_manifest_shows_at_once(client: TestClient) -> None:
    response = client.get("/reconcile", params={"api_key": "cl_wrong_key"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_queries_need_the_key_in_the_query_or_a_header(
    client: TestClient, key: str, method: str
) -> None:
    def ask(params: dict[str, str], headers: dict[str, str] | None = None) -> int:
        if method == "GET":
            params = {**params, "queries": QUERIES}
            return client.get("/reconcile", params=params, headers=headers).status_code
        data = {"queries": QUERIES}
        return client.post("/reconcile", params=params, data=data, headers=headers).status_code

    assert ask({}) == 401
    assert ask({"api_key": "cl_wrong_key"}) == 401
    assert ask({"api_key": key}) == 200
    assert ask({}, {"X-API-Key": key}) == 200
    assert ask({"api_key": key}, {"X-API-Key": key}) == 200
    assert ask({"api_key": key}, {"X-API-Key": "cl_other_key"}) == 401


def test_a_repeated_key_parameter_is_refused(client: TestClient, key: str) -> None:
    response = client.post(f"/reconcile?api_key={key}&api_key={key}", data={"queries": QUERIES})
    assert response.status_code == 422
    assert response.json()["code"] == "repeated_parameter"


def test_the_key_is_checked_before_the_body_is_read(client: TestClient) -> None:
    huge = "queries=" + "x" * 3_000_000
    headers = {"content-type": "application/x-www-form-urlencoded"}
    response = client.post("/reconcile?api_key=cl_wrong_key", content=huge, headers=headers)
    assert response.status_code == 401  # not 413: the body was never looked at


def test_the_key_never_reaches_the_log_or_the_metrics(
    keyed_settings: Settings, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The app is made here: the log writes to the stderr of the moment (capsys swaps it).
    with TestClient(create_app(keyed_settings)) as client:
        capsys.readouterr()
        assert client.get("/reconcile", params={"api_key": key}).status_code == 200
        ok = client.post(f"/reconcile?api_key={key}", data={"queries": QUERIES})
        assert ok.status_code == 200
        bad = client.post(f"/reconcile?api_key={key}", data={"queries": "{broken"})
        assert bad.status_code == 422
        assert key not in bad.text
        wrong = client.post("/reconcile?api_key=cl_wrong_secret", data={"queries": QUERIES})
        assert wrong.status_code == 401
        assert "cl_wrong_secret" not in wrong.text
        metrics = client.get("/metrics", headers={"X-API-Key": key}).text
    log = capsys.readouterr().err
    lines = [json.loads(line) for line in log.splitlines()]
    paths = [line["path"] for line in lines if line.get("logger") == "app.access"]
    assert paths.count("/reconcile") == 4
    secret = key.split("_", 2)[2]  # cl_<prefix>_<secret>; the secret may hold "_" itself
    assert len(secret) >= 30
    for text in (log, metrics):
        assert secret not in text
        assert "cl_wrong_secret" not in text
        assert "api_key=" not in text


def test_the_view_link_opens_the_organisation_page_with_the_key_it_carries(
    client: TestClient, key: str
) -> None:
    manifest = client.get("/reconcile", params={"api_key": key}).json()
    link = urlsplit(manifest["view"]["url"].replace("{{id}}", "3"))
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    page = client.get(f"{link.path}?{link.query}", headers=browser)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert client.get(link.path, headers=browser).status_code == 401
    wrong = client.get(f"{link.path}?api_key=cl_wrong_key", headers=browser)
    assert wrong.status_code == 401


def test_no_other_v1_endpoint_takes_the_key_in_the_query(client: TestClient, key: str) -> None:
    assert client.get("/v1/register", params={"api_key": key}).status_code == 401
    assert client.get("/v1/check", params={"name": "x", "api_key": key}).status_code == 401
