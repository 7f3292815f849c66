"""Helpers for the receipt tests: keys of clients, issuing a receipt, tampering with one."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.auth.keys import Scope
from tests.watches import watch_key

CERTIFIED_NAME = "Severn NHS Foundation Trust"


def read_key(app: FastAPI, name: str = "kent-cc") -> dict[str, str]:
    """Headers carrying a new read-scope key of this client, usable at once."""
    return watch_key(app, name, Scope.READ)


def issue(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """POST /v1/receipts, expecting 201; the receipt."""
    response = client.post("/v1/receipts", json=body, headers=headers)
    assert response.status_code == 201, response.text
    receipt: dict[str, Any] = response.json()
    return receipt


def tampered(token: str) -> str:
    """The token with one character of its payload changed (in the middle, so that the
    decoded bytes change: a last base64url character can carry only padding bits)."""
    header, payload, signature = token.split(".")
    middle = len(payload) // 2
    swapped = "B" if payload[middle] != "B" else "C"
    return f"{header}.{payload[:middle]}{swapped}{payload[middle + 1 :]}.{signature}"
