"""Request id, access log, CORS."""

from __future__ import annotations

from fastapi import FastAPI

from app.config import Settings


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """Add the middleware stack."""
