"""/metrics as a scraper reads it: every verdict counted whichever door it left by, every
served path under its route template, and one series per counter (no `_created` twins)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.files.examples import CSV_EXAMPLE

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
OPENMETRICS = "application/openmetrics-text; version=1.0.0"


def samples(client: TestClient) -> Samples:
    """Every sample on /metrics, keyed by (name, labels)."""
    text = client.get("/metrics").text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def verdicts(values: Samples) -> dict[str, float]:
    return {
        dict(labels)["verdict"]: value
        for (name, labels), value in values.items()
        if name == "certlookup_verdicts_total"
    }


def requests_by_route(values: Samples) -> dict[tuple[str, str, str], float]:
    return {
        (labels_["method"], labels_["route"], labels_["status"]): value
        for (name, labels), value in values.items()
        if name == "certlookup_http_requests_total" and (labels_ := dict(labels))
    }


def test_batch_items_are_counted_like_get_checks(synced_client: TestClient) -> None:
    before = verdicts(samples(synced_client))
    queries = [
        {"name": "Severn NHS FT"},
        {"name": "Kind Homes Ltd"},
        {"name": "Severn NHS Foundation Trust"},
        {"name": "Nobody At All Training"},
        {"name": "Kind Homes Ltd", "as_of": "2026-13-01"},  # an error, not a verdict
    ]
    answer = synced_client.post("/v1/check/batch", json={"queries": queries})
    assert answer.status_code == 200
    after = verdicts(samples(synced_client))
    gained = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    assert gained == {"certified": 2, "affiliate": 1, "not_listed": 1}


def test_file_rows_are_counted_like_get_checks(synced_client: TestClient) -> None:
    before = verdicts(samples(synced_client))
    answer = synced_client.post(
        "/v1/check/file", content=CSV_EXAMPLE, headers={"content-type": "text/csv"}
    )
    assert answer.status_code == 200
    after = verdicts(samples(synced_client))
    gained = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    assert sum(gained.values()) == 3
    assert gained["certified"] == 1
    assert gained["affiliate"] == 1


@pytest.mark.parametrize(
    ("method", "path", "route", "status"),
    [
        ("GET", "/docs", "/docs", "200"),
        ("GET", "/openapi.json", "/openapi.json", "200"),
        ("HEAD", "/openapi.json", "/openapi.json", "200"),
        ("GET", "/docs/swagger-init.js", "/docs/swagger-init.js", "200"),
        ("GET", "/docs/static/swagger-ui-bundle.js", "/docs/static/{path}", "200"),
        ("GET", "/docs/static/swagger-ui.css", "/docs/static/{path}", "200"),
        ("GET", "/docs/static/no-such-asset.js", "/docs/static/{path}", "404"),
        ("GET", "/no/such/path", "<unmatched>", "404"),
    ],
)
def test_swagger_ui_and_the_schema_are_counted_under_their_routes(
    client: TestClient, method: str, path: str, route: str, status: str
) -> None:
    assert client.request(method, path).status_code == int(status)
    assert requests_by_route(samples(client))[(method, route, status)] == 1


def test_route_labels_follow_the_root_path_behind_a_proxy(app: FastAPI) -> None:
    with TestClient(app, root_path="/lookup") as client:
        client.get("/docs/static/swagger-ui.css")
        client.get("/openapi.json")
        routes = {route for _, route, _ in requests_by_route(samples(client))}
    assert routes == {"/docs/static/{path}", "/openapi.json"}


@pytest.mark.parametrize("accept", [None, OPENMETRICS])
def test_no_created_series_beside_the_counters(synced_client: TestClient, accept: str) -> None:
    synced_client.get("/v1/check", params={"name": "Severn NHS FT"})
    synced_client.post("/v1/check/batch", json={"queries": [{"name": "Kind Homes Ltd"}]})
    headers = {"accept": accept} if accept else {}
    body = synced_client.get("/metrics", headers=headers).text
    created = [line for line in body.splitlines() if "_created" in line]
    assert created == []
    assert "certlookup_http_requests_total{" in body
    assert 'certlookup_verdicts_total{verdict="certified"}' in body
