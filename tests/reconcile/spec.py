"""The vendored Reconciliation API schemas (spec/SOURCE.md), as validators keyed by version.

Every schema URI resolves to a file under spec/ through a `referencing` registry: nothing is
fetched, and a reference the files cannot satisfy fails loudly.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT7

SPEC = Path(__file__).parent / "spec"
VERSIONS = ("0.2",)
SWAGGER_URI = "http://swagger.io/v2/schema.json"
_SPEC_URI = re.compile(
    r"https://reconciliation-api\.github\.io/specs/([^/]+)/schemas/([\w-]+\.json)"
)
# What each kind of response is validated against, per version.
RESPONSE_SCHEMAS = {
    "manifest": "schemas/manifest.json",
    "query_batch": "schemas/reconciliation-query-batch.json",
    "result_batch": "schemas/reconciliation-result-batch.json",
    "suggest_entities": "schemas/suggest-entities-response.json",
    "suggest_properties": "schemas/suggest-properties-response.json",
    "suggest_types": "schemas/suggest-types-response.json",
    "extend_query": "schemas/data-extension-query.json",
    "extend_response": "schemas/data-extension-response.json",
    "property_proposal": "local/data-extension-property-proposal.json",
}


def load(version: str, relative: str) -> Any:
    """A vendored JSON file of one version."""
    return json.loads((SPEC / version / relative).read_text(encoding="utf-8"))


def _retrieve(uri: str) -> Resource[Any]:
    if uri == SWAGGER_URI:
        document = json.loads((SPEC / "swagger-2.0-security.json").read_text(encoding="utf-8"))
        return DRAFT4.create_resource(document)
    found = _SPEC_URI.fullmatch(uri)
    if found is None:
        raise LookupError(f"no vendored schema for {uri}")
    version, name = found.groups()
    return DRAFT7.create_resource(load(version, f"schemas/{name}"))


REGISTRY: Registry[Any] = Registry(retrieve=_retrieve)


@cache
def validator(version: str, kind: str) -> Draft7Validator:
    """A validator for one kind of document (RESPONSE_SCHEMAS) of one spec version."""
    schema = load(version, RESPONSE_SCHEMAS[kind])
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema, registry=REGISTRY)


def assert_valid(version: str, kind: str, document: Any) -> None:
    """Fail with every schema error of the document, if it has any."""
    errors = [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in validator(version, kind).iter_errors(document)
    ]
    assert not errors, f"not a valid {version} {kind}: {errors}"
