"""Matching through /reconcile is /v1/check's matching: the same organisation gets
`match: true` exactly when /v1/check auto-matches it, and no decoy of the eval sets ever does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import SHARED

EVAL_SETS = ("queries-dev.jsonl", "queries-v2-dev.jsonl")
LISTED = {"certified", "affiliate", "working_towards"}
IDENTIFIERS = ("certificate_number", "website")


def _lines(name: str) -> list[dict[str, Any]]:
    text = (SHARED / "eval" / name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def recon_query(line: dict[str, Any]) -> dict[str, Any]:
    """An eval line as OpenRefine would send it: the name, identifiers as column values."""
    query: dict[str, Any] = {}
    if "query" in line:
        query["query"] = line["query"]
    properties = [{"pid": pid, "v": line[pid]} for pid in IDENTIFIERS if line.get(pid)]
    if properties:
        query["properties"] = properties
    return query


def reconcile_all(client: TestClient, lines: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Each line's candidates from /reconcile, in batches of 100 (OpenRefine's largest)."""
    found: list[list[dict[str, Any]]] = []
    for chunk in _chunks(lines, 100):
        batch = {f"q{i}": recon_query(line) for i, line in enumerate(chunk)}
        response = client.post("/reconcile", data={"queries": json.dumps(batch)})
        assert response.status_code == 200, response.text
        results = response.json()
        found.extend(results[key]["result"] for key in batch)
    return found


def check_all(client: TestClient, lines: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """Each line's /v1/check/batch result (None for a query it refuses)."""
    items = [
        {"name": line.get("query"), **{pid: line[pid] for pid in IDENTIFIERS if line.get(pid)}}
        for line in lines
    ]
    response = client.post("/v1/check/batch", json={"queries": items})
    assert response.status_code == 200, response.text
    return [item["result"] for item in response.json()["results"]]


@pytest.mark.parametrize("eval_set", EVAL_SETS)
def test_match_true_exactly_when_v1_check_auto_matches(recon: TestClient, eval_set: str) -> None:
    lines = _lines(eval_set)
    candidates = reconcile_all(recon, lines)
    checks = check_all(recon, lines)
    auto_matched = 0
    for line, found, check in zip(lines, candidates, checks, strict=True):
        matched = [c for c in found if c["match"]]
        if check is not None and check["verdict"] in LISTED:
            auto_matched += 1
            assert len(matched) == 1, line
            assert found[0] is matched[0], line  # first, so OpenRefine can auto-match it
            assert matched[0]["id"] == str(check["organisation"]["id"]), line
            assert matched[0]["type"][0]["id"] == check["verdict"], line
        else:
            assert matched == [], line
        assert all(0 <= c["score"] <= 100 for c in found), line
    assert auto_matched > len(lines) / 2  # the comparison covers real matches


@pytest.mark.parametrize("eval_set", EVAL_SETS)
def test_no_decoy_gets_match_true(recon: TestClient, eval_set: str) -> None:
    decoys = [line for line in _lines(eval_set) if line["expect_name"] is None]
    assert len(decoys) >= 20
    found = reconcile_all(recon, decoys)
    matched = [(d, c) for d, cs in zip(decoys, found, strict=True) for c in cs if c["match"]]
    assert matched == []
    # Decoys that resemble a listed name still come back, to review: scored, not matched.
    assert sum(1 for cs in found if cs) > len(decoys) / 4


def test_review_candidates_are_scored_and_not_matched(recon: TestClient) -> None:
    lines = _lines("queries-dev.jsonl")
    checks = check_all(recon, lines)
    review = [
        line for line, c in zip(lines, checks, strict=True) if c and c["verdict"] == "needs_review"
    ]
    assert review
    for line, found in zip(review, reconcile_all(recon, review), strict=True):
        assert found, line
        assert not any(c["match"] for c in found)
        assert [c["score"] for c in found] == sorted((c["score"] for c in found), reverse=True)


def _ask(client: TestClient, **query: Any) -> list[dict[str, Any]]:
    response = client.post("/reconcile", data={"queries": json.dumps({"q": query})})
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()["q"]["result"]
    return result


def test_limit_is_honoured(recon: TestClient) -> None:
    unlimited = _ask(recon, query="Safe Hands Care Training Services")
    assert len(unlimited) >= 2
    assert _ask(recon, query="Safe Hands Care Training Services", limit=1) == unlimited[:1]


def test_type_filters_candidates(recon: TestClient) -> None:
    found = _ask(recon, query="Safe-Hands Training Ltd")
    assert found[0]["match"] is True
    kind = found[0]["type"][0]["id"]
    others = [t for t in ("certified", "affiliate", "working_towards") if t != kind]
    assert _ask(recon, query="Safe-Hands Training Ltd", type=kind)[0] == found[0]
    for candidate in _ask(recon, query="Safe-Hands Training Ltd", type=others):
        assert candidate["type"][0]["id"] in others
        assert candidate["match"] is False
    assert _ask(recon, query="Safe-Hands Training Ltd", type="no_such_type") == []


def test_identifier_properties_are_read_as_check_reads_them(recon: TestClient) -> None:
    by_number = _ask(recon, properties=[{"pid": "certificate_number", "v": "act 5819"}])
    assert by_number[0]["match"] is True
    named = _ask(
        recon,
        query=by_number[0]["name"],
        properties=[{"pid": "certificate_number", "v": ["ACT-5819"]}],
    )
    assert named[0]["id"] == by_number[0]["id"]
    assert named[0]["match"] is True


def test_two_values_for_one_identifier_give_no_candidates(recon: TestClient) -> None:
    found = _ask(
        recon,
        query="Safe-Hands Training Ltd",
        properties=[{"pid": "certificate_number", "v": ["ACT5819", "ACT1234"]}],
    )
    assert found == []


@pytest.mark.parametrize(
    "query",
    [
        {"query": ""},
        {"query": "   "},
        {"query": "x" * 301},
        {"query": "Safe\x00Hands"},
        {"properties": [{"pid": "certificate_number", "v": "??"}]},
        {"properties": [{"pid": "colour", "v": "blue"}]},
        {"properties": [{"pid": "website", "v": True}]},
    ],
)
def test_a_query_that_cannot_be_checked_gets_no_candidates(
    recon: TestClient, query: dict[str, Any]
) -> None:
    batch = {"bad": query, "good": {"query": "Safe-Hands Training Ltd"}}
    response = recon.post("/reconcile", data={"queries": json.dumps(batch)})
    assert response.status_code == 200, response.text
    assert response.json()["bad"] == {"result": []}
    assert response.json()["good"]["result"][0]["match"] is True
