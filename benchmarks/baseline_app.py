"""The baseline for HTTP benchmarks: a bare FastAPI endpoint returning a constant dict.

It answers on the service's own path, `/v1/check`, so a benchmark sends both servers the very
same request lines (path and query string, byte for byte) and the load generator does the
same work for each. The endpoint declares no parameters; FastAPI still parses the query string
of every request, as it does for any endpoint.
"""

from __future__ import annotations

from fastapi import FastAPI

CONSTANT = {"verdict": "certified", "meets_cqc_expectation": True, "register": {"version": 1}}
PATH = "/v1/check"


def create_app() -> FastAPI:
    """An app with one async endpoint and nothing else (FastAPI defaults otherwise)."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get(PATH)
    async def constant() -> dict[str, object]:
        return CONSTANT

    return app
