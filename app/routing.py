"""Put routers' path operations straight into the app's route table.

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

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

# Everything an APIRoute was built from, read back off the route; the provider of
# dependency overrides is the app (add_api_route supplies it), never the source router.
_ROUTE_OPTIONS = tuple(
    name
    for name in inspect.signature(APIRoute.__init__).parameters
    if name not in {"self", "path", "endpoint", "dependency_overrides_provider"}
)


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Add every path operation of `router` (prefix, tags and responses already applied).

    Raises TypeError for anything but an APIRoute (a mount or a nested include), which this
    copy could not carry over faithfully; use `app.mount` or `app.include_router` for those.
    """
    for route in router.routes:
        if type(route) is not APIRoute:
            raise TypeError(f"add_routes copies plain APIRoutes only, not {route!r}")
        options = {name: getattr(route, name) for name in _ROUTE_OPTIONS}
        app.router.add_api_route(route.path, route.endpoint, **options)
