"""Bad input to /reconcile is a 4xx problem document, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.reconcile.schemas import MAX_EXTEND_IDS, MAX_QUERIES

GOOD = {"query": "Safe-Hands Training Ltd"}


def _problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    "queries",
    [
        "{not json",
        "[]",
        '"q0"',
        "null",
        json.dumps({"q0": "Safe Hands"}),
        json.dumps({"q0": {**GOOD, "extra": 1}}),
        json.dumps({"q0": {"limit": 3}}),
        json.dumps({"q0": {"properties": []}}),
        json.dumps({"q0": {**GOOD, "limit": 0}}),
        json.dumps({"q0": {**GOOD, "limit": -1}}),
        json.dumps({"q0": {**GOOD, "limit": 2.5}}),
        json.dumps({"q0": {**GOOD, "limit": "3"}}),
        json.dumps({"q0": {**GOOD, "limit": True}}),
        json.dumps({"q0": {**GOOD, "limit": 10**9}}),
        json.dumps({"q0": {**GOOD, "type": 5}}),
        json.dumps({"q0": {**GOOD, "type_strict": "maybe"}}),
        json.dumps({"q0": {**GOOD, "properties": [{"pid": "website"}]}}),
        json.dumps({"q0": {"query": 5}}),
        '{"q0": {"query": "Safe \\ud800 Hands"}}',
        '{"\\ud800": {"query": "Safe Hands"}}',
        json.dumps({"q\x00": GOOD}),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_malformed_queries_are_422(recon: TestClient, queries: str, method: str) -> None:
    if method == "GET":
        response = recon.get("/reconcile", params={"queries": queries})
    else:
        response = recon.post("/reconcile", data={"queries": queries})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] in {"validation_error", "invalid_encoding"}


def test_more_queries_than_a_batch_holds_is_413(recon: TestClient) -> None:
    batch = {f"q{i}": GOOD for i in range(MAX_QUERIES + 1)}
    response = recon.post("/reconcile", data={"queries": json.dumps(batch)})
    _problem(response, 413, "batch_too_large")
    batch.pop(f"q{MAX_QUERIES}")
    assert recon.post("/reconcile", data={"queries": json.dumps(batch)}).status_code == 200


def test_a_body_over_the_limit_is_413(recon: TestClient) -> None:
    huge = json.dumps({"q0": {"query": "x" * 3_000_000}})
    _problem(recon.post("/reconcile", data={"queries": huge}), 413, "body_too_large")


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"other": "1"},
        {"queries": json.dumps({"q0": GOOD}), "extend": json.dumps({"ids": [], "properties": []})},
    ],
)
def test_a_post_needs_queries_or_extend_and_only_one(recon: TestClient, data: Any) -> None:
    _problem(recon.post("/reconcile", data=data), 422, "validation_error")


def test_a_repeated_field_is_refused(recon: TestClient) -> None:
    body = "queries=%7B%7D&queries=%7B%7D"
    headers = {"content-type": "application/x-www-form-urlencoded"}
    _problem(recon.post("/reconcile", content=body, headers=headers), 422, "repeated_parameter")
    _problem(recon.get("/reconcile?queries=%7B%7D&queries=%7B%7D"), 422, "repeated_parameter")


def test_a_json_body_is_not_a_form(recon: TestClient) -> None:
    response = recon.post("/reconcile", json={"queries": {"q0": GOOD}})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "extend",
    [
        "{not json",
        json.dumps({"ids": ["3"]}),
        json.dumps({"ids": ["3"], "properties": [{"id": "colour"}]}),
        json.dumps({"ids": [3], "properties": [{"id": "status"}]}),
        json.dumps({"ids": ["3"], "properties": [{"id": "status", "extra": 1}]}),
        json.dumps({"ids": ["1"] * (MAX_EXTEND_IDS + 1), "properties": [{"id": "status"}]}),
        '{"ids": ["\\ud800"], "properties": [{"id": "status"}]}',
    ],
)
def test_malformed_extension_queries_are_422(recon: TestClient, extend: str) -> None:
    response = recon.post("/reconcile", data={"extend": extend})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_odd_ids_get_no_values_rather_than_an_error(recon: TestClient) -> None:
    ids = ["9" * 5000, "-1", "٣", "0", ""]
    extend = json.dumps({"ids": ids, "properties": [{"id": "status"}, {"id": "last_changed"}]})
    response = recon.post("/reconcile", data={"extend": extend})
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == {i: {"status": [], "last_changed": []} for i in ids}


def test_unknown_parameters_such_as_jsonp_callbacks_are_tolerated(recon: TestClient) -> None:
    response = recon.get("/reconcile", params={"callback": "jQuery123", "_": "1700000000"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
