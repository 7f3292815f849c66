"""What every path operation checks before its handler runs, whoever wrote it.

`guard_routes` wraps each route's ASGI app in a `RouteGuard` once, at start-up, from what
the route declares; nothing is added to routes that need none of it, and the PlainRoute hot
path (GET /v1/check) does its own checks. A guard:

- refuses a query parameter the route takes once but was sent several times (422
  `repeated_parameter`), where FastAPI would keep one value silently;
- for a request that carries a body, checks the API key before any byte of it is read
  (FastAPI reads and parses the body before it runs dependencies such as require_read):
  a wrong or repeated key is a 401 (a wrong one counts against the address, see
  app/auth/failures.py), and so is a missing one where the route needs one. The scope
  check and the rate limit stay in the route's dependencies;
- bounds the body: a Content-Length over the route's limit is a 413 `body_too_large` at
  once; a body sent without one (chunked) is cut off with the same 413 as soon as it passes
  the limit (app/ops/edge.py then closes the connection rather than drain the rest). The
  limit is the route's `max_body_size` (FastAPI's own route parameter) or
  `CERTLOOKUP_MAX_BODY_BYTES`. A JSON body may also hold at most MAX_JSON_VALUES values
  (commas and brackets, counted as the bytes arrive): json.loads runs on the event loop,
  and two megabytes of `[[],[],...]` took it 200 ms, while two megabytes of names take a
  few (100,000 empty lists: 18 ms).

A route whose auth dependency takes the key from the query string as well (KEY_IN_QUERY:
/reconcile, for OpenRefine) has it checked the same way, before the body.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth.dependencies import (
    AUTH_DEPENDENCIES,
    KEY_IN_QUERY,
    authenticate_for,
    key_headers,
    presented_key,
    presented_key_or_query_key,
)
from app.errors import HttpProblem
from app.web import raw_headers, refuse_repeated

MAX_JSON_VALUES = 100_000
_SEQUENCES = (list, tuple, set, frozenset)
_BODY_HEADERS = (b"content-length", b"transfer-encoding", b"content-type")


@dataclass(frozen=True, slots=True)
class RouteRules:
    """What a guard checks for one route."""

    single_params: tuple[str, ...]
    """Query parameters the route takes at most once."""
    auth: Callable[..., Any] | None
    """The route's auth dependency (a key of AUTH_DEPENDENCIES), if it has one."""
    body_limit: int
    """Largest body accepted, in bytes."""
    key_in_query: bool = False
    """The auth dependency also takes the key from the `api_key` query parameter."""


def _too_large(limit: int) -> HttpProblem:
    return HttpProblem(
        413,
        f"the request body is larger than this endpoint accepts ({limit:,} bytes)",
        code="body_too_large",
    )


def _too_complex() -> HttpProblem:
    return HttpProblem(
        413,
        f"the JSON body holds more than {MAX_JSON_VALUES:,} values",
        code="body_too_complex",
    )


def _declared_length(headers: dict[bytes, str]) -> int | None:
    try:
        return int(headers[b"content-length"])
    except (KeyError, ValueError):
        return None


def _is_json(headers: dict[bytes, str]) -> bool:
    media_type = headers.get(b"content-type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def bounded_receive(receive: Receive, limit: int, *, count_json_values: bool) -> Receive:
    """`receive`, raising a 413 HttpProblem once the body passes `limit` bytes (or, for
    JSON, MAX_JSON_VALUES values)."""
    received = values = 0

    async def receive_within_limit() -> Message:
        nonlocal received, values
        message = await receive()
        chunk = message.get("body", b"")
        if chunk:
            received += len(chunk)
            if received > limit:
                raise _too_large(limit)
            if count_json_values:
                values += chunk.count(b",") + chunk.count(b"[") + chunk.count(b"{")
                if values > MAX_JSON_VALUES:
                    raise _too_complex()
        return message

    return receive_within_limit


class RouteGuard:
    """One route's ASGI app, behind the checks its RouteRules call for."""

    def __init__(self, app: ASGIApp, rules: RouteRules) -> None:
        self.app = app
        self.rules = rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.rules.single_params and scope.get("query_string"):
            refuse_repeated(QueryParams(scope["query_string"]), self.rules.single_params)
        if scope["method"] not in ("GET", "HEAD"):
            headers = raw_headers(scope["headers"], *_BODY_HEADERS)
            declared = _declared_length(headers)
            if declared or b"transfer-encoding" in headers:
                await self._check_key(scope)
                if declared is not None and declared > self.rules.body_limit:
                    raise _too_large(self.rules.body_limit)
                receive = bounded_receive(
                    receive, self.rules.body_limit, count_json_values=_is_json(headers)
                )
        await self.app(scope, receive, send)

    async def _check_key(self, scope: Scope) -> None:
        auth = self.rules.auth
        if auth is None or auth in scope["app"].dependency_overrides:
            return
        if self.rules.key_in_query:
            key = presented_key_or_query_key(scope)
        else:
            key = presented_key(key_headers(scope["headers"]))
        await authenticate_for(Request(scope), key, AUTH_DEPENDENCIES[auth])


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependants(sub)


def _takes_many(annotation: Any) -> bool:
    """True for a list (or other sequence) annotation, optional or annotated or not."""
    origin = typing.get_origin(annotation)
    if origin in _SEQUENCES or annotation in _SEQUENCES:
        return True
    if origin is typing.Annotated:
        return _takes_many(typing.get_args(annotation)[0])
    if origin is typing.Union or isinstance(annotation, types.UnionType):
        return any(_takes_many(argument) for argument in typing.get_args(annotation))
    return False


def route_rules(route: APIRoute, default_body_limit: int) -> RouteRules:
    """The checks `route` calls for, from its parameters, dependencies and body limit."""
    dependants = [route.dependant, *_dependants(route.dependant)]
    single = {
        field.alias
        for dependant in dependants
        for field in dependant.query_params
        if not _takes_many(field.field_info.annotation)
    }
    auth = next((d.call for d in dependants if d.call in AUTH_DEPENDENCIES), None)
    limit = route.max_body_size if route.max_body_size is not None else default_body_limit
    return RouteRules(tuple(sorted(single)), auth, limit, key_in_query=auth in KEY_IN_QUERY)


def guard_routes(app: FastAPI, default_body_limit: int) -> None:
    """Put a RouteGuard in front of every path operation but the PlainRoutes.

    Call it after the last route is added: a route added later is not guarded
    (tests/api/test_route_guard.py checks that every route of the app is).
    """
    for route in app.router.routes:
        if type(route) is APIRoute and not isinstance(route.app, RouteGuard):
            route.app = RouteGuard(route.app, route_rules(route, default_body_limit))
