"""Before a handler runs: repeated parameters, the key before the body, the body's size.

Requests go straight into the ASGI app, so a test can see whether the body was read at all.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from app.auth.keys import Scope, create_key
from app.config import Settings
from app.db import make_engine, transaction
from app.main import create_app
from app.route_guard import MAX_JSON_VALUES, RouteGuard, guard_routes
from app.routing import PlainRoute
from app.schemas import RequestBody
from tests.conftest import make_settings
from tests.support.asgi import call

MB = 1_000_000
CHUNK = 64 * 1024


def _body_stream(size: int) -> Iterator[bytes]:
    sent = 0
    while sent < size:
        chunk = b" " * min(CHUNK, size - sent)
        sent += len(chunk)
        yield chunk


def _create_key(settings: Settings, scope: Scope) -> str:
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with transaction(engine) as session:
            return create_key(session, f"guard {scope.value}", scope, settings.key_pepper).key
    finally:
        engine.dispose()


@pytest.fixture
def private_settings(database_url: str) -> Settings:
    return make_settings(database_url, public_read=False)


@pytest.fixture
def private_app(private_settings: Settings) -> Iterator[FastAPI]:
    app = create_app(private_settings)
    with TestClient(app):
        yield app


JSON = ("content-type", "application/json")


def test_every_path_operation_of_the_app_is_guarded(private_app: FastAPI) -> None:
    for route in private_app.routes:
        if isinstance(route, PlainRoute):
            continue  # GET /v1/check reads its own parameters and key (app/checks/router.py)
        if isinstance(route, APIRoute):
            assert isinstance(route.app, RouteGuard), route.path
        elif isinstance(route, Route):  # /openapi.json: no parameters, no body
            assert route.methods is not None
            assert route.methods <= {"GET", "HEAD"}, route
        else:
            assert isinstance(route, Mount), route  # Swagger UI's static files: GET only


def test_a_body_without_a_key_is_refused_before_it_is_read(private_app: FastAPI) -> None:
    sent = call(
        private_app,
        "POST",
        "/v1/check/batch",
        headers=[JSON, ("content-length", str(30 * MB))],
        body=_body_stream(30 * MB),
    )
    assert (sent.status, sent.problem()["code"], sent.chunks_read) == (401, "unauthorized", 0)


def test_a_body_with_a_wrong_key_is_refused_before_it_is_read(private_app: FastAPI) -> None:
    sent = call(
        private_app,
        "POST",
        "/v1/check/batch",
        headers=[JSON, ("x-api-key", "cl_00000000_wrong"), ("transfer-encoding", "chunked")],
        body=_body_stream(30 * MB),
    )
    assert (sent.status, sent.problem()["code"], sent.chunks_read) == (401, "unauthorized", 0)


def test_an_admin_body_needs_a_key_even_when_reads_are_public(database_url: str) -> None:
    app = create_app(make_settings(database_url, public_read=True))
    with TestClient(app):
        sent = call(
            app,
            "POST",
            "/v1/sync-runs",
            headers=[JSON, ("content-length", "16")],
            body=iter([b'{"force": true}']),
        )
    assert (sent.status, sent.chunks_read) == (401, 0)


def test_a_declared_length_over_the_limit_is_413_at_once_and_closes_the_connection(
    private_app: FastAPI, private_settings: Settings
) -> None:
    key = _create_key(private_settings, Scope.READ)
    sent = call(
        private_app,
        "POST",
        "/v1/check/batch",
        headers=[JSON, ("x-api-key", key), ("content-length", str(30 * MB))],
        body=_body_stream(30 * MB),
    )
    assert (sent.status, sent.problem()["code"], sent.chunks_read) == (413, "body_too_large", 0)
    assert sent.headers["connection"] == "close"


def test_a_chunked_body_is_cut_off_as_soon_as_it_passes_the_limit(
    private_app: FastAPI, private_settings: Settings
) -> None:
    key = _create_key(private_settings, Scope.READ)
    sent = call(
        private_app,
        "POST",
        "/v1/check/batch",
        headers=[JSON, ("x-api-key", key), ("transfer-encoding", "chunked")],
        body=_body_stream(30 * MB),
    )
    assert (sent.status, sent.problem()["code"]) == (413, "body_too_large")
    assert sent.chunks_read == private_settings.max_body_bytes // CHUNK + 1
    assert sent.headers["connection"] == "close"


def test_a_body_at_the_limit_is_read_and_judged_on_its_content(database_url: str) -> None:
    app = create_app(make_settings(database_url, max_body_bytes=1000))
    body = b'{"queries": [' + b" " * (1000 - 15) + b"]}"
    with TestClient(app) as client:
        assert len(body) == 1000
        assert client.post("/v1/check/batch", content=body, headers=dict([JSON])).status_code == (
            200
        )
        over = client.post("/v1/check/batch", content=body + b" ", headers=dict([JSON]))
    assert (over.status_code, over.json()["code"]) == (413, "body_too_large")


def test_a_json_body_with_too_many_values_is_refused_while_it_arrives(
    private_app: FastAPI, private_settings: Settings
) -> None:
    key = _create_key(private_settings, Scope.READ)
    values = b"[" + b"[]," * MAX_JSON_VALUES + b"[]]"  # 300 kB: well under the size limit
    sent = call(
        private_app,
        "POST",
        "/v1/check/batch",
        headers=[JSON, ("x-api-key", key), ("content-length", str(len(values)))],
        body=iter([values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]),
    )
    assert (sent.status, sent.problem()["code"]) == (413, "body_too_complex")


class Upload(RequestBody):
    data: str


def test_a_route_declares_a_larger_body_limit_with_max_body_size(database_url: str) -> None:
    app = create_app(make_settings(database_url, max_body_bytes=1000))

    # Added after create_app, so guarded here as create_app guards its own routes.
    @app.post("/upload", max_body_size=5000)
    async def upload(body: Upload) -> dict[str, int]:
        return {"size": len(body.data)}

    @app.post("/small")
    async def small(body: Upload) -> dict[str, int]:
        return {"size": len(body.data)}

    guard_routes(app, 1000)
    with TestClient(app) as client:
        assert client.post("/upload", json={"data": "x" * 4000}).json() == {"size": 4000}
        too_big = client.post("/upload", json={"data": "x" * 5000})
        default = client.post("/small", json={"data": "x" * 4000})
    assert (too_big.status_code, too_big.json()["code"]) == (413, "body_too_large")
    assert (default.status_code, default.json()["code"]) == (413, "body_too_large")


@pytest.mark.parametrize(
    "path",
    [
        "/v1/check?name=Acme&name=Other",
        "/v1/check?name=Acme&as_of=2024-01-01&as_of=2025-01-01",
        "/v1/check?name=Acme&setting=cqc&setting=ofsted_only",
        "/v1/organisations?q=a&q=b",
        "/v1/organisations?page=1&page=2",
        "/v1/changes?since=2024-01-01&since=2025-01-01",
        "/v1/sync-runs?page_size=1&page_size=2",
    ],
)
def test_a_parameter_taken_once_but_sent_twice_is_a_422_naming_it(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "repeated_parameter"
    repeated = path.rsplit("&", 1)[1].split("=")[0]
    assert f"the {repeated} parameter is repeated" in body["detail"]


def test_a_repeatable_parameter_may_be_repeated(client: TestClient) -> None:
    response = client.get("/v1/organisations?status=certified&status=affiliate")
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/v1/check?name=Acme", "/v1/register"])
@pytest.mark.parametrize(
    ("header", "value"), [("X-API-Key", "cl_1_a"), ("Authorization", "Bearer cl_1_a")]
)
def test_a_repeated_key_header_is_a_401_naming_it(
    client: TestClient, path: str, header: str, value: str
) -> None:
    response = client.get(path, headers=[(header, value), (header, value)])
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "repeated_header"
    assert f"the {header} header is repeated" in body["detail"]


def test_a_repeated_key_header_on_a_body_is_refused_before_the_body(
    private_app: FastAPI,
) -> None:
    sent = call(
        private_app,
        "POST",
        "/v1/check/batch",
        headers=[JSON, ("x-api-key", "a"), ("x-api-key", "b"), ("content-length", "15")],
        body=iter([b'{"queries": []}']),
    )
    assert (sent.status, sent.problem()["code"], sent.chunks_read) == (401, "repeated_header", 0)
