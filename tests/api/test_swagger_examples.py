"""Every operation and schema in the live OpenAPI document has an example Swagger UI can
start from, and "Try it out" with those examples works: each example request sent as it is
gets a 2xx. An operation added later is held to this without anyone remembering.

The Swagger UI side of it (examples shown and sent on the first click) is
tests/ops/test_swagger_browser.py.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

import app as app_package
from app.auth.keys import Scope, create_key
from app.config import Settings
from app.db import make_engine, transaction, upgrade_database
from app.main import create_app
from app.webhooks.guard import AddressGuard
from tests.api.conftest import sync_from
from tests.conftest import make_settings
from tests.support.httpserver import LocalServer

METHODS = ("get", "put", "post", "patch", "delete")
# Creating comes before reading, reading before deleting: the path-parameter examples name
# the first watch and webhook, which the POST examples create.
PHASES = {"post": 0, "get": 1, "delete": 2}
# What "Try it out" answers where a 2xx cannot be had from the example as it stands (each is
# among the operation's documented responses): receipt ids are random, so the example id is
# one the fresh service has not issued.
EXPECTED_STATUS = {"GET /v1/receipts/{id}": 404}
PUBLIC_ADDRESS = "93.184.215.14"  # the example webhook host "resolves" here; never contacted


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _schema_example(doc: dict[str, Any], schema: dict[str, Any]) -> Any:
    """The example Swagger UI would show for `schema`, or None when it would make one up."""
    schema = _resolve(doc, schema)
    if schema.get("examples"):
        return schema["examples"][0]
    if "example" in schema:
        return schema["example"]
    if schema.get("type") == "array" and "items" in schema:
        item = _schema_example(doc, schema["items"])
        return None if item is None else [item]
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        found = _schema_example(doc, option)
        if found is not None:
            return found
    return None


def _media_example(doc: dict[str, Any], media: dict[str, Any]) -> Any:
    if "example" in media:
        return media["example"]
    if media.get("examples"):
        return next(iter(media["examples"].values()))["value"]
    return _schema_example(doc, media.get("schema", {}))


def _parameter_example(parameter: dict[str, Any]) -> Any:
    """The value Swagger UI fills in (its order: examples, example, schema example, default)."""
    if parameter.get("examples"):
        return next(iter(parameter["examples"].values()))["value"]
    schema = parameter.get("schema", {})
    for source, key in ((parameter, "example"), (schema, "example"), (schema, "default")):
        if key in source:
            return source[key]
    return None


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    database = tmp_path_factory.mktemp("swagger-examples") / "unused.sqlite3"
    return create_app(make_settings(f"sqlite:///{database}")).openapi()


def _is_file(doc: dict[str, Any], media: dict[str, Any]) -> bool:
    """A binary payload, or a form of them: Swagger UI offers a file picker, not an example."""
    schema = _resolve(doc, media.get("schema", {}))
    if schema.get("format") == "binary":
        return True
    fields = [_resolve(doc, f) for f in schema.get("properties", {}).values()]
    return bool(fields) and all(f.get("format") == "binary" for f in fields)


def _missing_examples(doc: dict[str, Any]) -> Iterator[str]:
    for method, path, operation in _operations(doc):
        where = f"{method.upper()} {path}"
        for parameter in operation.get("parameters", []):
            if parameter.get("required") and _parameter_example(parameter) is None:
                yield f"{where}: parameter {parameter['name']}"
        for kind, media in operation.get("requestBody", {}).get("content", {}).items():
            if _media_example(doc, media) is None and not _is_file(doc, media):
                yield f"{where}: request body {kind}"
        for status, response in operation["responses"].items():
            for kind, media in response.get("content", {}).items():
                documented = media.get("schema") or status.startswith("2")
                if documented and _media_example(doc, media) is None and not _is_file(doc, media):
                    yield f"{where}: response {status} {kind}"
    for name, schema in doc["components"]["schemas"].items():
        if not schema.get("examples") and "example" not in schema:
            yield f"schema {name}"


def test_every_operation_and_schema_has_an_example(doc: dict[str, Any]) -> None:
    missing = list(_missing_examples(doc))
    assert missing == [], f"no example for Swagger UI to show: {missing}"


def _app_models() -> Iterator[type[BaseModel]]:
    for module in pkgutil.walk_packages(app_package.__path__, "app."):
        importlib.import_module(module.name)
    seen: set[type[BaseModel]] = set()
    stack = list(BaseModel.__subclasses__())
    while stack:
        model = stack.pop()
        if model in seen:
            continue
        seen.add(model)
        stack.extend(model.__subclasses__())
        if (
            model.__module__.startswith("app.")
            and not model.__pydantic_generic_metadata__["origin"]
        ):
            yield model


def test_every_model_example_is_valid_and_names_only_real_fields() -> None:
    checked = 0
    for model in _app_models():
        extra = model.model_config.get("json_schema_extra")
        for example in extra.get("examples", []) if isinstance(extra, dict) else []:
            parsed = model.model_validate_json(json.dumps(example))
            again = parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)
            assert again == example, f"{model.__name__}: the example differs once read"
            checked += 1
    assert checked >= 40


# --- Every example request, sent as Swagger UI would send it -------------------------------


def _public_dns(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_ADDRESS, port))]


@pytest.fixture
def api_settings(database_url: str, site: LocalServer) -> Settings:
    """Keys required (as in production), the register at `site`."""
    return make_settings(database_url, source_url=site.url, public_read=False)


@pytest.fixture
def admin_key(api_settings: Settings) -> str:
    engine = make_engine(api_settings.sqlalchemy_url)
    try:
        with transaction(engine) as session:
            return create_key(session, "swagger", Scope.ADMIN, api_settings.key_pepper).key
    finally:
        engine.dispose()


def _request(doc: dict[str, Any], path: str, operation: dict[str, Any]) -> dict[str, Any]:
    """What "Try it out" then "Execute" sends for this operation, untouched."""
    query: dict[str, Any] = {}
    for parameter in operation.get("parameters", []):
        value = _parameter_example(parameter)
        if value is None or value == "":  # Swagger UI sends no empty value
            continue
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", str(value))
        elif parameter["in"] == "query":
            query[parameter["name"]] = value
    request: dict[str, Any] = {"url": path, "params": query, "headers": {}}
    content = operation.get("requestBody", {}).get("content", {})
    if content:
        kind, media = next(iter(content.items()))  # Swagger UI's first choice
        body = _media_example(doc, media)
        request["headers"]["content-type"] = kind
        if kind == "application/x-www-form-urlencoded":
            request["content"] = urlencode(body)
        else:
            request["content"] = body if isinstance(body, str) else json.dumps(body)
    return request


def _in_order(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    operations = list(_operations(doc))
    return sorted(operations, key=lambda o: (PHASES.get(o[0], 1), "{" in o[1] and o[0] != "post"))


def test_every_example_request_is_answered(
    app: FastAPI, sample_synced: object, admin_key: str
) -> None:
    app.state.address_guard = AddressGuard(allow_private=False, resolver=_public_dns)
    answers = {}
    with TestClient(app, headers={"X-API-Key": admin_key}) as client:
        app.state.holder.refresh(force=True)
        doc = client.get("/openapi.json").json()
        for method, path, operation in _in_order(doc):
            response = client.request(method.upper(), **_request(doc, path, operation))
            answers[f"{method.upper()} {path}"] = (response.status_code, response.text[:300])
    failed = {
        k: v
        for k, v in answers.items()
        if not (200 <= v[0] < 300 if k not in EXPECTED_STATUS else v[0] == EXPECTED_STATUS[k])
    }
    assert failed == {}, json.dumps(failed, indent=1)
    assert len(answers) >= 25


def test_examples_are_run_against_the_sample_register(tmp_path: Path, site: LocalServer) -> None:
    """The check and batch examples get real verdicts from a freshly synced sample register."""
    settings = make_settings(f"sqlite:///{tmp_path / 'db.sqlite3'}", source_url=site.url)
    upgrade_database(settings)
    sync_from(settings)
    with TestClient(create_app(settings)) as client:
        doc = client.get("/openapi.json").json()
        operation = doc["paths"]["/v1/check"]["get"]
        answer = client.get(**_request(doc, "/v1/check", operation)).json()
        batch = doc["paths"]["/v1/check/batch"]["post"]
        items = client.post(**_request(doc, "/v1/check/batch", batch)).json()["results"]
    assert answer["verdict"] == "certified"
    assert answer["meets_cqc_expectation"] is True
    verdicts = [item["result"]["verdict"] for item in items]
    assert verdicts == ["certified", "affiliate", "certified"]
