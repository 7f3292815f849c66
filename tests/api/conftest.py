"""Fixtures for HTTP tests of the whole app, on SQLite and PostgreSQL (via `database_url`).

- `site`: the sample register served on 127.0.0.1 (a LocalServer; edit `site.routes` freely).
- `api_settings`: test settings for this test's database, reading the register from `site`.
  Override it in a test module for other settings (e.g. `public_read=False`).
- `app`: `create_app(api_settings)`, not started.
- `client`: a TestClient on `app` with the lifespan run; the mirror is empty (version 0).
- `synced_client`: the same, after syncing `site` before the app started (version 1:
  46 certified, 38 affiliates, 14 working towards).
- `sync_site(site=None, **options)`: run one more sync (against a generated site mapping,
  a directory, a LocalServer, or by default `site`) and refresh `app`'s index.
- `as_admin`: the admin endpoints accept this test's calls without an API key.

Plain helpers: `sync_from(settings, site)` and `register_dev()` (the organisations behind the
sample site, in `tests.support.sitegen` shape, to edit and render with `generate_site`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.auth.dependencies import ApiClient, require_admin
from app.config import Settings
from app.db import make_engine
from app.main import create_app
from app.register.sync import SyncReport, SyncRequest, run_sync
from tests.conftest import REGISTER_DEV, SAMPLE_SITE, make_settings
from tests.support.httpserver import LocalServer, routes_from_directory, serve, serve_site

Site = Mapping[str, bytes] | Path | LocalServer | None
SyncSite = Callable[..., SyncReport]
TEST_ADMIN = ApiClient("test-admin", frozenset({"read", "admin"}))


def register_dev() -> list[dict[str, Any]]:
    """The 98 organisations the sample site lists, in sitegen's dict shape."""
    return list(json.loads(REGISTER_DEV.read_text(encoding="utf-8")))


def _serving(site: Site) -> AbstractContextManager[LocalServer | None]:
    if isinstance(site, LocalServer) or site is None:
        return nullcontext(site)
    if isinstance(site, Path):
        return serve(routes_from_directory(site))
    return serve_site(site)


def sync_from(
    settings: Settings, site: Site = None, *, expect_ok: bool = True, **options: Any
) -> SyncReport:
    """Run one sync of `site` (default: settings.source_url) into the settings' database."""
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with _serving(site) as server:
            source = server.url if server is not None else None
            request = SyncRequest(trigger="test", source_url=source, **options)
            report = run_sync(engine, settings, request)
    finally:
        engine.dispose()
    if expect_ok:
        assert report.ok, f"sync {report.outcome}: {report.reason}"
    return report


@pytest.fixture
def site() -> Iterator[LocalServer]:
    """The sample register served on 127.0.0.1."""
    with serve(routes_from_directory(SAMPLE_SITE)) as server:
        yield server


@pytest.fixture
def api_settings(database_url: str, site: LocalServer) -> Settings:
    """Test settings: this test's database, the register at `site`, public reads."""
    return make_settings(database_url, source_url=site.url)


@pytest.fixture
def app(api_settings: Settings) -> FastAPI:
    """The application, not started."""
    return create_app(api_settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client on the started app, mirror empty."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def sample_synced(api_settings: Settings) -> SyncReport:
    """The sample site mirrored into the database (before any app starts)."""
    return sync_from(api_settings)


@pytest.fixture
def synced_client(sample_synced: SyncReport, app: FastAPI) -> Iterator[TestClient]:
    """A client on the started app with the sample site mirrored (registry version 1)."""
    with TestClient(app) as test_client:
        app.state.holder.refresh(force=True)
        yield test_client


@pytest.fixture
def sync_site(api_settings: Settings, app: FastAPI) -> SyncSite:
    """Run another sync and swap `app`'s index to the result."""

    def sync(site: Site = None, **options: Any) -> SyncReport:
        report = sync_from(api_settings, site, **options)
        app.state.holder.refresh()
        return report

    return sync


@pytest.fixture
def as_admin(app: FastAPI) -> Iterator[ApiClient]:
    """Admin endpoints accept this test's requests without presenting a key."""
    app.dependency_overrides[require_admin] = lambda: TEST_ADMIN
    yield TEST_ADMIN
    app.dependency_overrides.pop(require_admin, None)
