"""Request id, access log, metrics and CORS.

`RequestContextMiddleware` is plain ASGI (BaseHTTPMiddleware costs a task and a stream per
request). For every HTTP request it binds a request id into structlog's contextvars, echoes it
as `X-Request-ID`, adds the RateLimit-* headers decided by the auth dependencies, writes one
access log line and updates the Prometheus metrics.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import structlog
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.config import Settings
from app.errors import problem_response
from app.logging import AccessLogger, access_logger
from app.ops.edge import EdgeMiddleware, add_security_headers
from app.ops.metrics import UNMATCHED_ROUTE, AppMetrics
from app.ops.ratelimit import Decision, RateLimiter, parse_rate_limit

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_FIELD = REQUEST_ID_HEADER.lower().encode("latin-1")
# A per-process random prefix and a counter: unique like a UUID per request, a fraction of
# the cost (os.urandom per request showed up in the hot path's profile).
_REQUEST_ID_PREFIX = uuid.uuid4().hex[:12]
_request_counter = itertools.count(1)
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:=+/@-]{1,128}$")
CORS_ALLOW_HEADERS = [
    "X-API-Key",
    "Authorization",
    "Content-Type",
    "If-None-Match",
    REQUEST_ID_HEADER,
]
CORS_EXPOSE_HEADERS = [
    "ETag",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
    "Retry-After",
    REQUEST_ID_HEADER,
]


def _internal_error(path: str) -> Response:
    return problem_response(500, "internal_error", "An unexpected error occurred.", instance=path)


def request_id_from(scope: Scope) -> str:
    """The caller's X-Request-ID if it is short and plain; otherwise a new random id."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1").strip()
            if _SANE_REQUEST_ID.fullmatch(text):
                return text
            break
    return f"{_REQUEST_ID_PREFIX}-{next(_request_counter):x}"


def _response_headers(
    headers: Iterable[tuple[bytes, bytes]],
    request_id: tuple[bytes, bytes],
    decision: Decision | None,
) -> list[tuple[bytes, bytes]]:
    """The response's raw headers plus X-Request-ID, the security headers (app/ops/edge.py)
    and any RateLimit-* fields it lacks."""
    fields = list(headers)
    fields.append(request_id)
    add_security_headers(fields)
    if decision is not None:
        present = {name.lower() for name, _ in fields}
        for name, value in decision.headers().items():
            raw_name = name.lower().encode("latin-1")
            if raw_name not in present:
                fields.append((raw_name, value.encode("latin-1")))
    return fields


def route_template(scope: Scope) -> str:
    """The matched route's path template (bounded label values), not the raw path."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


def plain_route_template(routes: Sequence[BaseRoute], scope: Scope) -> str:
    """The template of the Starlette route or mount that serves this path.

    FastAPI records only its own path operations in the scope; /openapi.json (a plain route)
    and the Swagger UI assets (a mount: `/docs/static/{path}`) are matched again here, on a
    scope of their own (a mount has rewritten the request's root path by now).
    """
    probe = {
        "type": "http",
        "method": scope["method"],
        "path": scope["path"],
        "root_path": scope.get("app_root_path", scope.get("root_path", "")),
    }
    for route in routes:
        path = getattr(route, "path_format", None)
        if isinstance(path, str) and route.matches(probe)[0] is not Match.NONE:
            return path
    return UNMATCHED_ROUTE


class RequestContextMiddleware:
    """Request id, access log line and metrics for every HTTP request."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: AppMetrics,
        access_log: AccessLogger,
        routes: Sequence[BaseRoute] = (),
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log
        self.routes = routes  # the app's route table, for plain_route_template

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        request_id_field = (REQUEST_ID_FIELD, request_id.encode("latin-1"))
        state: dict[str, Any] = scope.setdefault("state", {})
        status, response_started = 500, False
        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                message["headers"] = _response_headers(
                    message.get("headers", ()), request_id_field, state.get("ratelimit")
                )
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Answer the 500 here so it carries the request id; Starlette's outer error
            # middleware still logs the exception and sends nothing more.
            if not response_started:
                await _internal_error(scope["path"])(scope, receive, send_with_headers)
            raise
        finally:
            self._finish(scope, state, status, time.perf_counter() - started)

    def _finish(self, scope: Scope, state: dict[str, Any], status: int, seconds: float) -> None:
        route = route_template(scope)
        if route == UNMATCHED_ROUTE:
            route = plain_route_template(self.routes, scope)
        self.metrics.observe_request(scope["method"], route, status, seconds)
        verdict = state.get("verdict")
        if verdict is not None:
            self.metrics.observe_verdict(verdict)
        # Batch and file checks leave a count per verdict (app/checks/service.verdict_counts).
        for kind, count in state.get("verdicts", {}).items():
            self.metrics.observe_verdict(kind, count)
        client = state.get("api_client")
        self.access_log.log(
            logging.WARNING if status >= 500 else logging.INFO,
            "request",
            method=scope["method"],
            path=scope["path"],
            route=route,
            status=status,
            duration_ms=round(seconds * 1000, 2),
            client=client.name if client is not None else None,
            verdict=getattr(verdict, "value", verdict),
        )


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """Rate limiter and metrics on app.state; CORS (if configured) and the request middleware.

    Raises ValueError at start-up if settings.rate_limit cannot be parsed.
    """
    rate = parse_rate_limit(settings.rate_limit)
    app.state.rate_limiter = RateLimiter(rate) if rate else None
    app.state.metrics = AppMetrics(
        lambda: getattr(app.state, "holder", None), settings.max_age_hours * 3600
    )
    # Innermost of these: its own refusals still get CORS, the request id and a log line.
    app.add_middleware(EdgeMiddleware)
    if settings.cors_origins:
        # Keys travel in headers, never cookies: no credentials mode needed.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST"],
            allow_headers=CORS_ALLOW_HEADERS,
            expose_headers=CORS_EXPOSE_HEADERS,
            max_age=600,
        )
    # Added after the others, so outside them: it sees CORS preflights and every error.
    app.add_middleware(
        RequestContextMiddleware,
        metrics=app.state.metrics,
        access_log=access_logger(settings),
        routes=app.router.routes,  # the live list: routes added later are matched too
    )
    if settings.trusted_proxies:
        # Outermost: everything inside sees the client, not the proxy. uvicorn's own
        # implementation, run by the app (serve turns uvicorn's off) so it is the only one.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
