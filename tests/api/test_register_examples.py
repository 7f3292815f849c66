"""Swagger UI shows an example for every new part of the register's operations (walked from
the live OpenAPI document), and the schema examples are valid answers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from app.main import create_app
from app.register.history_schemas import HistoryPeriod, RegisterHistory
from app.register.schemas import TimelineSpan
from tests.conftest import make_settings

NEW_PARAMETERS = {
    ("/v1/organisations", "get"): {
        "region",
        "setting",
        "parent_id",
        "valid_until_before",
        "format",
    },
    ("/v1/changes", "get"): {"kind", "organisation_id", "format"},
    ("/v1/register/history", "get"): {"interval", "region", "setting", "format"},
}
NEW_MEDIA = {
    ("/v1/organisations", "get"): "text/csv",
    ("/v1/changes", "get"): "text/csv",
    ("/v1/register/history", "get"): "text/csv",
    ("/v1/organisations/{id}", "get"): "text/html",
}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    database = tmp_path_factory.mktemp("examples") / "unused.sqlite3"
    app: FastAPI = create_app(make_settings(f"sqlite:///{database}"))
    return app.openapi()


def _schema_example(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    if "examples" in schema or "example" in schema:
        return True
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _schema_example(document, document["components"]["schemas"][name])
    return False


def test_every_new_parameter_and_answer_has_an_example(document: dict[str, Any]) -> None:
    for (path, method), names in NEW_PARAMETERS.items():
        parameters = {p["name"]: p for p in document["paths"][path][method]["parameters"]}
        for name in names:
            assert _schema_example(document, parameters[name]["schema"]), (path, name)
    for (path, method), media_type in NEW_MEDIA.items():
        content = document["paths"][path][method]["responses"]["200"]["content"]
        media = next(v for k, v in content.items() if k.startswith(media_type))
        assert media.get("example"), (path, media_type)
    history = document["paths"]["/v1/register/history"]["get"]["responses"]["200"]["content"]
    assert _schema_example(document, history["application/json"]["schema"])


@pytest.mark.parametrize("model", [TimelineSpan, HistoryPeriod, RegisterHistory])
def test_schema_examples_are_valid_answers(model: type[BaseModel]) -> None:
    examples = (model.model_config.get("json_schema_extra") or {}).get("examples")
    assert examples
    for example in examples:
        model.model_validate(example)
