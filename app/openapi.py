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


def exemplify_nested(doc: dict[str, Any]) -> dict[str, Any]:
    """Give every schema used inside an exemplified one the matching part of that example.

    A body's example already shows what each object nested in it looks like; the nested
    schema's own example is that part (an object, a list's first item, a map's first value,
    or the anyOf option whose properties it fits). Repeated until nothing changes.
    """
    schemas = doc.get("components", {}).get("schemas", {})
    changed = True
    while changed:
        changed = False
        for schema in list(schemas.values()):
            for example in schema.get("examples", [])[:1]:
                changed |= _lend(schemas, schema, example)
    return doc


def _lend(schemas: dict[str, Any], schema: dict[str, Any], value: Any) -> bool:
    """Walk `value` along `schema`; give each referenced schema lacking one its first part."""
    if "$ref" in schema:
        target = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
        if "examples" not in target and "example" not in target:
            target["examples"] = [value]
            return True
        return False
    changed = False
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        if _fits(schemas, option, value):
            changed |= _lend(schemas, option, value)
            break
    if isinstance(value, dict):
        for name, part in value.items():
            inner = schema.get("properties", {}).get(name) or schema.get("additionalProperties")
            if isinstance(inner, dict):
                changed |= _lend(schemas, inner, part)
    elif isinstance(value, list) and value and isinstance(schema.get("items"), dict):
        changed |= _lend(schemas, schema["items"], value[0])
    return changed


def _fits(schemas: dict[str, Any], schema: dict[str, Any], value: Any) -> bool:
    """Whether `value` could be an instance of `schema` (objects judged by their keys)."""
    if "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
    kind = schema.get("type")
    if isinstance(value, dict):
        if kind != "object" and "properties" not in schema:
            return False
        known = set(schema.get("properties", {}))
        extra_ok = schema.get("additionalProperties", True) is not False and not known
        return set(schema.get("required", [])) <= value.keys() and (
            extra_ok or value.keys() <= known
        )
    if isinstance(value, list):
        return kind == "array"
    if value is None:
        return kind == "null"
    python: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "integer": int,
        "number": (int, float),
        "boolean": bool,
    }
    return kind in python and isinstance(value, python[kind])


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
            app.openapi_schema = exemplify_nested(exemplify_enums(document_problems(build())))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
