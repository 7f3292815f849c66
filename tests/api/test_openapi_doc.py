"""openapi.md stays in step with the live OpenAPI schema and the error codes the app raises."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Route

from app.main import create_app
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "openapi.md"
APP_DIR = ROOT / "app"

HEADING = re.compile(r"^### `([A-Z]+) (/\S*?)`(?: · `(\w+)`)?[ \t]*$", re.MULTILINE)
TABLE_CODE = re.compile(r"^\| `([a-z][a-z0-9_<>]*)` \| (\S+) \|", re.MULTILINE)
JSON_BLOCK = re.compile(r"^```json\n(.*?)^```$", re.MULTILINE | re.DOTALL)
# Where a stable error code can be written in app/: code="..." (keyword or class attribute),
# problem_response(status, "code", ...), and the status -> code map of framework errors.
CODE_PATTERNS = (
    re.compile(r'\bcode\s*(?::\s*str\s*)?=\s*"([a-z][a-z0-9_]*)"'),
    re.compile(r'problem_response\(\s*[^,()]+,\s*"([a-z][a-z0-9_]*)"'),
)
CODE_MAP = re.compile(r"^\s*codes\s*=\s*\{([^}]*)\}", re.MULTILINE)
# Served outside the schema; documented all the same.
DOCUMENTED_OUTSIDE_SCHEMA = {("GET", "/docs"), ("GET", "/openapi.json")}
# Served outside the schema as part of another documented endpoint (Swagger UI's own needs).
INTERNAL_PREFIXES = ("/docs/",)


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    database = tmp_path_factory.mktemp("openapi-doc") / "unused.sqlite3"
    return create_app(make_settings(f"sqlite:///{database}"))


@pytest.fixture(scope="module")
def schema(live_app: FastAPI) -> dict[str, Any]:
    return live_app.openapi()


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _operations(schema: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


def _headings(doc: str) -> dict[tuple[str, str], str | None]:
    found: dict[tuple[str, str], str | None] = {}
    for method, path, operation_id in HEADING.findall(doc):
        assert (method, path) not in found, f"{method} {path} is documented twice"
        found[(method, path)] = operation_id or None
    return found


def _sections(doc: str) -> dict[tuple[str, str], str]:
    """Each endpoint's text, from its heading to the next heading."""
    matches = list(HEADING.finditer(doc))
    ends = [m.start() for m in matches[1:]] + [len(doc)]
    return {(m[1], m[2]): doc[m.end() : end] for m, end in zip(matches, ends, strict=True)}


def _section(doc: str, title: str) -> str:
    start = doc.index(f"\n## {title}\n")
    end = doc.find("\n## ", start + 1)
    return doc[start : end if end != -1 else len(doc)]


def _hidden_routes(app: FastAPI) -> set[tuple[str, str]]:
    hidden = set()
    for route in app.routes:
        if isinstance(route, APIRoute | Route) and not getattr(route, "include_in_schema", True):
            hidden |= {(method, route.path) for method in route.methods or () if method != "HEAD"}
    return hidden


def _raised_codes() -> set[str]:
    codes: set[str] = set()
    for path in APP_DIR.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for pattern in CODE_PATTERNS:
            codes.update(pattern.findall(source))
        for mapping in CODE_MAP.findall(source):
            codes.update(re.findall(r'"([a-z][a-z0-9_]*)"', mapping))
    return codes


def test_every_operation_in_the_schema_has_a_heading_with_its_operation_id(
    schema: dict[str, Any], doc: str
) -> None:
    headings = _headings(doc)
    for (method, path), operation in _operations(schema).items():
        assert (method, path) in headings, f"openapi.md lacks a heading for {method} {path}"
        assert headings[(method, path)] == operation["operationId"], (
            f"{method} {path}: openapi.md says {headings[(method, path)]}, "
            f"the schema says {operation['operationId']}"
        )


def test_every_heading_is_an_endpoint_the_app_serves(
    live_app: FastAPI, schema: dict[str, Any], doc: str
) -> None:
    operations = _operations(schema)
    hidden = _hidden_routes(live_app)
    for (method, path), operation_id in _headings(doc).items():
        if (method, path) in operations:
            continue
        assert (method, path) in hidden, f"openapi.md documents {method} {path}: not served"
        assert operation_id is None, f"{method} {path} is outside the schema: no operation id"


def test_public_routes_outside_the_schema_are_documented(live_app: FastAPI, doc: str) -> None:
    headings = _headings(doc)
    hidden = {r for r in _hidden_routes(live_app) if not r[1].startswith(INTERNAL_PREFIXES)}
    assert hidden >= DOCUMENTED_OUTSIDE_SCHEMA
    for method, path in hidden:
        assert (method, path) in headings, f"openapi.md lacks a heading for {method} {path}"


