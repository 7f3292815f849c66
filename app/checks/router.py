"""GET /v1/check and POST /v1/check/batch: verdicts from the in-memory snapshot only."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams

from app.auth.dependencies import (
    READ_SECURITY,
    ReadAccess,
    key_headers,
    read_access_from_headers,
)
from app.checks.examples import CHECKED_NAME
from app.checks.identifiers import MAX_CERTIFICATE_LENGTH, MAX_WEBSITE_LENGTH
from app.checks.inputs import MAX_NAME_LENGTH, CheckQuery, validate_query
from app.checks.schemas import (
    BatchRequest,
    BatchResult,
    CheckResult,
    Setting,
)
from app.checks.service import check_many, memo_key, verdict_counts
from app.checks.verdicts import Clock, decide, register_stamp
from app.deps import SettingsDep, SnapshotDep, current_snapshot
from app.receipts.service import issuer_for, receipted
from app.routing import PlainRoute
from app.web import (
    CACHE_CONTROL,
    PrerenderedResponse,
    etag_matches,
    make_etag,
    refuse_repeated,
    require_json,
)

router = APIRouter(prefix="/v1", tags=["checks"])
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified (If-None-Match matched the ETag)."},
    401: {**PROBLEM, "description": "Missing or unknown API key."},
    403: {**PROBLEM, "description": "The key lacks the read scope."},
    422: {**PROBLEM, "description": "Invalid name, identifier, date or setting."},
    429: {**PROBLEM, "description": "Rate limit exceeded."},
    503: {**PROBLEM, "description": "The register index is not loaded yet."},
}


def _query_parameter(
    name: str, schema: dict[str, Any], description: str, **example: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
        **example,
    }


CHECK_PARAMETERS = [
    _query_parameter(
        "name",
        {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH},
        "Provider name as written (trading and former names work too); optional when "
        "certificate_number or website is given.",
        example=CHECKED_NAME,  # what "Try it out" starts with
    ),
    _query_parameter(
        "certificate_number",
        {"type": "string", "maxLength": MAX_CERTIFICATE_LENGTH},
        "Bild ACT certificate number (any case; spaces and hyphens ignored): finds the "
        "organisation alone, or confirms or contradicts the name's match.",
    ),
    _query_parameter(
        "website",
        {"type": "string", "maxLength": MAX_WEBSITE_LENGTH},
        "The provider's website in any form (compared by host; a subdomain counts as its "
        "registered domain): finds the organisation alone, or confirms or contradicts the name.",
    ),
    _query_parameter(
        "as_of",
        {"type": "string", "format": "date"},
        "YYYY-MM-DD: answer for that date, from the mirror's history.",
    ),
    _query_parameter(
        "setting",
        {"type": "string", "enum": [s.value for s in Setting], "default": Setting.CQC.value},
        "ofsted_only: an Ofsted/DfE-only setting, where the CQC expectation does not apply.",
    ),
]


CHECK_PARAMETER_NAMES = tuple(parameter["name"] for parameter in CHECK_PARAMETERS)
# Callers repeat questions (a council system checks the same providers again and again), so
# GET /v1/check parses and validates each query string once a day; what it answers is
# memoised per snapshot apart from this (Snapshot.memo). Bounded in entries and in the length
# of a query string kept, so unique long junk cannot grow it: about 2 MB at worst.
QUERY_CACHE_SIZE = 1024
MAX_CACHED_QUERY_BYTES = 2048


def parse_check_query(raw: bytes, today: dt.date) -> CheckQuery:
    """The validated question of a GET /v1/check query string, or InvalidInput (a 422)."""
    params = QueryParams(raw)
    refuse_repeated(params, CHECK_PARAMETER_NAMES)
    return validate_query(
        params.get("name"),
        params.get("as_of"),
        params.get("setting"),
        today,
        params.get("certificate_number"),
        params.get("website"),
    )


_parsed_recently = functools.lru_cache(maxsize=QUERY_CACHE_SIZE)(parse_check_query)


def check_query(raw: bytes, today: dt.date) -> CheckQuery:
    """`parse_check_query`, remembered per query string and day (a refusal is not kept).

    The day is part of the key: whether `as_of` is in the future depends on it.
    """
    if len(raw) > MAX_CACHED_QUERY_BYTES:
        return parse_check_query(raw, today)
    return _parsed_recently(raw, today)


async def check_name(request: Request) -> Response:
    """Is this training provider certified, an affiliate, or working towards it?"""
    # The hot path is a PlainRoute (app/routing.py): it reads its parameters and key itself,
    # and openapi_extra documents the same parameters and security.
    headers = key_headers(request.scope["headers"], b"if-none-match")
    await read_access_from_headers(request, headers)
    snapshot = current_snapshot(request)
    clock = Clock.for_settings(request.app.state.settings)
    query = check_query(request.scope["query_string"], clock.now.date())
    key = memo_key("check", query, snapshot, clock)
    etag, verdict, body, raw_headers = snapshot.memo(
        key, lambda: _render(snapshot, query, clock, key)
    )
    if etag_matches(headers.get(b"if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": CACHE_CONTROL})
    request.state.verdict = verdict
    return PrerenderedResponse(body, raw_headers)


router.add_api_route(
    "/check",
    check_name,
    methods=["GET"],
    operation_id="check_name",
    summary="Check one provider by name, certificate number or website",
    response_model=CheckResult,
    responses=ERRORS,
    openapi_extra={"parameters": CHECK_PARAMETERS, "security": READ_SECURITY},
    route_class_override=PlainRoute,
)


def _render(
    snapshot: SnapshotDep, query: CheckQuery, clock: Clock, key: tuple[object, ...]
) -> tuple[str, str, bytes, tuple[tuple[bytes, bytes], ...]]:
    """ETag, verdict, JSON body and the 200's raw headers of one answer: computed once per
    snapshot and question."""
    result = decide(snapshot, query, clock)
    etag = make_etag(*key)
    body = result.model_dump_json(by_alias=True).encode()
    caching = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    ok = Response(body, media_type="application/json", headers=caching)
    return etag, str(result.verdict), body, tuple(ok.raw_headers)


@router.post(
    "/check/batch",
    operation_id="check_batch",
    summary="Check up to 1,000 providers",
    response_model=BatchResult,
    dependencies=[Depends(require_json)],
    responses={
        **ERRORS,
        413: {**PROBLEM, "description": "batch_too_large: more than 1,000 queries."},
        415: {**PROBLEM, "description": "The body is not application/json."},
    },
)
async def check_batch(
    body: BatchRequest,
    request: Request,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    client: ReadAccess,
    receipts: Annotated[
        bool,
        Query(
            description="Issue a signed receipt for every answered item (its id in "
            "`receipt_id`; GET /v1/receipts/{id}). Needs an API key."
        ),
    ] = False,
) -> Response:
    """Answer many names at once, in order; a bad item gets its own error."""
    clock = Clock.for_settings(settings)
    issuer = issuer_for(request, client, clock) if receipts else None
    engine = request.app.state.engine

    def answer() -> bytes:
        items = check_many(body.queries, snapshot, clock)
        if issuer is not None:
            items = receipted(engine, issuer, items)
        request.state.verdicts = verdict_counts(items)  # counted like GET checks (metrics)
        result = BatchResult(results=items, register_=register_stamp(snapshot, clock))
        return result.model_dump_json(by_alias=True).encode()

    # Up to 1,000 verdicts is real CPU work: keep it off the event loop. The JSON is rendered
    # there too; returning the model would have FastAPI validate every result once more
    # against response_model, a fifth of a fresh batch's time.
    return Response(await run_in_threadpool(answer), media_type="application/json")
