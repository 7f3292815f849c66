"""The service manifest: what OpenRefine reads when the service is added."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field

from app.auth.dependencies import QUERY_KEY
from app.reconcile.schemas import MAX_QUERIES, TypeOut
from app.reconcile.vocabulary import TYPES

PREVIEW_WIDTH, PREVIEW_HEIGHT = 400, 190
BATCH_SIZE = 100  # OpenRefine 3.8+ sends min(max(rows / 10, 10), batchSize) queries a batch


class ServiceAt(BaseModel):
    service_url: str = Field(description="This service's base URL.")
    service_path: str = Field(description="The path (and query) of the operation.")


class SuggestServices(BaseModel):
    entity: ServiceAt = Field(description="Organisations by name (prefix, then fuzzy).")
    type: ServiceAt = Field(description="The three statuses.")
    property: ServiceAt = Field(description="The properties of queries and extension.")


class ExtendService(BaseModel):
    propose_properties: ServiceAt = Field(description="Properties for a type.")


class ViewTemplate(BaseModel):
    url: str = Field(description="An organisation's page; {{id}} is its id.")


class PreviewTemplate(BaseModel):
    url: str = Field(description="A small HTML card of an organisation; {{id}} is its id.")
    width: int = Field(description="Width of the card, in pixels.")
    height: int = Field(description="Height of the card, in pixels.")


class KeyInQuery(BaseModel):
    """The 0.2 `authentication` (a Swagger 2.0 security scheme): a key in the query."""

    model_config = ConfigDict(populate_by_name=True)

    type: str = Field("apiKey", description="apiKey.")
    name: str = Field(QUERY_KEY, description="The query parameter that carries the key.")
    in_: str = Field("query", alias="in", description="query.")
    description: str = Field(description="How to pass the key.")


_HOST = "https://certlookup.example.gov.uk"
_MANIFEST_EXAMPLE: dict[str, Any] = {
    "versions": ["0.2"],
    "name": "RRN certified training register (Bild ACT, mirrored)",
    "identifierSpace": f"{_HOST}/v1/organisations/",
    "schemaSpace": f"{_HOST}/reconcile/properties/",
    "documentation": f"{_HOST}/docs",
    "serviceVersion": "1.0.0",
    "defaultTypes": [
        {"id": "certified", "name": "Certified training service"},
        {"id": "affiliate", "name": "Affiliate organisation"},
        {"id": "working_towards", "name": "Working towards certification"},
    ],
    "view": {"url": f"{_HOST}/v1/organisations/{{{{id}}}}"},
    "preview": {"url": f"{_HOST}/reconcile/preview?id={{{{id}}}}", "width": 400, "height": 190},
    "suggest": {
        kind: {"service_url": _HOST, "service_path": f"/reconcile/suggest/{kind}"}
        for kind in ("entity", "type", "property")
    },
    "extend": {"propose_properties": {"service_url": _HOST, "service_path": "/reconcile/propose"}},
    "batchSize": 100,
    "authentication": {
        "type": "apiKey",
        "name": "api_key",
        "in": "query",
        "description": "An API key with the read scope, as ?api_key= on the URL you add.",
    },
}


class Manifest(BaseModel):
    """Reconciliation API 0.2 service manifest."""

    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [_MANIFEST_EXAMPLE]}
    )

    versions: list[str] = Field(description="API versions spoken: 0.2.")
    name: str = Field(description="The service's name.")
    identifierSpace: str = Field(description="URI space of organisation ids.")
    schemaSpace: str = Field(description="URI space of types and properties.")
    documentation: str = Field(description="Where the API is described.")
    serviceVersion: str = Field(description="This service's version.")
    defaultTypes: list[TypeOut] = Field(description="The register's statuses.")
    view: ViewTemplate = Field(description="Organisation pages.")
    preview: PreviewTemplate = Field(description="Organisation cards.")
    suggest: SuggestServices = Field(description="Auto-completion.")
    extend: ExtendService = Field(description="Data extension.")
    batchSize: int = Field(description="Queries per batch to send.")
    authentication: KeyInQuery | None = Field(
        None, description="Present when a key is required: send it as ?api_key=."
    )


def _with_key(path: str, key: str | None, joiner: str = "?") -> str:
    return f"{path}{joiner}{urlencode({QUERY_KEY: key})}" if key else path


def build_manifest(base: str, *, version: str, key: str | None, key_required: bool) -> Manifest:
    """The manifest for a service at `base` (scheme and host). A key given with the request
    is written into the URLs OpenRefine opens from the browser that need one (the view page,
    the preview, entity suggest); the vocabulary (types, properties) needs none."""
    at = f"{base}/reconcile"
    entity_path = _with_key("/reconcile/suggest/entity", key)
    return Manifest(
        versions=["0.2"],
        name="RRN certified training register (Bild ACT, mirrored)",
        identifierSpace=f"{base}/v1/organisations/",
        schemaSpace=f"{at}/properties/",
        documentation=f"{base}/docs",
        serviceVersion=version,
        defaultTypes=[TypeOut(id=t.id, name=t.name) for t in TYPES],
        view=ViewTemplate(url=_with_key(f"{base}/v1/organisations/{{{{id}}}}", key)),
        preview=PreviewTemplate(
            url=_with_key(f"{at}/preview?id={{{{id}}}}", key, "&"),
            width=PREVIEW_WIDTH,
            height=PREVIEW_HEIGHT,
        ),
        suggest=SuggestServices(
            entity=ServiceAt(service_url=base, service_path=entity_path),
            type=ServiceAt(service_url=base, service_path="/reconcile/suggest/type"),
            property=ServiceAt(service_url=base, service_path="/reconcile/suggest/property"),
        ),
        # OpenRefine appends "?type=..." to this path as it is: it must carry no query.
        extend=ExtendService(
            propose_properties=ServiceAt(service_url=base, service_path="/reconcile/propose")
        ),
        batchSize=min(BATCH_SIZE, MAX_QUERIES),
        authentication=KeyInQuery(
            description="An API key with the read scope, as ?api_key= on the URL you add."
        )
        if key_required
        else None,
    )
