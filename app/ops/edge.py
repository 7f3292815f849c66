"""The edge of every HTTP request: text that is not UTF-8, HEAD, and security headers.

- A query string or path whose percent-escapes do not decode to UTF-8, or that holds raw
  bytes outside ASCII, is a 422 `invalid_encoding`. Starlette would decode it to U+FFFD (or
  read raw bytes as Latin-1), and the service would answer a question nobody asked
  (`?name=%ff` was answered "not listed").
- A response sent before the request's body has all arrived (a refusal: 401, 404, 413...)
  closes the connection, so the server stops reading what is left instead of reading and
  discarding it (90 MB took the event loop over a second).
- HEAD is answered as GET without the body, on every endpoint that answers GET (CORS
  advertises HEAD); the log and metrics still say HEAD.
- Every response carries `X-Content-Type-Options: nosniff` and `Referrer-Policy:
  no-referrer`; one that sets no Content-Security-Policy of its own also gets
  `frame-ancestors 'none'` and `X-Frame-Options: DENY`, so no page of ours can be framed
  by default. A page meant to be framed (or one with a stricter policy, like /docs) sets
  its own Content-Security-Policy, e.g. `page_policy(frame_ancestors="*")`, and keeps it.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import problem_response

_HIGH_ESCAPE = re.compile(rb"%[89a-fA-F]")
_CSP = b"content-security-policy"
ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
NOT_FRAMEABLE = [
    (_CSP, b"frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
]


def page_policy(*, frame_ancestors: str = "'none'") -> str:
    """A strict Content-Security-Policy for an HTML page whose every asset is our own file
    (no inline script or style): only who may frame it varies."""
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors {frame_ancestors}"
    )


def add_security_headers(fields: list[tuple[bytes, bytes]]) -> None:
    """Append the security headers to a response's raw header list (see the module doc)."""
    fields.extend(ALWAYS)
    for name, _ in fields:  # a loop, not any() over a generator: this runs per response
        if name == _CSP:
            return
    fields.extend(NOT_FRAMEABLE)


def is_utf8_text(raw: bytes) -> bool:
    """True when a path or query string, as sent, is ASCII that percent-decodes to UTF-8."""
    if not raw.isascii():
        return False
    if _HIGH_ESCAPE.search(raw) is None:
        return True  # every escape is below %80: ASCII, so UTF-8
    try:
        unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _announces_body(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if (name == b"content-length" and value.strip() not in (b"", b"0")) or (
            name == b"transfer-encoding"
        ):
            return True
    return False


def _invalid_encoding(scope: Scope) -> str | None:
    query = scope.get("query_string")
    if query and not is_utf8_text(query):
        return "the query string is not UTF-8 text: percent-encode its UTF-8 bytes"
    raw_path = scope.get("raw_path")
    if raw_path and b"%" in raw_path and not is_utf8_text(raw_path):
        return "the path is not UTF-8 text: percent-encode its UTF-8 bytes"
    return None


class EdgeMiddleware:
    """Refuses text that is not UTF-8 and answers HEAD as GET (see the module doc)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = _invalid_encoding(scope)
        if problem is not None:
            response = problem_response(422, "invalid_encoding", problem, instance=scope["path"])
            await response(scope, receive, send)
        elif scope["method"] == "HEAD":
            await self._head(scope, receive, send)
        elif scope["method"] == "GET" or not _announces_body(scope["headers"]):
            await self.app(scope, receive, send)
        else:
            await self._body_may_be_left(scope, receive, send)

    async def _body_may_be_left(self, scope: Scope, receive: Receive, send: Send) -> None:
        arrived = False

        async def receive_tracked() -> Message:
            nonlocal arrived
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                arrived = True
            return message

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start" and not arrived:
                headers = [*message.get("headers", ()), (b"connection", b"close")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive_tracked, send_closing)

    async def _head(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The server's own scope keeps HEAD (uvicorn then sends no body and keeps the
        # Content-Length); the app sees GET.
        as_get = {**scope, "method": "GET"}

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            await self.app(as_get, receive, send_headers_only)
        finally:
            if "route" in as_get:
                scope["route"] = as_get["route"]  # so the log and metrics name the route
