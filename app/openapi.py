"""The OpenAPI document as served: every error response and every enumeration has an example.

Routers declare their error responses briefly (a status and a description that usually
starts with the code, `problem_doc("watch_not_found: ...")`); Swagger UI would show an
empty body for them. `install_openapi` fills in the problem schema and an example built from
the status and code, and gives each enumeration schema its first value as the example, so an
operation or enum added later gets them without anyone remembering (the rest of the examples
are written by hand: tests/api/test_swagger_examples.py holds every operation to it).
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from app.errors import PROBLEM_JSON, PROBLEM_TYPE_BASE
from app.register.schemas import Problem

# A description names its code first ("watch_not_found: ...") or after a colon
# ("A parameter is invalid: validation_error, invalid_query.").
_LEADING_CODE = re.compile(r"([a-z][a-z0-9_]*):")
_LISTED_CODE = re.compile(r": ([a-z]+_[a-z0-9_]+)\b")
_CODE_BY_STATUS = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    406: "not_acceptable",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
}


def _code(status: int, description: str) -> str:
    found = _LEADING_CODE.match(description) or _LISTED_CODE.search(description)
    return found.group(1) if found else _CODE_BY_STATUS.get(status, f"http_{status}")


def problem_example(status: int, description: str, path: str) -> dict[str, Any]:
    """The problem document an error response of `path` documented by `description` gives."""
    code = _code(status, description)
    detail = description.split(": ", 1)[1] if _LEADING_CODE.match(description) else description
    return {
        "type": PROBLEM_TYPE_BASE + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail.rstrip("."),
        "code": code,
        "instance": path,
    }


def document_problems(doc: dict[str, Any]) -> dict[str, Any]:
    """Give every problem+json response its schema and an example (in place)."""
    for path, item in doc.get("paths", {}).items():
        for operation in item.values():
            for status, response in operation.get("responses", {}).items():
                media = response.get("content", {}).get(PROBLEM_JSON)
                if media is None or not status.isdigit():
                    continue
                if not media.get("schema"):
                    media["schema"] = Problem.model_json_schema()
                media.setdefault(
                    "example", problem_example(int(status), response["description"], path)
                )
    return doc


def exemplify_enums(doc: dict[str, Any]) -> dict[str, Any]:
    """Give every enumeration schema without an example its first value as one (in place)."""
    for schema in doc.get("components", {}).get("schemas", {}).values():
        if schema.get("enum") and "examples" not in schema:
            schema["examples"] = [schema["enum"][0]]
    return doc


def install_openapi(app: FastAPI) -> None:
    """Serve the document with the examples above filled in (built once, then cached)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = exemplify_enums(document_problems(build()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
