"""How path operations reach the app: `add_routes`, and `PlainRoute` for the hot path.

`add_routes` puts routers' path operations straight into the app's route table.

FastAPI 0.165's `include_router` keeps each included router as one route that resolves its
children at request time. Every request that passes an included router pays for that:
callgrind counted ~40k instructions a router (a bare FastAPI request is ~450k), and a
request to the fourth router passed three of them. `add_routes` re-creates each path
operation on the app's own router instead, once at start-up, through the same
`add_api_route` that `@app.get` uses. The app's `dependency_overrides`, response class and
operation-id function apply to the copies exactly as they do to routes declared on the app.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

# Everything an APIRoute was built from, read back off the route; the provider of
# dependency overrides is the app (add_api_route supplies it), never the source router.
_ROUTE_OPTIONS = tuple(
    name
    for name in inspect.signature(APIRoute.__init__).parameters
    if name not in {"self", "path", "endpoint", "dependency_overrides_provider"}
)


class PlainRoute(APIRoute):
    """A path operation documented like any other and served like a Starlette route.

    Its endpoint is `async def endpoint(request) -> Response` and does its own reading,
    checking and rendering; FastAPI passes it the request and sends what it returns. For an
    ordinary APIRoute, FastAPI's per-request work (dependency solving, parameter and cookie
    parsing, response handling) cost GET /v1/check about a fifth of its server time, more
    than the lookup itself (benchmarks/reports/check.md). The OpenAPI operation is still
    built from the route: declare the parameters and security in `openapi_extra`, and the
    body in `response_model`, which documents but does not validate here.

    It is served as Starlette serves a route, minus what only FastAPI's injection needs: the
    endpoint is awaited and its response sent, without FastAPI's per-request wrapper (two
    AsyncExitStacks for dependencies with yield, and a second exception-handling layer). An
    exception it raises is rendered by the app's ExceptionMiddleware, with the same handlers.

    Raises TypeError at start-up for an endpoint that is not a coroutine function or that
    declares anything FastAPI would have to parse or inject, or for a route `max_body_size`.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        super().__init__(path, endpoint, **options)
        if self.max_body_size is not None:
            raise TypeError(f"{self.name}: a PlainRoute reads no body: no max_body_size")
        self.app = _serve(self.get_route_handler())

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        dependant = self.dependant
        injected = (
            dependant.path_params,
            dependant.query_params,
            dependant.header_params,
            dependant.cookie_params,
            dependant.body_params,
            dependant.dependencies,
        )
        if not inspect.iscoroutinefunction(self.endpoint) or any(injected):
            raise TypeError(
                f"{self.name}: a PlainRoute endpoint is `async def f(request) -> Response` "
                "and declares its parameters in openapi_extra"
            )
        endpoint: Callable[[Request], Coroutine[Any, Any, Response]] = self.endpoint
        return endpoint


def _serve(endpoint: Callable[[Request], Coroutine[Any, Any, Response]]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await endpoint(Request(scope, receive, send))
        await response(scope, receive, send)

    return app


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Add every path operation of `router` (prefix, tags and responses already applied).

    Raises TypeError for anything but an APIRoute (a mount or a nested include), which this
    copy could not carry over faithfully; use `app.mount` or `app.include_router` for those.
    """
    for route in router.routes:
        if not isinstance(route, APIRoute) or type(route) not in (APIRoute, PlainRoute):
            raise TypeError(f"add_routes copies APIRoutes only, not {route!r}")
        options = {name: getattr(route, name) for name in _ROUTE_OPTIONS}
        app.router.add_api_route(
            route.path, route.endpoint, route_class_override=type(route), **options
        )
