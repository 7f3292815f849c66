"""Schemathesis against the live OpenAPI schema of the app, in-process (ASGI), every operation.

The app runs with public reads off and the rate limit off, on a database holding the sample
site (registry version 1), and every request carries an admin API key (admin implies read), so
the generated requests reach the handlers instead of stopping at 401. Checks: no 5xx, responses
valid against the schema, status codes and content types documented.

Bounded for CI: a fixed number of fuzzed examples per operation (plus schemathesis's explicit
and coverage cases), derandomized with a fixed seed (the same cases on every run), no Hypothesis
example database; both backends take well under two minutes. `POST /v1/sync-runs` really syncs,
from the sample site served on 127.0.0.1 (well under a second each), with fewer examples.

The schema is loaded at import, from an app that is never started, rather than through
`schemathesis.pytest.from_fixture`: that lazy loader fails under pytest 9 (it assigns
`Function._nodeid`, which pytest 9 no longer has). Each test sends its cases to its own started
app with `app=`, and the fixture checks that app's live schema is the one tested.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.python import asgi as schemathesis_asgi
from sqlalchemy.orm import Session

from app.auth.keys import Scope, create_key
from app.config import Settings
from app.db import make_engine
from app.main import create_app
from tests.api.conftest import sync_from
from tests.conftest import make_settings
from tests.support.httpserver import LocalServer

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
MAX_EXAMPLES = 30
SYNC_MAX_EXAMPLES = 8
SEED = 20_210_401  # CQC's expectation dates from April 2021; any fixed number will do
BOUNDED = {
    "derandomize": True,
    "database": None,
    "deadline": None,
    "suppress_health_check": list(HealthCheck),
}
SYNC_RUNS = {"method": "POST", "path": "/v1/sync-runs"}


@pytest.fixture
def api_settings(database_url: str, site: LocalServer) -> Settings:
    """Keys required (no public reads), no rate limit, the register at the local sample site."""
    return make_settings(database_url, source_url=site.url, public_read=False, rate_limit="0")


@pytest.fixture
def admin_key(api_settings: Settings) -> str:
    """An admin key stored in this test's database."""
    engine = make_engine(api_settings.sqlalchemy_url)
    try:
        with Session(engine) as session, session.begin():
            return create_key(session, "schemathesis", Scope.ADMIN, api_settings.key_pepper).key
    finally:
        engine.dispose()


@pytest.fixture
def live_app(api_settings: Settings, admin_key: str) -> Iterator[FastAPI]:
    """The app under test, its mirror holding the sample site (registry version 1)."""
    sync_from(api_settings)
    app = create_app(api_settings)
    assert app.openapi() == schema.raw_schema, "the tested schema is not the app's live schema"
    try:
        yield app
    finally:
        # The ASGI transport starts the app's lifespan (index poller, engine) on first use.
        schemathesis_asgi.shutdown_lifespans()


def _schema() -> schemathesis.BaseSchema:
    """The app's OpenAPI schema, sent in-process to whichever app a test passes as `app=`.

    Built from an app that is never started (the schema does not depend on the database), so
    collection needs no database; each test then calls its own started app.
    """
    placeholder = create_app(make_settings("sqlite:///schema-only-never-opened.sqlite3"))
    loaded = schemathesis.openapi.from_dict(placeholder.openapi())
    loaded.app = placeholder  # selects the ASGI transport; calls pass app=live_app
    # Our admin key goes on every request; generated X-API-Key/Bearer values only get 401s.
    loaded.config.generation.update(with_security_parameters=False)
    loaded.config.seed = SEED  # schemathesis draws a random seed per process otherwise
    return loaded


schema = _schema()


def _call(case: schemathesis.Case, app: FastAPI, key: str) -> None:
    case.call_and_validate(app=app, headers={"X-API-Key": key}, checks=CHECKS)


@schema.exclude(**SYNC_RUNS).parametrize()
@settings(max_examples=MAX_EXAMPLES, **BOUNDED)
def test_every_operation_conforms(
    case: schemathesis.Case, live_app: FastAPI, admin_key: str
) -> None:
    _call(case, live_app, admin_key)


@schema.include(**SYNC_RUNS).parametrize()
@settings(max_examples=SYNC_MAX_EXAMPLES, **BOUNDED)
def test_sync_trigger_conforms(case: schemathesis.Case, live_app: FastAPI, admin_key: str) -> None:
    _call(case, live_app, admin_key)


@pytest.mark.parametrize("path", ["/v1/check/batch", "/v1/sync-runs"])
def test_an_undecodable_body_is_a_documented_422(
    path: str, live_app: FastAPI, admin_key: str
) -> None:
    """Found by schemathesis: bytes that are not JSON text at all were an undocumented 400."""
    headers = {"X-API-Key": admin_key, "Content-Type": "application/json"}
    with TestClient(live_app) as client:
        response = client.post(path, content=b"\xd8\x00\x06", headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"
