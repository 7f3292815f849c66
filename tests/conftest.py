"""Shared fixtures: every database test runs on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.config import Settings
from app.db import make_engine, upgrade_database
from tests.support.databases import reset_postgres, scratch_postgres

BACKENDS = [
    b for b in os.environ.get("CERTLOOKUP_TEST_BACKENDS", "sqlite,postgres").split(",") if b
]
# The project's shared inputs (the listing layout's sample site, the eval set): beside the
# checkout, or wherever CERTLOOKUP_SHARED_DIR says.
SHARED = Path(
    os.environ.get("CERTLOOKUP_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared"
)
SAMPLE_SITE = SHARED / "listing-layout" / "sample-site"
REGISTER_DEV = SHARED / "eval" / "register-dev.json"


def pytest_configure(config: pytest.Config) -> None:
    """Stop at once, saying why, when the shared inputs are missing (rather than erroring in
    a hundred tests)."""
    if not SAMPLE_SITE.is_dir() or not REGISTER_DEV.is_file():
        raise pytest.UsageError(
            f"the tests read the shared inputs at {SHARED} (listing-layout/sample-site and "
            "eval/), which are not there: check the repository out beside `shared`, or set "
            "CERTLOOKUP_SHARED_DIR"
        )


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for tests: no scheduler, no pauses, no .env file."""
    values: dict[str, object] = {
        "DATABASE_URL": database_url,
        "environment": "test",
        "scheduler": False,
        "fetch_pause_seconds": 0.0,
        "fetch_deadline_seconds": 30.0,
        "public_read": True,
        "rate_limit": "0",
        "log_json": False,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def _postgres_url() -> Iterator[str]:
    with scratch_postgres("certlookup_test") as url:
        yield url


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    upgrade_database(make_settings(f"sqlite:///{path}"))
    return path


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: Path
) -> Iterator[str]:
    """A migrated, empty database on each backend; one fresh database (or reset) per test."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(_sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("_postgres_url")
    reset_postgres(url)
    yield url


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Test settings pointing at this test's database."""
    return make_settings(database_url)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """An engine on this test's database, disposed afterwards."""
    engine = make_engine(settings.sqlalchemy_url)
    yield engine
    engine.dispose()
