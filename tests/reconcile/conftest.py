"""A started app with the sample register mirrored, shared by a module's tests (on SQLite
and on PostgreSQL): the reconciliation endpoints only read, so one sync per module will do."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.api.conftest import sync_from
from tests.conftest import BACKENDS, SAMPLE_SITE, make_settings
from tests.support.databases import reset_postgres
from tests.support.httpserver import routes_from_directory, serve


@pytest.fixture(scope="module", params=BACKENDS)
def module_database(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    _sqlite_template: Path,
) -> Iterator[str]:
    """A migrated database on each backend, for one module."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("reconcile") / "test.sqlite3"
        shutil.copyfile(_sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("_postgres_url")
    reset_postgres(url)
    yield url


@pytest.fixture(scope="module")
def recon(module_database: str) -> Iterator[TestClient]:
    """A client on the started app, the sample site mirrored (public reads, no rate limit)."""
    with serve(routes_from_directory(SAMPLE_SITE)) as server:
        settings = make_settings(module_database, source_url=server.url)
        sync_from(settings)
    with TestClient(create_app(settings)) as client:
        yield client
