"""The baseline for HTTP benchmarks: a bare FastAPI endpoint returning a constant dict."""

from __future__ import annotations

from fastapi import FastAPI

CONSTANT = {"verdict": "certified", "meets_cqc_expectation": True, "register": {"version": 1}}


def create_app() -> FastAPI:
    """An app with one async endpoint and nothing else."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/constant")
    async def constant() -> dict[str, object]:
        return CONSTANT

    return app