def test_every_error_code_the_app_raises_is_in_the_error_table(doc: str) -> None:
    table = dict(TABLE_CODE.findall(_section(doc, "Errors")))
    raised = _raised_codes()
    assert {"validation_error", "not_found", "internal_error", "sync_already_running"} <= raised
    missing = sorted(raised - table.keys())
    assert not missing, f"error codes raised in app/ but not in openapi.md's table: {missing}"
    for code, status in table.items():
        assert re.fullmatch(r"\d{3}|\dxx", status), f"{code}: status {status!r}"


def test_the_error_table_lists_no_code_the_app_never_uses(doc: str) -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in APP_DIR.rglob("*.py"))
    table = dict(TABLE_CODE.findall(_section(doc, "Errors")))
    unused = sorted(c for c in table if "<" not in c and f'"{c}"' not in sources)
    assert not unused, f"openapi.md lists codes no code in app/ uses: {unused}"


def test_each_endpoint_has_a_purpose_an_example_request_and_response(
    schema: dict[str, Any], doc: str
) -> None:
    sections = _sections(doc)
    for (method, path), text in sections.items():
        assert len(text.split("```")[0].split()) >= 10, f"{method} {path}: say what it is for"
        assert re.search(r"^curl ", text, re.MULTILINE), f"{method} {path}: no curl example"
        if path.startswith("/v1/"):
            assert "X-API-Key" in text, f"{method} {path}: the example needs X-API-Key"
    for (method, path), operation in _operations(schema).items():
        ok = next(v for k, v in operation["responses"].items() if k.startswith("2"))
        if "application/json" in ok.get("content", {}):
            assert "```json" in sections[(method, path)], f"{method} {path}: no JSON example"


def _properties(schema: dict[str, Any], reference: dict[str, Any]) -> set[str] | None:
    if "$ref" not in reference:
        return None
    name = reference["$ref"].rsplit("/", 1)[-1]
    return set(schema["components"]["schemas"][name].get("properties", {}))


def test_response_examples_have_exactly_the_fields_of_the_response_model(
    schema: dict[str, Any], doc: str
) -> None:
    sections = _sections(doc)
    for (method, path), operation in _operations(schema).items():
        ok = next(v for k, v in operation["responses"].items() if k.startswith("2"))
        model = ok.get("content", {}).get("application/json", {}).get("schema", {})
        fields = _properties(schema, model)
        if fields is None:
            continue
        example = json.loads(JSON_BLOCK.findall(sections[(method, path)])[0])
        assert set(example) == fields, f"{method} {path}: example fields differ from the model"


def test_json_examples_parse_and_error_examples_are_problem_documents(doc: str) -> None:
    blocks = JSON_BLOCK.findall(doc)
    assert len(blocks) >= 15
    table = dict(TABLE_CODE.findall(_section(doc, "Errors")))
    for block in blocks:
        value = json.loads(block)
        if isinstance(value, dict) and "code" in value and "type" in value:
            assert value["code"] in table
            assert value["type"].endswith("/" + value["code"])
            assert str(value["status"]) == table[value["code"]]


def test_authentication_and_conditional_requests_are_explained(doc: str) -> None:
    auth = _section(doc, "Authentication")
    for term in ("X-API-Key", "Authorization: Bearer", "read", "admin", "401", "403"):
        assert term in auth, term
    conditional = _section(doc, "Conditional requests")
    for term in ("ETag", "If-None-Match", "304"):
        assert term in conditional, term


def _warning_codes() -> set[str]:
    """Codes given as evidence.warn("...") or _warning("...") anywhere in app/checks."""
    sources = (p.read_text() for p in (ROOT / "app" / "checks").glob("*.py"))
    return {c for s in sources for c in re.findall(r'(?:warn|_warning)\(\s*"([a-z_]+)"', s)}


def _warning_table(doc: str) -> dict[str, str]:
    section = _sections(doc)[("GET", "/v1/check")]
    table = section[section.index("Warnings (`warnings[].code`)") :]
    return dict(re.findall(r"^\| `([a-z_]+)` \| (.+) \|$", table.split("\n\n")[1], re.MULTILINE))


def test_every_warning_code_the_verdicts_can_give_is_documented(doc: str) -> None:
    codes = _warning_codes()
    assert {"register_stale", "identifier_mismatch", "certificate_number_unknown"} <= codes, (
        "warning codes not found: has evidence.warn or corroboration._warning changed?"
    )
    table = _warning_table(doc)
    assert sorted(codes - table.keys()) == [], "warning codes missing from openapi.md"
    assert sorted(table.keys() - codes) == [], "openapi.md lists warnings no code gives"
