"""Helpers for the watch and webhook tests: keys of two clients, and watch requests."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.auth.keys import Scope
from tests.auth import add_key

CERTIFIED_NAME = "Severn NHS Foundation Trust"


def watch_key(app: FastAPI, name: str = "kent-cc", scope: Scope = Scope.WATCH) -> dict[str, str]:
    """Headers carrying a new key of this client (watch scope by default), usable at once."""
    key = add_key(app, name, scope).key
    cache = getattr(app.state, "key_cache", None)
    if cache is not None:
        cache.expire()
    return {"X-API-Key": key}


def create_watch(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """POST /v1/watches, expecting 201; the created watch."""
    response = client.post("/v1/watches", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created
