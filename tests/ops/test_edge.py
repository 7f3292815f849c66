"""The edge of every request: text that is not UTF-8, HEAD, security headers, proxies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Response
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.main import create_app
from app.ops.edge import page_policy
from tests.conftest import make_settings
from tests.support.asgi import call


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The app on an empty mirror (no database differences matter here)."""
    database = tmp_path_factory.mktemp("edge") / "edge.sqlite3"
    application = create_app(make_settings(f"sqlite:///{database}"))

    @application.get("/test/framable", include_in_schema=False)
    async def framable() -> Response:
        # How a page meant to be framed (an OpenRefine preview) opts out of the default.
        policy = page_policy(frame_ancestors="*")
        return Response(
            "<p>preview</p>", media_type="text/html", headers={"Content-Security-Policy": policy}
        )

    @application.get("/test/boom", include_in_schema=False)
    async def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(application):
        yield application


@pytest.fixture(scope="module")
def client(app: FastAPI) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/check?name=%ff",
        "/v1/check?name=Caf%e9",  # Latin-1
        "/v1/check?name=%ed%a0%80",  # a UTF-16 surrogate, UTF-8 encoded
        "/v1/check?name=Acme&as_of=%c0%80",  # an overlong NUL
        "/v1/organisations?q=%ff",
        "/v1/changes?since=%ff",
        "/v1/sync-runs?page=%ff",
        "/v1/organisations/%ff",
        "/v1/check/file?column=%ff",
    ],
)
def test_text_that_is_not_utf8_is_a_422_on_every_endpoint(client: TestClient, path: str) -> None:
    method = "POST" if path.startswith("/v1/check/file") else "GET"
    response = client.request(method, path)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_encoding"


def test_raw_bytes_outside_ascii_in_a_query_are_refused(app: FastAPI) -> None:
    sent = call(app, "GET", "/v1/check", raw_query="name=Caf\u00e9".encode())
    assert (sent.status, sent.problem()["code"]) == (422, "invalid_encoding")


def test_percent_encoded_utf8_is_answered(client: TestClient) -> None:
    response = client.get("/v1/check?name=Caf%C3%A9%20%E2%80%93%20Ltd")
    assert response.status_code == 200
    assert response.json()["query"] == "Café – Ltd"


def _get_paths(app: FastAPI) -> list[str]:
    schema = app.openapi()
    paths = [path for path, methods in schema["paths"].items() if "get" in methods]
    examples = {"{id}": "1"}
    return [re.sub(r"\{\w+\}", lambda m: examples.get(m[0], "1"), p) for p in paths]


def test_head_answers_every_get_endpoint_as_get_does_without_a_body(
    app: FastAPI, client: TestClient
) -> None:
    paths = [*_get_paths(app), "/docs", "/openapi.json", "/docs/static/swagger-ui.css"]
    assert "/v1/check" in paths
    for path in paths:
        url = f"{path}?name=Acme" if path == "/v1/check" else path
        got, head = client.get(url), client.head(url)
        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        assert head.headers.get("content-type") == got.headers.get("content-type"), path
        if "etag" in got.headers:
            assert head.headers["etag"] == got.headers["etag"], path


def test_head_is_logged_and_counted_as_head_under_its_route(client: TestClient) -> None:
    client.head("/healthz")
    metrics = client.get("/metrics").text
    assert re.search(r'_requests_total\{method="HEAD",route="/healthz",status="200"\}', metrics)


SECURITY = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/v1/check?name=", 422),
        ("GET", "/nowhere", 404),
        ("DELETE", "/healthz", 405),
        ("GET", "/v1/check?name=%ff", 422),
        ("GET", "/test/boom", 500),
        ("GET", "/docs/static/swagger-ui.css", 200),
        ("GET", "/openapi.json", 200),
    ],
)
def test_every_response_carries_the_security_headers_and_refuses_framing(
    client: TestClient, method: str, path: str, status: int
) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    for name, value in SECURITY.items():
        assert response.headers[name] == value
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert response.headers["x-frame-options"] == "DENY"
    assert "server" not in response.headers


def test_a_response_with_its_own_policy_keeps_it_and_may_be_framed(client: TestClient) -> None:
    response = client.get("/test/framable")
    assert response.headers["content-security-policy"] == page_policy(frame_ancestors="*")
    assert "x-frame-options" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


def _limited_app(tmp_path: Path, **settings: object) -> FastAPI:
    return create_app(
        make_settings(
            f"sqlite:///{tmp_path / 'proxies.sqlite3'}", rate_limit="2/minute", **settings
        )
    )


def _statuses(client: TestClient, forwarded: list[str]) -> list[int]:
    return [
        client.get("/v1/register", headers={"X-Forwarded-For": hop}).status_code
        for hop in forwarded
    ]


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(tmp_path: Path) -> None:
    app = _limited_app(tmp_path)
    with TestClient(app, client=("127.0.0.1", 40000)) as client:
        # Rotating the header does not make a client someone else.
        statuses = _statuses(client, ["203.0.113.1", "203.0.113.2", "203.0.113.3"])
    assert statuses == [200, 200, 429]


def test_a_trusted_proxy_names_the_client_as_its_right_most_untrusted_hop(
    tmp_path: Path,
) -> None:
    app = _limited_app(tmp_path, trusted_proxies="10.0.0.0/8, 192.0.2.7")
    with TestClient(app, client=("10.1.2.3", 40000)) as client:
        # Whatever the client wrote on the left is not believed: the proxies appended it.
        spoofed = ["1.1.1.1, 203.0.113.9, 192.0.2.7", "2.2.2.2, 203.0.113.9, 10.9.9.9"]
        assert _statuses(client, [*spoofed, "203.0.113.9"]) == [200, 200, 429]
        assert _statuses(client, ["203.0.113.10"]) == [200]


@pytest.mark.parametrize("value", ["*", "10.0.0.0/8,*", "proxy.internal", "10.0.0.0/33"])
def test_trusted_proxies_must_be_addresses_or_networks(value: str) -> None:
    with pytest.raises(ValidationError):
        make_settings("sqlite://", trusted_proxies=value)


def test_a_response_before_the_whole_body_arrived_closes_the_connection(app: FastAPI) -> None:
    announced = [("content-type", "application/json"), ("content-length", "30000000")]
    for path in ("/nowhere", "/healthz", "/v1/check/batch"):
        sent = call(app, "POST", path, headers=announced, body=iter([b"{" * 10]))
        assert sent.status >= 400, path
        assert sent.headers["connection"] == "close", path
    body = b'{"queries": []}'
    read = call(
        app,
        "POST",
        "/v1/check/batch",
        headers=[("content-type", "application/json"), ("content-length", str(len(body)))],
        body=iter([body]),
    )
    assert read.status == 200
    assert "connection" not in read.headers
