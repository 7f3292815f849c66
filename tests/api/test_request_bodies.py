"""Request bodies are closed, strict and valid Unicode, at every level, on every endpoint.

The first two tests walk the live app, so an endpoint added later is held to the same rules.
"""

from __future__ import annotations

import datetime as dt
import json
import types
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field, ValidationError

from app.auth.dependencies import ApiClient, require_watch
from app.errors import problem_response
from app.main import create_app
from app.schemas import IsoDate, RequestBody
from tests.conftest import make_settings

# "Schema.field" of request-body objects allowed to take any keys (a map), each with a
# reason. Empty: no request body has one.
OPEN_OBJECTS: dict[str, str] = {}


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    database = tmp_path_factory.mktemp("bodies") / "unused.sqlite3"
    return create_app(make_settings(f"sqlite:///{database}"))


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return name, document["components"]["schemas"][name]
    return "", schema


def _open_objects(
    document: dict[str, Any], schema: dict[str, Any], where: str, seen: set[str]
) -> Iterator[str]:
    """Each object schema reachable from `schema` that allows keys it does not name."""
    name, schema = _resolve(document, schema)
    if name:
        if name in seen:
            return
        seen.add(name)
        where = name
    is_object = schema.get("type") == "object" or "properties" in schema
    if is_object and schema.get("additionalProperties", True) is not False:
        yield where
    for field, sub in schema.get("properties", {}).items():
        yield from _open_objects(document, sub, f"{where}.{field}", seen)
    for key in ("items", "additionalProperties", "not"):
        if isinstance(schema.get(key), dict):
            yield from _open_objects(document, schema[key], where, seen)
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for sub in schema.get(key, []):
            yield from _open_objects(document, sub, where, seen)


def test_every_request_body_object_in_the_openapi_document_forbids_unknown_fields(
    live_app: FastAPI,
) -> None:
    document = live_app.openapi()
    bodies = [
        (f"{method.upper()} {path}", media["schema"])
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        for media in operation.get("requestBody", {}).get("content", {}).values()
    ]
    assert len(bodies) >= 2  # the batch check and starting a sync at least
    for operation, schema in bodies:
        open_objects = [
            where
            for where in _open_objects(document, schema, operation, set())
            if where not in OPEN_OBJECTS
        ]
        assert not open_objects, f"{operation}: objects that allow unknown fields: {open_objects}"


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        for field in annotation.model_fields.values():
            yield from _models_in(field.annotation)
        return
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        yield from _models_in(typing.get_args(annotation)[0])
        return
    if origin is not None or isinstance(annotation, types.UnionType):
        for argument in typing.get_args(annotation):
            yield from _models_in(argument)


def test_every_model_a_route_reads_its_body_into_is_a_request_body(live_app: FastAPI) -> None:
    checked = 0
    for route in live_app.routes:
        if not isinstance(route, APIRoute):
            continue
        for param in route.dependant.body_params:
            for model in _models_in(param.field_info.annotation):
                checked += 1
                assert issubclass(model, RequestBody), (
                    f"{route.path}: {model.__name__} must subclass app.schemas.RequestBody"
                )
    assert checked >= 3  # BatchRequest, BatchQuery, SyncRunRequest


class Item(RequestBody):
    text_checked_by_endpoint = frozenset({"name"})

    name: str | None = None
    on: IsoDate | None = None


class Outer(RequestBody):
    items: list[Item] = Field(default_factory=list)
    tags: dict[str, list[str]] = Field(default_factory=dict)
    label: str = ""
    force: bool = False
    count: int = 0


@pytest.mark.parametrize(
    "body",
    [
        {"force": "yes"},
        {"force": "true"},
        {"force": 1},
        {"count": "5"},
        {"count": 5.0},
        {"label": 5},
        {"unknown": 1},
        {"items": [{"unknown": 1}]},
        {"items": [{"on": 20260101}]},
        {"items": [{"on": "2026-02-30"}]},
        {"label": "\ud800"},
        {"tags": {"\udc80": []}},
        {"tags": {"a": ["fine", "\ud83d x"]}},
        {"label": "a\x00b"},
        {"tags": {"a\x00": []}},
    ],
)
def test_request_bodies_refuse_coercion_unknown_fields_and_lone_surrogates(
    body: dict[str, Any],
) -> None:
    with pytest.raises(ValidationError):
        Outer.model_validate(body)


def test_request_bodies_take_json_as_json_writes_it() -> None:
    body = Outer.model_validate(
        {"items": [{"name": "\ud800", "on": "2026-01-31"}], "tags": {"é": ["😀"]}, "force": True}
    )
    assert body.items[0].on == dt.date(2026, 1, 31)
    # The endpoint checks this field's text itself, to answer with that item's own error.
    assert body.items[0].name == "\ud800"


@pytest.fixture(scope="module")
def client(live_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(live_app) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ('{"queries": [], "extra": 1}', "validation_error"),
        ('{"queries": [{"name": "x", "extra": 1}]}', "validation_error"),
        ('{"queries": [{"name": 5}]}', "validation_error"),
        ('{"queries": {"name": "x"}}', "validation_error"),
        ('{"queries": [], "\\ud800": 1}', "invalid_encoding"),
    ],
)
def test_batch_bodies_are_strict_at_every_level(
    client: TestClient, content: str, code: str
) -> None:
    response = client.post(
        "/v1/check/batch", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_a_problem_that_echoes_a_lone_surrogate_is_still_json() -> None:
    response = problem_response(422, "invalid_input", "bad \ud800 text", field="\udc80")
    assert json.loads(response.body)["detail"] == "bad \ud800 text"


def test_a_nul_in_any_body_string_is_a_422_not_a_database_error(live_app: FastAPI) -> None:
    # A webhook's description goes to PostgreSQL as it is, which cannot store a NUL.
    live_app.dependency_overrides[require_watch] = lambda: ApiClient("t", frozenset({"watch"}))
    try:
        with TestClient(live_app) as client:
            response = client.post(
                "/v1/webhooks",
                json={"url": "https://hooks.example.org/in", "description": "a\x00b"},
            )
    finally:
        live_app.dependency_overrides.pop(require_watch)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_characters"
