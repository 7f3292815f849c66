"""`certlookup serve` as deployed, from outside: no banner, uvicorn believes no forwarded
header on its own, HEAD keeps its length, a large body is refused before it is sent."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.support.processes import certlookup_env, running, unused_port, wait_for_http

pytestmark = pytest.mark.slow


def _first_response_line(port: int, request: bytes, timeout: float = 5.0) -> bytes:
    """Send `request` (headers only: the body it announces is never sent) and read the
    status line the server answers with."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request)
        return connection.recv(65536).split(b"\r\n", 1)[0]


def test_serve_as_deployed_at_its_edge(database_url: str, tmp_path: Path) -> None:
    # uvicorn's own variable, set as compose.yaml used to: it must change nothing now.
    env = certlookup_env(
        database_url,
        CERTLOOKUP_PUBLIC_READ="false",
        CERTLOOKUP_AUTH_FAILURE_LIMIT="20/hour",  # no refill while a slow machine sends 22
        FORWARDED_ALLOW_IPS="*",
    )
    port = unused_port()
    base = f"http://127.0.0.1:{port}"
    with running(["serve", "--port", str(port)], env=env, cwd=tmp_path, name="api") as api:
        wait_for_http(api, f"{base}/healthz")
        health = httpx.get(f"{base}/healthz")
        assert "server" not in health.headers
        assert health.headers["x-content-type-options"] == "nosniff"

        head = httpx.head(f"{base}/healthz")
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["content-length"] == health.headers["content-length"]

        statuses = [
            httpx.get(
                f"{base}/v1/register",
                headers={"X-API-Key": f"cl_0000_{i}", "X-Forwarded-For": f"203.0.113.{i}"},
            ).status_code
            for i in range(22)
        ]
        assert statuses == [401] * 20 + [429] * 2, api.tail()

        started = time.monotonic()
        answer = _first_response_line(
            port,
            b"POST /v1/check/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 30000000\r\n\r\n",
        )
        assert answer == b"HTTP/1.1 401 Unauthorized"
        assert time.monotonic() - started < 5
    assert api.events("auth_failures_limited")[0]["client_address"] == "127.0.0.1", api.tail()
