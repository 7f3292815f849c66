"""A real HTTP server on 127.0.0.1 for scraper tests, with canned responses and fault hooks.

Usage::

    from tests.support.httpserver import delayed, html, robots_txt, sequence, serve, status

    with serve({"/robots.txt": robots_txt(""), "/x/": html("<html>...</html>")}) as server:
        server.routes["/y/"] = sequence(status(429, retry_after=2), html("<html>ok</html>"))
        server.routes["/x/"] = delayed(server.canned("/x/"), 1.5)   # now slow
        httpx.get(server.url_for("/y/"))
        assert server.paths_requested() == ["/y/", "/y/"]  # (after a client that retried)

Routes map a URL path (query string ignored) to a :class:`Response` or to a callable taking the
:class:`Request` and returning one; ``server.routes`` may be changed while the server runs.
Unknown paths answer 404. ``serve_directory(path)`` serves a static tree (``/x/`` answers with
``x/index.html``), ``serve_site(mapping)`` a generated site (see ``tests.support.sitegen``).
``unused_port()`` gives a port with nothing listening, for "connection refused".
"""

from __future__ import annotations

import mimetypes
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

HTML_TYPE = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Response:
    """One canned HTTP response. The fault fields default to a well-behaved response."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (to trigger the client's read timeout)."""
    content_length: int | None = None
    """Content-Length to declare; None means len(body). Larger than the body => truncated."""
    send_length: bool = True
    """False: no Content-Length; the body ends when the server closes the connection."""


@dataclass(frozen=True)
class Request:
    """A request the server received."""

    method: str
    path: str
    headers: Mapping[str, str]


Route = Response | Callable[[Request], Response]


