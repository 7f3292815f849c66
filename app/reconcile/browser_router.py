"""/reconcile's endpoints that OpenRefine calls from the analyst's browser, at URLs the
manifest gives: the preview card, suggest (entities, types, properties) and property
proposals. Entity suggest and preview show register data, so they need read access (a key
in ?api_key= when reads are not public, written into the manifest's URLs); the vocabulary
(types, properties, proposals) is public: OpenRefine appends "?type=" to the proposal path
as it is, so no key could ride on it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from app.auth.dependencies import READ_SECURITY_WITH_QUERY_KEY, ReadAccessQueryKey
from app.deps import current_snapshot
from app.errors import NotFound
from app.reconcile.preview import PREVIEW_POLICY
from app.reconcile.preview import preview_card as render_card
from app.reconcile.schemas import ProposedProperties, SuggestedEntities, SuggestedTerms
from app.reconcile.suggest import (
    MAX_PREFIX,
    propose_properties,
    suggest_entities,
    suggest_properties,
    suggest_types,
)

router = APIRouter(prefix="/reconcile", tags=["reconciliation"])
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
CORS = {"Access-Control-Allow-Origin": "*"}
READ_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {**PROBLEM, "description": "Missing (reads are not public) or unknown API key."},
    403: {**PROBLEM, "description": "The key lacks the read scope."},
    422: {**PROBLEM, "description": "A parameter is missing or out of range."},
    429: {**PROBLEM, "description": "Rate limit exceeded."},
    503: {**PROBLEM, "description": "The register index is not loaded yet."},
}
PUBLIC_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {**PROBLEM, "description": "A parameter is out of range."},
}
PREVIEW_EXAMPLE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Safe-Hands® Training '
    "Ltd</title><style>...</style></head><body><h1>Safe-Hands® Training Ltd</h1><dl><dt>Status"
    "</dt><dd>Certified training service</dd><dt>Certificate</dt><dd>ACT5819</dd><dt>Valid "
    "until</dt><dd>2028-11-09</dd><dt>Certified on</dt><dd>2021-11-09</dd><dt>Register as of"
    "</dt><dd>2026-12-02</dd></dl></body></html>"
)
Prefix = Annotated[
    str,
    Query(
        max_length=MAX_PREFIX,
        description="What the analyst has typed so far.",
        openapi_examples={"typed": {"summary": "A name being typed", "value": "safe ha"}},
    ),
]


def _json(model: SuggestedEntities | SuggestedTerms | ProposedProperties) -> Response:
    body = model.model_dump_json(exclude_none=True).encode()
    return Response(body, media_type="application/json", headers=CORS)


@router.get(
    "/preview",
    operation_id="reconcile_preview",
    summary="Reconciliation preview: a small HTML card of one organisation",
    response_class=HTMLResponse,
    responses={
        200: {
            "description": "The card (static HTML; may be framed by any page).",
            "content": {"text/html": {"example": PREVIEW_EXAMPLE}},
        },
        404: {**PROBLEM, "description": "No organisation has this id."},
        **READ_ERRORS,
    },
    openapi_extra={"security": READ_SECURITY_WITH_QUERY_KEY},
)
async def reconcile_preview(
    request: Request,
    client: ReadAccessQueryKey,
    organisation_id: Annotated[
        str,
        Query(
            alias="id",
            max_length=40,
            description="The organisation's id, as in reconciliation results.",
            openapi_examples={"one": {"summary": "An organisation", "value": "3"}},
        ),
    ],
) -> Response:
    """Name, status, parent, certificate, validity and register date, for OpenRefine's
    preview pane; framable by any page (OpenRefine runs on the analyst's machine)."""
    snapshot = current_snapshot(request)
    digits = organisation_id.isascii() and organisation_id.isdigit() and len(organisation_id) < 19
    org = snapshot.organisations.get(int(organisation_id)) if digits else None
    if org is None:
        raise NotFound(f"no organisation has the id {organisation_id!r}")
    html = render_card(snapshot, org, dt.datetime.now(dt.UTC).date())
    headers = {**CORS, "Content-Security-Policy": PREVIEW_POLICY, "Cache-Control": "no-store"}
    return HTMLResponse(html, headers=headers)


@router.get(
    "/suggest/entity",
    operation_id="suggest_entity",
    summary="Reconciliation suggest: organisations by a typed prefix (then fuzzy)",
    response_model=SuggestedEntities,
    responses=READ_ERRORS,
    openapi_extra={"security": READ_SECURITY_WITH_QUERY_KEY},
)
async def suggest_entity(
    request: Request,
    client: ReadAccessQueryKey,
    prefix: Prefix,
    cursor: Annotated[
        int,
        Query(
            ge=0,
            le=1000,
            description="How many suggestions to skip (paging).",
            openapi_examples={"next": {"summary": "The second page", "value": 10}},
        ),
    ] = 0,
) -> Response:
    """Organisations on the register whose names start with, contain a word starting with,
    or look like what was typed: ten at a time, best first."""
    return _json(suggest_entities(current_snapshot(request), prefix, cursor))


@router.get(
    "/suggest/type",
    operation_id="suggest_type",
    summary="Reconciliation suggest: the register's statuses, by a typed prefix",
    response_model=SuggestedTerms,
    responses=PUBLIC_ERRORS,
)
async def suggest_type(prefix: Prefix) -> Response:
    """The statuses (reconciliation types) matching what was typed; public."""
    return _json(suggest_types(prefix))


@router.get(
    "/suggest/property",
    operation_id="suggest_property",
    summary="Reconciliation suggest: the service's properties, by a typed prefix",
    response_model=SuggestedTerms,
    responses=PUBLIC_ERRORS,
)
async def suggest_property(prefix: Prefix) -> Response:
    """The properties (for query columns and data extension) matching what was typed; public."""
    return _json(suggest_properties(prefix))


@router.get(
    "/propose",
    operation_id="propose_properties",
    summary="Reconciliation data extension: the properties an organisation has",
    response_model=ProposedProperties,
    responses=PUBLIC_ERRORS,
)
async def propose(
    kind: Annotated[
        str,
        Query(
            alias="type",
            max_length=100,
            description="A type id (certified, affiliate, working_towards); may be empty.",
            openapi_examples={"certified": {"summary": "Certified", "value": "certified"}},
        ),
    ] = "",
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            le=100,
            description="The most properties to propose.",
            openapi_examples={"few": {"summary": "The first three", "value": 3}},
        ),
    ] = None,
) -> Response:
    """The properties OpenRefine offers to add as columns; the same for every type; public."""
    return _json(propose_properties(kind, limit))
