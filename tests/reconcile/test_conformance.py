"""Every kind of /reconcile response validates against the vendored 0.2 JSON schemas, and the
validator is shown to be wired: real services' manifests pass, the spec's invalid examples fail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.reconcile.spec import SPEC, VERSIONS, assert_valid, load, validator

VALID_MANIFESTS = sorted((SPEC / "0.2/examples/manifest/valid").glob("*.json"))
INVALID_EXAMPLES = [
    ("manifest", "examples/manifest/invalid/bad-authentication.json"),
    ("query_batch", "examples/reconciliation-query-batch/invalid/empty-query.json"),
    ("result_batch", "examples/reconciliation-result-batch/invalid/no-result.json"),
]
# A batch as OpenRefine sends it (3.8: q0..qN, type and type_strict, properties from other
# columns, limit only when set), plus identifier-only and empty-looking queries.
BATCH: dict[str, Any] = {
    "q0": {"query": "Safe Hands Training", "type": "certified", "type_strict": "should"},
    "q1": {"query": "Safe-Hands Trainng Ltd", "limit": 3},
    "q2": {"query": "Acme Unlisted Widgets", "type": ["certified", "affiliate"]},
    "q3": {"properties": [{"pid": "certificate_number", "v": "act5819"}]},
    "q4": {
        "query": "Safe Hands Training",
        "properties": [
            {"pid": "website", "v": ["https://www.example.invalid/"]},
            {"pid": "P131", "v": {"id": "Q84", "name": "London"}},
        ],
    },
}


@pytest.mark.parametrize("path", VALID_MANIFESTS, ids=lambda p: p.stem)
def test_real_services_manifests_pass_the_same_validator(path: Path) -> None:
    assert len(VALID_MANIFESTS) >= 3
    assert_valid("0.2", "manifest", json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize(("kind", "relative"), INVALID_EXAMPLES)
def test_the_specs_invalid_examples_fail(kind: str, relative: str) -> None:
    assert not validator("0.2", kind).is_valid(load("0.2", relative))


def test_the_authentication_reference_reaches_the_swagger_security_schemes() -> None:
    manifest = {"versions": ["0.2"], "name": "x", "identifierSpace": "x", "schemaSpace": "x"}
    key_scheme = load("0.2", "examples/security-scheme/valid/api_key.json")
    assert validator("0.2", "manifest").is_valid({**manifest, "authentication": key_scheme})
    wrong = {**key_scheme, "in": "cookie"}
    assert not validator("0.2", "manifest").is_valid({**manifest, "authentication": wrong})


@pytest.mark.parametrize("version", VERSIONS)
def test_the_batch_the_tests_send_is_a_valid_query_batch(version: str) -> None:
    assert_valid(version, "query_batch", BATCH)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_manifest_is_valid(recon: TestClient, version: str) -> None:
    response = recon.get("/reconcile")
    assert response.status_code == 200
    manifest = response.json()
    assert_valid(version, "manifest", manifest)
    assert version in manifest["versions"]
    assert "authentication" not in manifest  # reads are public in this app


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_query_results_are_valid_and_keyed_as_sent(
    recon: TestClient, version: str, method: str
) -> None:
    sent = json.dumps(BATCH)
    if method == "GET":
        response = recon.get("/reconcile", params={"queries": sent})
    else:
        response = recon.post("/reconcile", data={"queries": sent})
    assert response.status_code == 200, response.text
    results = response.json()
    assert_valid(version, "result_batch", results)
    assert list(results) == list(BATCH)
    assert any(c["match"] for c in results["q0"]["result"])
    assert results["q1"]["result"]  # a typo still finds candidates


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_extension_responses_are_valid(recon: TestClient, version: str, method: str) -> None:
    manifest = recon.get("/reconcile").json()
    assert "extend" in manifest
    query = {
        "ids": ["3", "1", "no-such-id", "999999"],
        "properties": [
            {"id": p}
            for p in (
                "status",
                "parent",
                "certificate_number",
                "valid_until",
                "website",
                "regions",
                "settings",
                "last_changed",
            )
        ],
    }
    assert_valid(version, "extend_query", query)
    if method == "GET":
        response = recon.get("/reconcile", params={"extend": json.dumps(query)})
    else:
        response = recon.post("/reconcile", data={"extend": json.dumps(query)})
    assert response.status_code == 200, response.text
    assert_valid(version, "extend_response", response.json())