def html(body: str | bytes, status: int = 200) -> Response:
    """An HTML page (str bodies are encoded as UTF-8)."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return Response(status=status, body=data, headers={"Content-Type": HTML_TYPE})


def robots_txt(text: str) -> Response:
    """A robots.txt file with the given rules."""
    return Response(body=text.encode("utf-8"), headers={"Content-Type": "text/plain"})


def status(code: int, *, retry_after: str | float | None = None) -> Response:
    """An error page with the given status, optionally with a Retry-After header."""
    headers = {"Content-Type": "text/plain"}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response(status=code, body=f"status {code}\n".encode(), headers=headers)


def redirect(location: str, code: int = 302) -> Response:
    """A redirect; point a path at itself for a redirect loop."""
    return Response(status=code, headers={"Location": location})


def delayed(response: Response, seconds: float) -> Response:
    """The same response, sent only after a delay."""
    return replace(response, delay=seconds)


def truncated(body: bytes, *, keep: float = 0.5, declare_full_length: bool = True) -> Response:
    """An HTML page cut after a share of its bytes.

    With ``declare_full_length`` the Content-Length still announces the whole page (the client
    sees the connection close early); without it the cut page is delivered "complete".
    """
    cut = body[: int(len(body) * keep)]
    return Response(
        body=cut,
        headers={"Content-Type": HTML_TYPE},
        content_length=len(body) if declare_full_length else None,
    )


def oversized(size: int, *, send_length: bool = True) -> Response:
    """A syntactically fine HTML page of at least ``size`` bytes."""
    filler = b"<p>" + b"x" * max(size, 0) + b"</p>"
    return Response(
        body=b"<!DOCTYPE html><html><body>" + filler + b"</body></html>",
        headers={"Content-Type": HTML_TYPE},
        send_length=send_length,
    )


def invalid_utf8() -> Response:
    """An HTML page containing bytes that are not UTF-8 (Latin-1 'é' and a stray 0xff)."""
    body = b"<!DOCTYPE html><html><body><h1>Caf\xe9 \xff</h1></body></html>"
    return Response(body=body, headers={"Content-Type": HTML_TYPE})


def sequence(*responses: Response) -> Callable[[Request], Response]:
    """A route answering with each response in turn; the last one repeats forever."""
    remaining = list(responses)
    lock = threading.Lock()

    def next_response(_request: Request) -> Response:
        with lock:
            return remaining.pop(0) if len(remaining) > 1 else remaining[0]

    return next_response


class LocalServer:
    """A running server: mutate ``routes`` freely; ``requests`` records what arrived."""

    def __init__(self, routes: Mapping[str, Route], port: int) -> None:
        self.routes: dict[str, Route] = dict(routes)
        self.requests: list[Request] = []
        self.url = f"http://127.0.0.1:{port}"

    def url_for(self, path: str) -> str:
        """The absolute URL of a path on this server."""
        return self.url + path

    def canned(self, path: str) -> Response:
        """The fixed Response routed at ``path``, e.g. to wrap it: ``delayed(s.canned(p), 1)``."""
        route = self.routes[path]
        if not isinstance(route, Response):
            raise TypeError(f"{path} is routed to a callable, not a canned Response")
        return route

    def paths_requested(self) -> list[str]:
        """Paths (without query) of every request received so far, in order."""
        return [urlsplit(r.path).path for r in self.requests]

    def respond(self, request: Request) -> Response:
        """The response for a request (404 for unknown paths)."""
        self.requests.append(request)
        route = self.routes.get(urlsplit(request.path).path)
        if route is None:
            return status(404)
        return route if isinstance(route, Response) else route(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    owner: LocalServer  # set on a per-server subclass

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, *, send_body: bool) -> None:
        request = Request(self.command, self.path, dict(self.headers.items()))
        response = self.owner.respond(request)
        if response.delay:
            time.sleep(response.delay)
        length = len(response.body) if response.content_length is None else response.content_length
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if response.send_length:
                self.send_header("Content-Length", str(length))
            if not response.send_length or length != len(response.body):
                # A close-delimited or short body only ends when the connection does.
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if send_body:
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its read timeout)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@contextmanager
def serve(routes: Mapping[str, Route] | None = None) -> Iterator[LocalServer]:
    """Run a server on 127.0.0.1 (ephemeral port) in a thread for the duration of the block."""
    state = LocalServer(routes or {}, 0)
    handler = type("Handler", (_Handler,), {"owner": state})  # one handler class per server
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    httpd.block_on_close = False  # do not wait for handlers still sleeping on a delay
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    server = state
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def serve_directory(root: Path | str) -> AbstractContextManager[LocalServer]:
    """Serve a static site directory (``/x/`` answers with ``x/index.html``)."""
    return serve(routes_from_directory(root))


def serve_site(site: Mapping[str, bytes]) -> AbstractContextManager[LocalServer]:
    """Serve a generated site mapping URL path -> bytes (see tests.support.sitegen)."""
    return serve(routes_from_site(site))


def routes_from_directory(root: Path | str) -> dict[str, Response]:
    """Routes for every file under ``root``; ``a/index.html`` is also served at ``/a/``."""
    base = Path(root)
    routes: dict[str, Response] = {}
    for path in sorted(p for p in base.rglob("*") if p.is_file()):
        relative = path.relative_to(base).as_posix()
        content_type = _content_type(relative)
        response = Response(body=path.read_bytes(), headers={"Content-Type": content_type})
        routes["/" + relative] = response
        if path.name == "index.html":
            routes["/" + relative[: -len("index.html")]] = response
    return routes


def routes_from_site(site: Mapping[str, bytes]) -> dict[str, Response]:
    """Routes for a mapping of URL path -> body, typed by path (robots.txt is text/plain)."""
    return {
        path: Response(body=body, headers={"Content-Type": _content_type(path)})
        for path, body in site.items()
    }


def unused_port() -> int:
    """A local port with nothing listening on it (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _content_type(path: str) -> str:
    if path.endswith("/") or path.endswith(".html"):
        return HTML_TYPE
    guessed, _ = mimetypes.guess_type(path)
    return guessed or "application/octet-stream"
