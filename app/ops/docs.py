"""Swagger UI served from the package itself, so /docs works on offline council networks."""

from __future__ import annotations

from fastapi import FastAPI


def install_docs(app: FastAPI) -> None:
    """Mount /docs with locally served assets."""
