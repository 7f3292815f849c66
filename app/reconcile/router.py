"""/reconcile: the W3C Reconciliation API 0.2, as OpenRefine speaks it (see openapi.md).

OpenRefine cannot send our headers: a key goes in the query string of the URL added to
OpenRefine (`?api_key=`), which it keeps on every call, or reads are public. The manifest is
public (the spec exempts it); a key presented with it is checked, so a wrong one shows at once.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.models import Example

from app.auth.dependencies import (
    READ_SECURITY_WITH_QUERY_KEY,
    ReadAccessQueryKey,
    query_key,
    read_access_with_query_key,
)
from app.checks.verdicts import Clock
from app.deps import current_snapshot
from app.errors import InvalidInput
from app.reconcile.extend import extend, parse_extend
from app.reconcile.manifest import Manifest, build_manifest
from app.reconcile.queries import parse_field, reconcile
from app.reconcile.schemas import (
    ExtendResponse,
    QueryBatch,
    ReconcileForm,
    ReconcileResults,
)

router = APIRouter(prefix="/reconcile", tags=["reconciliation"])
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
# OpenRefine reads the manifest, suggestions and previews from the browser: any origin may
# (nothing is sent with credentials; a key travels in the URL, never a cookie).
CORS = {"Access-Control-Allow-Origin": "*"}
QUERIES_DOC = (
    "JSON: queries keyed by your own ids (at most 1,000), each with `query` (a name), `type`, "
    "`limit` and `properties` (certificate_number and website are read as identifiers)."
)
EXTEND_DOC = (
    'JSON: {"ids": [...], "properties": [{"id": "status"}, ...]}: values of these '
    "properties for these organisations."
)
QUERIES_EXAMPLES: dict[str, Example] = {
    "names": {
        "summary": "Two names, one of a type, one with at most 3 candidates",
        "value": '{"q0": {"query": "Safe Hands Training", "type": "certified"}, '
        '"q1": {"query": "Positive and Safer Trainng", "limit": 3}}',
    },
    "identifier": {
        "summary": "A certificate number from another column, without a name",
        "value": '{"q0": {"properties": [{"pid": "certificate_number", "v": "ACT5819"}]}}',
    },
}
EXTEND_EXAMPLES: dict[str, Example] = {
    # First and empty, so Try it out sends only `queries` (Swagger UI leaves an empty value
    # out; both at once are a 422); the real example is the next choice.
    "none": {"summary": "Not sent: queries is", "value": ""},
    "status": {
        "summary": "Status and validity of two organisations",
        "value": '{"ids": ["3", "50"], "properties": [{"id": "status"}, {"id": "valid_until"}]}',
    },
}
ANSWER_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {**PROBLEM, "description": "Missing (reads are not public) or unknown API key."},
    403: {**PROBLEM, "description": "The key lacks the read scope."},
    413: {**PROBLEM, "description": "More than 1,000 queries, or the body is too large."},
    422: {**PROBLEM, "description": "Malformed queries or extend JSON, or both sent."},
    429: {**PROBLEM, "description": "Rate limit exceeded."},
    503: {**PROBLEM, "description": "The register index is not loaded yet."},
}


def _json(body: bytes, **headers: str) -> Response:
    return Response(body, media_type="application/json", headers={**CORS, **headers})


def manifest_for(request: Request) -> Manifest:
    """The manifest, its URLs on the host and scheme this request came to."""
    settings = request.app.state.settings
    return build_manifest(
        str(request.base_url).rstrip("/"),
        version=request.app.version,
        key=query_key(request.scope),
        key_required=not settings.public_read,
    )


async def _answer(request: Request, queries: str | None, extension: str | None) -> Response:
    if queries is not None and extension is not None:
        raise InvalidInput("send queries or extend, not both", code="validation_error")
    snapshot = current_snapshot(request)
    if queries is not None:
        clock = Clock.for_settings(request.app.state.settings)

        def answer() -> bytes:
            batch = parse_field(QueryBatch, "queries", queries)
            return reconcile(batch, snapshot, clock).model_dump_json().encode()

    else:
        assert extension is not None
        engine = request.app.state.engine

        def answer() -> bytes:
            result = extend(parse_extend(extension), snapshot, engine)
            return result.model_dump_json(by_alias=True, exclude_none=True).encode()

    # Up to 1,000 checks (or JSON of up to the body limit) are real CPU work: off the loop.
    return _json(await run_in_threadpool(answer))


@router.get(
    "",
    operation_id="reconcile_service",
    summary="Reconciliation service: manifest, queries or data extension (GET)",
    response_model=Manifest | ReconcileResults | ExtendResponse,
    response_description="The manifest (no parameters), the candidates of each query "
    "(`queries`), or property values (`extend`).",
    responses=ANSWER_RESPONSES,
    openapi_extra={"security": [{}, *READ_SECURITY_WITH_QUERY_KEY]},
)
async def reconcile_service(
    request: Request,
    queries: Annotated[
        str | None, Query(description=QUERIES_DOC, openapi_examples=QUERIES_EXAMPLES)
    ] = None,
    extend: Annotated[
        str | None, Query(description=EXTEND_DOC, openapi_examples=EXTEND_EXAMPLES)
    ] = None,
) -> Response:
    """Without parameters, the manifest (public); with `queries` or `extend`, the answer."""
    if queries is None and extend is None:
        if query_key(request.scope) is not None:
            await read_access_with_query_key(request)
        body = manifest_for(request).model_dump_json(by_alias=True, exclude_none=True)
        return _json(body.encode(), **{"Cache-Control": "no-store"})
    await read_access_with_query_key(request)
    return await _answer(request, queries, extend)


@router.post(
    "",
    operation_id="reconcile_batch",
    summary="Reconciliation service: queries or data extension (form POST, as OpenRefine)",
    response_model=ReconcileResults | ExtendResponse,
    response_description="The candidates of each query (`queries`), or property values (`extend`).",
    responses=ANSWER_RESPONSES,
)
async def reconcile_batch(
    request: Request, form: Annotated[ReconcileForm, Form()], client: ReadAccessQueryKey
) -> Response:
    """Answer a form-encoded `queries` batch or `extend` query (what OpenRefine POSTs)."""
    sent = await request.form()
    for field in ("queries", "extend"):
        if len(sent.getlist(field)) > 1:
            raise InvalidInput(
                f"the {field} field is repeated: send it once", code="repeated_parameter"
            )
    if form.queries is None and form.extend is None:
        raise InvalidInput("send queries or extend", code="validation_error")
    return await _answer(request, form.queries, form.extend)
