"""Watches and the watch-events pull feed (the watch scope; each client sees only its own)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from app.auth.dependencies import WatchAccess
from app.checks.schemas import ItemError, Verdict
from app.checks.verdicts import Clock
from app.deps import SessionDep, SettingsDep, current_snapshot
from app.errors import ServiceError
from app.register.http import MAX_PAGE_SIZE, problem_doc
from app.schemas import example_value
from app.watches import repository, service
from app.watches.schemas import (
    WatchBatchIn,
    WatchBatchItem,
    WatchBatchResult,
    WatchEventOut,
    WatchEventPage,
    WatchIn,
    WatchOut,
    WatchPage,
)
from app.web import require_json

router = APIRouter(prefix="/v1", tags=["watches"])
WATCH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: problem_doc("unauthorized: missing or unknown API key."),
    403: problem_doc("forbidden: the key lacks the watch scope."),
    429: problem_doc("rate_limited: too many requests; see Retry-After."),
}
Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: problem_doc("watch_not_found: you have no watch with this id.")}
NOT_READY: Responses = {503: problem_doc("index_not_ready: the register index is not loaded yet.")}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    415: problem_doc("unsupported_media_type: the body is not application/json."),
    **NOT_READY,
}
WatchId = Annotated[
    int,
    Path(
        ge=1,
        le=2**31 - 1,
        description="The watch's id.",
        openapi_examples=example_value(1, "Your first watch"),
    ),
]
Limit = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Items per page, 1-{MAX_PAGE_SIZE}.")
]
After = Annotated[
    str | None, Query(max_length=100, description="A `next_cursor` from the previous page.")
]


def _asked(request: Request, settings: SettingsDep) -> service.Asked:
    return service.Asked(
        current_snapshot(request),
        Clock.for_settings(settings),
        settings.watch_limit,
        settings.expiry_notice_days,
    )


AskedDep = Annotated[service.Asked, Depends(_asked)]


@router.post(
    "/watches",
    operation_id="create_watch",
    summary="Watch a provider name",
    status_code=201,
    response_model=WatchOut,
    dependencies=[Depends(require_json)],
    responses={
        **WATCH_ERRORS,
        **BODY_ERRORS,
        409: problem_doc("watch_limit_reached: you hold the most watches allowed."),
        422: problem_doc(
            "validation_error, name_empty, name_too_long, name_invalid_characters, "
            "invalid_setting, invalid_reference."
        ),
    },
)
def create_watch(
    body: WatchIn, session: SessionDep, client: WatchAccess, asked: AskedDep
) -> WatchOut:
    """Start watching a name: its answer now, and an event whenever that answer changes."""
    return service.create_watch(session, client, service.validate_watch(body), asked)


def _validated(raw: WatchIn) -> service.WatchSpec | ItemError:
    try:
        return service.validate_watch(raw)
    except ServiceError as exc:
        return ItemError(code=exc.code, detail=exc.detail)


@router.post(
    "/watches/batch",
    operation_id="create_watches",
    summary="Watch up to 1,000 provider names",
    response_model=WatchBatchResult,
    dependencies=[Depends(require_json)],
    responses={
        **WATCH_ERRORS,
        **BODY_ERRORS,
        413: problem_doc("batch_too_large: more than 1,000 watches."),
        422: problem_doc('validation_error: the body is not {"watches": [...]}.'),
    },
)
def create_watches(
    body: WatchBatchIn, session: SessionDep, client: WatchAccess, asked: AskedDep
) -> WatchBatchResult:
    """Create many watches in order; an invalid item, or one past your limit, gets an error."""
    items = [_validated(raw) for raw in body.watches]
    created = service.create_watches(session, client, items, asked)
    results = [
        WatchBatchItem(index=i, watch=None, error=item)
        if isinstance(item, ItemError)
        else WatchBatchItem(index=i, watch=item, error=None)
        for i, item in enumerate(created)
    ]
    return WatchBatchResult(results=results, created=sum(1 for r in results if r.watch is not None))


@router.get(
    "/watches",
    operation_id="list_watches",
    summary="Your watches, oldest first",
    response_model=WatchPage,
    responses={
        **WATCH_ERRORS,
        **NOT_READY,
        422: problem_doc("validation_error, invalid_cursor."),
    },
)
def list_watches(
    session: SessionDep,
    client: WatchAccess,
    asked: AskedDep,
    verdict: Annotated[
        Verdict | None,
        Query(description="Only watches whose last answer sent has this verdict."),
    ] = None,
    after: After = None,
    limit: Limit = 100,
) -> WatchPage:
    """Every watch of your key, with its answer now; cursor-paged."""
    key_id = service.owner_of(client)
    start = repository.decode_cursor("watch", after)
    verdict_value = verdict.value if verdict else None
    rows = repository.list_watches(session, key_id, verdict_value, start, limit + 1)
    page = rows[:limit]
    more = len(rows) > limit
    return WatchPage(
        items=service.watches_out(page, asked.snapshot, asked.clock),
        next_cursor=repository.encode_cursor("watch", page[-1].id) if more else None,
    )


@router.get(
    "/watches/{id}",
    operation_id="get_watch",
    summary="One of your watches, with its answer now",
    response_model=WatchOut,
    responses={**WATCH_ERRORS, **NOT_FOUND, **NOT_READY, 422: problem_doc("validation_error.")},
)
def get_watch(id: WatchId, session: SessionDep, client: WatchAccess, asked: AskedDep) -> WatchOut:
    """A watch of your key (another client's watch is not found)."""
    watch = repository.get_watch(session, service.owner_of(client), id)
    (out,) = service.watches_out([watch], asked.snapshot, asked.clock)
    return out


@router.delete(
    "/watches/{id}",
    operation_id="delete_watch",
    summary="Stop watching",
    status_code=204,
    response_class=Response,
    responses={**WATCH_ERRORS, **NOT_FOUND, 422: problem_doc("validation_error.")},
)
def delete_watch(id: WatchId, session: SessionDep, client: WatchAccess) -> Response:
    """Delete a watch of your key; its undelivered webhook events are dropped."""
    repository.delete_watch(session, service.owner_of(client), id)
    return Response(status_code=204)


@router.get(
    "/watch-events",
    operation_id="list_watch_events",
    summary="Your watch events, oldest first (the pull feed)",
    response_model=WatchEventPage,
    responses={**WATCH_ERRORS, 422: problem_doc("validation_error, invalid_cursor.")},
)
def list_watch_events(
    session: SessionDep, client: WatchAccess, after: After = None, limit: Limit = 100
) -> WatchEventPage:
    """The events your webhooks receive, with the same bodies, for clients that poll."""
    start = repository.decode_cursor("event", after)
    events = repository.list_events(session, service.owner_of(client), start, limit)
    items = [WatchEventOut(id=e.message_id, **json.loads(e.body)) for e in events]
    last = events[-1].id if events else start
    return WatchEventPage(
        items=items, next_cursor=repository.encode_cursor("event", last) if last else None
    )
