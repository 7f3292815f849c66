"""Swagger UI shows an example for every part of every /reconcile operation: parameters,
form bodies and JSON answers (walked from the live OpenAPI document)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from app.main import create_app
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    database = tmp_path_factory.mktemp("examples") / "unused.sqlite3"
    app: FastAPI = create_app(make_settings(f"sqlite:///{database}"))
    return app.openapi()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        if path.startswith("/reconcile"):
            for method, operation in methods.items():
                yield f"{method.upper()} {path}", operation


def _has_example(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    if "examples" in schema or "example" in schema:
        return True
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _has_example(document, document["components"]["schemas"][name])
    options = schema.get("anyOf") or schema.get("oneOf")
    return bool(options) and all(_has_example(document, option) for option in options)


def test_every_reconcile_operation_has_examples(document: dict[str, Any]) -> None:
    operations = dict(_operations(document))
    assert {"GET /reconcile", "POST /reconcile"} <= operations.keys()
    for name, operation in operations.items():
        for parameter in operation.get("parameters", []):
            has = "examples" in parameter or "example" in parameter
            assert has or _has_example(document, parameter["schema"]), (name, parameter["name"])
        for media in operation.get("requestBody", {}).get("content", {}).values():
            assert _has_example(document, media["schema"]), (name, "body")
        for status, response in operation["responses"].items():
            if not status.startswith("2"):
                continue
            for media_type, media in response["content"].items():
                if media_type == "application/json":
                    assert _has_example(document, media["schema"]), (name, status)
                else:
                    assert "example" in media or "examples" in media, (name, media_type)


def test_the_form_example_sends_one_field(document: dict[str, Any]) -> None:
    """Swagger UI fills the form from the example: both fields would be a 422."""
    body = document["paths"]["/reconcile"]["post"]["requestBody"]["content"]
    schema = body["application/x-www-form-urlencoded"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[-1]
    (example,) = document["components"]["schemas"][name]["examples"]
    assert list(example) == ["queries"]
