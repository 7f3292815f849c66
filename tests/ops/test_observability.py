"""Request ids, access logs, /metrics, /healthz, /readyz and CORS."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, update
from sqlalchemy.orm import Session

from app.main import create_app
from app.models import Organisation, RegistryState, utcnow
from app.ops.metrics import record_sync
from tests.conftest import make_settings

CHECK = "/v1/check?name=Acme%20Training"
UNUSED_PORT_URL = "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=1"


@pytest.fixture
def app(database_url: str) -> FastAPI:
    return create_app(make_settings(database_url))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def samples(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample on /metrics, keyed by (name, labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def seed_register(app: FastAPI, version: int, synced_hours_ago: float) -> None:
    """One certified organisation at a given registry version, synced some hours ago."""
    now = utcnow()
    with Session(app.state.engine) as session, session.begin():
        session.add(
            Organisation(
                name="Acme Training",
                listed_name="Acme Training",
                status="certified",
                names=[{"name": "Acme Training", "kind": "name"}],
                first_seen_at=now,
                updated_at=now,
            )
        )
        synced = now - dt.timedelta(hours=synced_hours_ago)
        session.execute(
            update(RegistryState).values(
                version=version, first_synced_at=synced, last_synced_at=synced
            )
        )
    app.state.holder.refresh(force=True)


def test_request_id_is_generated_or_echoed_when_sane(client: TestClient) -> None:
    generated = client.get("/healthz")
    another = client.get("/healthz")
    echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123.trace:7"})
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    too_long = client.get("/healthz", headers={"X-Request-ID": "a" * 200})

    assert re.fullmatch(r"[0-9a-f]{12}-[0-9a-f]+", generated.headers["X-Request-ID"])
    assert another.headers["X-Request-ID"] != generated.headers["X-Request-ID"]
    assert echoed.headers["X-Request-ID"] == "abc-123.trace:7"
    assert replaced.headers["X-Request-ID"] not in ("", "bad id\twith spaces")
    assert re.fullmatch(r"[0-9a-f]{12}-[0-9a-f]+", too_long.headers["X-Request-ID"])


def test_an_unexpected_error_is_a_500_problem_that_keeps_its_request_id(app: FastAPI) -> None:
    @app.get("/test/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/test/boom", headers={"X-Request-ID": "req-500"})
        values = samples(client)

    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert response.headers["X-Request-ID"] == "req-500"
    labels = frozenset({("method", "GET"), ("route", "/test/boom"), ("status", "500")})
    assert values[("certlookup_http_requests_total", labels)] == 1


def test_one_access_log_line_per_request_with_its_fields(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(make_settings(database_url, log_json=True, log_level="INFO"))
    with TestClient(app) as client:
        capsys.readouterr()
        response = client.get(CHECK, headers={"X-Request-ID": "req-42"})
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if "app.access" in x]

    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "req-42" == response.headers["X-Request-ID"]
    assert (line["method"], line["path"], line["route"]) == ("GET", "/v1/check", "/v1/check")
    assert (line["status"], line["client"]) == (200, "anonymous")
    assert line["verdict"] == response.json()["verdict"]
    assert isinstance(line["duration_ms"], float)


def test_metrics_count_requests_by_route_template_and_verdicts(
    app: FastAPI, client: TestClient
) -> None:
    seed_register(app, version=3, synced_hours_ago=1)
    client.get(CHECK)
    client.get("/v1/organisations/999999")
    client.get("/no/such/path")
    values = samples(client)

    check = {("method", "GET"), ("route", "/v1/check"), ("status", "200")}
    detail = ("route", "/v1/organisations/{id}")
    assert values[("certlookup_http_requests_total", frozenset(check))] == 1
    assert values[("certlookup_http_request_duration_seconds_count", frozenset(check))] == 1
    assert any(
        name == "certlookup_http_requests_total" and detail in labels for name, labels in values
    )
    assert not any(("route", "/v1/organisations/999999") in labels for _, labels in values)
    assert any(("route", "<unmatched>") in labels for _, labels in values)
    assert values[("certlookup_verdicts_total", frozenset({("verdict", "certified")}))] == 1


def test_metrics_report_register_age_version_counts_and_sync_outcomes(
    app: FastAPI, client: TestClient
) -> None:
    seed_register(app, version=7, synced_hours_ago=2)
    before = samples(client)
    record_sync("applied")
    after = samples(client)

    assert after[("certlookup_index_loaded", frozenset())] == 1
    assert after[("certlookup_register_version", frozenset())] == 7
    assert after[("certlookup_register_data_age_seconds", frozenset())] == pytest.approx(
        7200, abs=60
    )
    assert after[("certlookup_register_stale", frozenset())] == 0
    status = frozenset({("status", "certified")})
    assert after[("certlookup_register_organisations", status)] == 1
    applied = ("certlookup_sync_runs_total", frozenset({("outcome", "applied")}))
    assert after[applied] == before[applied] + 1


def test_each_app_has_its_own_metrics_registry(database_url: str) -> None:
    first = create_app(make_settings(database_url))
    second = create_app(make_settings(database_url))
    with TestClient(first) as client:
        client.get("/healthz")

    assert first.state.metrics.registry is not second.state.metrics.registry
    assert "/healthz" not in second.state.metrics.render(None)[0].decode()


def test_healthz_and_readyz_when_ready(app: FastAPI, client: TestClient) -> None:
    seed_register(app, version=3, synced_hours_ago=1)
    health = client.get("/healthz")
    ready = client.get("/readyz")

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert ready.status_code == 200
    body = ready.json()
    assert body["checks"] == {"database": "ok", "index": "ok", "sync": "ok"}
    assert (body["registry_version"], body["stale"]) == (3, False)


def test_readyz_is_503_never_synced_until_the_first_successful_sync(
    app: FastAPI, client: TestClient
) -> None:
    never = client.get("/readyz")
    seed_register(app, version=1, synced_hours_ago=0)
    synced = client.get("/readyz")

    assert never.status_code == 503
    assert never.headers["content-type"] == "application/problem+json"
    assert never.headers["Retry-After"] == "5"
    assert never.json()["code"] == "not_ready"
    assert never.json()["checks"] == {"database": "ok", "index": "ok", "sync": "never_synced"}
    assert never.json()["detail"] == "not ready: sync never_synced"
    assert synced.status_code == 200


def test_stale_data_stays_ready_and_says_it_is_stale(app: FastAPI, client: TestClient) -> None:
    seed_register(app, version=2, synced_hours_ago=24 * 30)

    ready = client.get("/readyz")

    assert ready.status_code == 200
    assert (ready.json()["checks"]["sync"], ready.json()["stale"]) == ("ok", True)


def test_readyz_is_503_when_the_database_is_down_but_healthz_stays_200(
    app: FastAPI, client: TestClient
) -> None:
    app.state.engine.dispose()
    app.state.engine = create_engine(UNUSED_PORT_URL)
    ready = client.get("/readyz")
    health = client.get("/healthz")

    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/problem+json"
    assert ready.json()["code"] == "not_ready"
    assert ready.json()["checks"] == {
        "database": "unreachable",
        "index": "ok",
        "sync": "never_synced",
    }
    assert health.status_code == 200


def test_readyz_is_503_until_the_index_is_loaded(app: FastAPI, client: TestClient) -> None:
    app.state.holder.snapshot = None
    ready = client.get("/readyz")

    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "index": "not_loaded", "sync": "unknown"}


def test_operations_endpoints_have_stable_operation_ids(app: FastAPI) -> None:
    paths = app.openapi()["paths"]

    for path, operation_id in (
        ("/healthz", "healthz"),
        ("/readyz", "readyz"),
        ("/metrics", "metrics"),
    ):
        assert paths[path]["get"]["operationId"] == operation_id
        assert paths[path]["get"]["summary"]
        assert "security" not in paths[path]["get"]


def test_cors_is_off_by_default(client: TestClient) -> None:
    preflight = client.options(
        CHECK,
        headers={"Origin": "https://portal.example", "Access-Control-Request-Method": "GET"},
    )
    simple = client.get(CHECK, headers={"Origin": "https://portal.example"})

    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in simple.headers


def test_cors_allows_configured_origins_and_key_headers(database_url: str) -> None:
    app = create_app(
        make_settings(database_url, cors_origins="https://portal.example", rate_limit="5/minute")
    )
    with TestClient(app) as client:
        preflight = client.options(
            CHECK,
            headers={
                "Origin": "https://portal.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "X-API-Key, Authorization",
            },
        )
        simple = client.get(CHECK, headers={"Origin": "https://portal.example"})
        other = client.get(CHECK, headers={"Origin": "https://evil.example"})

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://portal.example"
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "x-api-key" in allowed
    assert "authorization" in allowed
    assert simple.headers["access-control-allow-origin"] == "https://portal.example"
    exposed = simple.headers["access-control-expose-headers"]
    for header in ("ETag", "RateLimit-Remaining", "Retry-After", "X-Request-ID"):
        assert header in exposed
    assert "access-control-allow-origin" not in other.headers
