"""One request straight into an ASGI app, seeing what it sent and how much body it read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp


@dataclass
class Exchange:
    """What the app answered, and how much of the body it asked for."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks_read: int = 0

    def problem(self) -> dict[str, Any]:
        assert self.headers["content-type"] == "application/problem+json"
        return dict(json.loads(self.body))


def call(
    app: ASGIApp,
    method: str,
    path: str,
    *,
    headers: Iterable[tuple[str, str]] = (),
    body: Iterator[bytes] = iter(()),
    client: str = "192.0.2.1",
    raw_query: bytes | None = None,
) -> Exchange:
    """One request through the app's ASGI interface (its lifespan must be running).

    `raw_query` sends those bytes as the query string, as a client might (even non-ASCII).
    """
    exchange = Exchange()
    chunks = list(body)

    async def receive() -> dict[str, Any]:
        exchange.chunks_read += 1
        index = exchange.chunks_read - 1
        chunk = chunks[index] if index < len(chunks) else b""
        return {"type": "http.request", "body": chunk, "more_body": index + 1 < len(chunks)}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            exchange.status = message["status"]
            exchange.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        else:
            exchange.body += message.get("body", b"")

    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode() if raw_query is None else raw_query,
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
        "client": (client, 40000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    return exchange


__all__ = ["Exchange", "call"]
