"""Helpers for the API key tests."""

from __future__ import annotations

from fastapi import FastAPI

from app.auth.dependencies import AdminAccess
from app.auth.keys import CreatedKey, Scope, create_key
from app.db import transaction

ADMIN_PROBE = "/test/admin-probe"


def add_key(app: FastAPI, name: str = "kent-cc", scope: Scope = Scope.READ) -> CreatedKey:
    """Create a key in the app's database, as `certlookup keys create` would."""
    with transaction(app.state.engine) as session:
        return create_key(session, name, scope, app.state.settings.key_pepper)


def add_admin_probe(app: FastAPI) -> FastAPI:
    """A test-only admin endpoint that has no side effects (unlike POST /v1/sync-runs)."""

    @app.get(ADMIN_PROBE)
    async def admin_probe(client: AdminAccess) -> dict[str, str]:
        return {"client": client.name}

    return app
