"""Browse the mirror: organisations, changes, the register catalog, sync runs."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.auth.dependencies import AdminAccess, ReadAccess
from app.checks.snapshot import LISTED
from app.checks.verdicts import Clock, organisation_out, register_stamp
from app.config import Settings
from app.deps import EngineDep, SessionDep, SettingsDep, SnapshotDep, SyncsDep
from app.errors import Conflict, NotFound
from app.ops.metrics import record_sync
from app.register import queries
from app.register.locks import SyncAlreadyRunning
from app.register.schemas import (
    ChangeLinks,
    ChangePage,
    OrganisationDetail,
    OrganisationPage,
    PageLinks,
    Problem,
    RegisterCatalog,
    StatusFilter,
    SyncRunOut,
    SyncRunPage,
    SyncRunRequest,
)
from app.register.sync import SyncReport, SyncRequest, run_sync
from app.web import make_etag, not_modified

router = APIRouter(prefix="/v1", tags=["register"])

MAX_PAGE = 1_000_000
MAX_PAGE_SIZE = 200
API_LOCK_WAIT_SECONDS = 1.0
_PROBLEM = {
    "model": None,
    "content": {"application/problem+json": {"schema": Problem.model_json_schema()}},
}


def _problem(description: str) -> dict[str, Any]:
    return {**_PROBLEM, "description": description}


READ_ERRORS: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: If-None-Match matched the current ETag."},
    401: _problem("unauthorized: missing or unknown API key."),
    403: _problem("forbidden: the key lacks the read scope."),
    429: _problem("rate_limited: too many requests; see Retry-After."),
}
NOT_READY: dict[int | str, dict[str, Any]] = {
    503: _problem("index_not_ready: the register index is not loaded yet; see Retry-After.")
}


def _invalid(codes: str) -> dict[int | str, dict[str, Any]]:
    return {422: _problem(f"A parameter is invalid: {codes}.")}


Page = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1.")]
PageSize = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Items per page, 1-{MAX_PAGE_SIZE}.")
]


def _clock(settings: SettingsDep) -> Clock:
    return Clock(dt.datetime.now(dt.UTC), settings.max_age_hours * 3600)


def _link(request: Request, **replace: str) -> str:
    """This request's path and query, with the given parameters replaced (or added)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in replace]
    query = urlencode([*kept, *replace.items()])
    return f"{request.url.path}?{query}" if query else request.url.path


def _page_links(request: Request, page: int, pages: int) -> PageLinks:
    """Links that keep the caller's other parameters and change only `page`."""
    last = max(pages, 1)
    return PageLinks(
        self=_link(request, page=str(page)),
        first=_link(request, page="1"),
        last=_link(request, page=str(last)),
        next=_link(request, page=str(page + 1)) if page < pages else None,
        prev=_link(request, page=str(min(page - 1, last))) if page > 1 else None,
    )


@router.get(
    "/organisations",
    operation_id="list_organisations",
    summary="Search and browse organisations",
    response_model=OrganisationPage,
    responses={**READ_ERRORS, **_invalid("validation_error, invalid_query"), **NOT_READY},
)
async def list_organisations(
    request: Request,
    response: Response,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    client: ReadAccess,
    q: Annotated[
        str | None,
        Query(
            description="Text anywhere in any known name (listed, trading, former); "
            "case, accents, punctuation and legal forms (Ltd/Limited) are ignored.",
        ),
    ] = None,
    status: Annotated[
        list[StatusFilter] | None,
        Query(description="Only these statuses (repeatable). Default: every listed status."),
    ] = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> OrganisationPage | Response:
    """Organisations in name order, filtered by name text and status, one page at a time."""
    search = queries.validate_search(q)
    statuses = frozenset(s.value for s in status) if status else LISTED
    stamp = register_stamp(snapshot, _clock(settings))
    # The links echo the caller's parameters, so the raw query string is part of the tag.
    etag = make_etag("organisations", stamp, request.url.path, request.url.query)
    if cached := not_modified(request, response, etag):
        return cached
    # Milliseconds of CPU on a large register (and the index build on a new snapshot):
    # keep it off the event loop.
    found = await run_in_threadpool(queries.search_organisations, snapshot, search, statuses)
    pages = math.ceil(len(found) / page_size)
    chosen = found[(page - 1) * page_size : page * page_size]
    return OrganisationPage(
        items=[organisation_out(snapshot, view) for view in chosen],
        total=len(found),
        page=page,
        page_size=page_size,
        pages=pages,
        links=_page_links(request, page, pages),
        register_=stamp,
    )


@router.get(
    "/organisations/{id}",
    operation_id="get_organisation",
    summary="One organisation with its names, parent, affiliates and history",
    response_model=OrganisationDetail,
    responses={
        **READ_ERRORS,
        **_invalid("validation_error (id not a whole number from 1)"),
        404: _problem("organisation_not_found: no organisation has this id."),
    },
)
def get_organisation(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    client: ReadAccess,
    id: Annotated[int, Path(ge=1, le=2**31 - 1, description="Organisation id.")],
) -> OrganisationDetail | Response:
    """Every field of one organisation (removed ones too), with its full change history."""
    stamp = queries.read_stamp(session, _clock(settings))
    if cached := not_modified(request, response, make_etag("organisation", stamp, id)):
        return cached
    detail = queries.organisation_detail(session, id, stamp)
    if detail is None:
        raise NotFound(f"no organisation has id {id}", code="organisation_not_found")
    return detail


@router.get(
    "/changes",
    operation_id="list_changes",
    summary="Changes observed in a time window",
    response_model=ChangePage,
    responses={
        **READ_ERRORS,
        **_invalid("invalid_date, invalid_date_range, invalid_cursor, validation_error"),
    },
)
def list_changes(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    client: ReadAccess,
    since: Annotated[
        str | None,
        Query(
            description="Start, inclusive: YYYY-MM-DD (midnight UTC) or a date-time "
            "with a time zone. Default: the beginning."
        ),
    ] = None,
    until: Annotated[
        str | None,
        Query(description="End, exclusive, written like `since`. Default: no end."),
    ] = None,
    cursor: Annotated[str | None, Query(description="From a previous page's next_cursor.")] = None,
    page_size: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Changes per page, 1-{MAX_PAGE_SIZE}.")
    ] = 100,
) -> ChangePage | Response:
    """Every added, status change, rename, detail change and removal, oldest first."""
    window = queries.ChangeWindow.parse(since, until)
    after = queries.decode_cursor(cursor) if cursor else None
    stamp = queries.read_stamp(session, _clock(settings))
    etag = make_etag("changes", stamp, request.url.path, request.url.query)
    if cached := not_modified(request, response, etag):
        return cached
    items = queries.list_changes(session, window, after, page_size + 1)
    next_cursor = queries.encode_cursor(items[page_size - 1]) if len(items) > page_size else None
    return ChangePage(
        items=items[:page_size],
        since=window.since,
        until=window.until,
        next_cursor=next_cursor,
        links=ChangeLinks(
            self=_link(request), next=_link(request, cursor=next_cursor) if next_cursor else None
        ),
        register_=stamp,
    )


@router.get(
    "/register",
    operation_id="get_register",
    summary="What the mirror holds and how fresh it is",
    response_model=RegisterCatalog,
    responses={**READ_ERRORS, **NOT_READY},
)
async def get_register(
    request: Request,
    response: Response,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    client: ReadAccess,
) -> RegisterCatalog | Response:
    """Registry version, counts per status and sync times of the index answering lookups."""
    stamp = register_stamp(snapshot, _clock(settings))
    etag = make_etag("register", snapshot.info, stamp.stale, settings.max_age_hours)
    if cached := not_modified(request, response, etag):
        return cached
    info = snapshot.info
    counts = {s.value: snapshot.counts.get(s.value, 0) for s in StatusFilter}
    return RegisterCatalog(
        version=info.version,
        source_url=info.source_url,
        first_synced_at=info.first_synced_at,
        last_synced_at=info.last_synced_at,
        last_attempted_at=info.last_attempted_at,
        last_changed_at=info.last_changed_at,
        stale=stamp.stale,
        max_age_hours=settings.max_age_hours,
        counts=counts,
        listed_total=sum(n for s, n in counts.items() if s in LISTED),
        organisation_total=sum(counts.values()),
        register_=stamp,
    )


@router.get(
    "/sync-runs",
    operation_id="list_sync_runs",
    summary="Sync history, newest first",
    response_model=SyncRunPage,
    responses={**READ_ERRORS, **_invalid("validation_error")},
)
def list_sync_runs(
    request: Request,
    response: Response,
    session: SessionDep,
    client: ReadAccess,
    page: Page = 1,
    page_size: PageSize = 50,
) -> SyncRunPage | Response:
    """Every sync attempt with its outcome, reason, counts and duration."""
    summary = queries.sync_runs_summary(session)
    etag = make_etag("runs", summary, request.url.path, request.url.query)
    if cached := not_modified(request, response, etag):
        return cached
    pages = math.ceil(summary.total / page_size)
    return SyncRunPage(
        items=queries.list_sync_runs(session, (page - 1) * page_size, page_size),
        total=summary.total,
        page=page,
        page_size=page_size,
        pages=pages,
        links=_page_links(request, page, pages),
    )


def _recorded_run(session: Session, run_id: int) -> SyncRunOut:
    run = queries.get_sync_run(session, run_id)
    if run is None:
        raise NotFound(f"no sync run has id {run_id}", code="sync_run_not_found")
    return run


@router.get(
    "/sync-runs/{id}",
    operation_id="get_sync_run",
    summary="One sync run, as it is now",
    response_model=SyncRunOut,
    responses={
        **READ_ERRORS,
        **_invalid("validation_error (id not a whole number from 1)"),
        404: _problem("sync_run_not_found: no sync run has this id."),
    },
)
def get_sync_run(
    request: Request,
    response: Response,
    session: SessionDep,
    client: ReadAccess,
    id: Annotated[int, Path(ge=1, le=2**31 - 1, description="Sync run id.")],
) -> SyncRunOut | Response:
    """One run: poll it after starting a sync until its outcome is no longer `running`."""
    run = _recorded_run(session, id)
    if cached := not_modified(request, response, make_etag("run", run.model_dump())):
        return cached
    return run


def _dry_run_out(report: SyncReport, source_url: str) -> SyncRunOut:
    finished = dt.datetime.now(dt.UTC)
    return SyncRunOut(
        id=None,
        trigger="api",
        source_url=source_url,
        started_at=finished - dt.timedelta(milliseconds=report.duration_ms),
        finished_at=finished,
        outcome=report.outcome.value,
        forced=False,
        reason=report.reason,
        added=report.diff.added,
        changed=report.diff.changed,
        removed=report.diff.removed,
        rows_seen=report.rows_seen,
        pages_fetched=report.pages_fetched,
        duration_ms=report.duration_ms,
        registry_version=report.registry_version,
    )


@contextmanager
def _conflict_while_syncing() -> Iterator[None]:
    """Turn "another sync holds the lock" into a 409 problem."""
    try:
        yield
    except SyncAlreadyRunning:
        raise Conflict(
            "another sync is already running; try again when it has finished",
            code="sync_already_running",
            headers={"Retry-After": "30"},
        ) from None


def _dry_run(engine: Engine, settings: Settings, request: SyncRequest) -> SyncRunOut:
    """Fetch, validate and diff while the client waits; nothing is written or recorded."""
    with _conflict_while_syncing():
        report = run_sync(engine, settings, request)
    record_sync(report.outcome.value)
    return _dry_run_out(report, settings.source_url.rstrip("/"))


@router.post(
    "/sync-runs",
    operation_id="start_sync_run",
    summary="Start a sync of the mirror (admin)",
    status_code=202,
    response_model=SyncRunOut,
    responses={
        202: {
            "description": "Started: the run as recorded (outcome running). Poll Location "
            "until the outcome is no longer running.",
            "headers": {
                "Location": {
                    "description": "The run to poll: /v1/sync-runs/{id}.",
                    "schema": {"type": "string"},
                }
            },
        },
        200: {"description": "Dry run: what would change; nothing was written or recorded."},
        401: READ_ERRORS[401],
        403: _problem("forbidden: the key lacks the admin scope."),
        409: _problem("sync_already_running: another sync holds the lock; try again later."),
        **_invalid("validation_error: the body is not {force, dry_run}"),
        429: READ_ERRORS[429],
    },
)
def start_sync_run(
    response: Response,
    engine: EngineDep,
    session: SessionDep,
    settings: SettingsDep,
    syncs: SyncsDep,
    client: AdminAccess,
    body: Annotated[SyncRunRequest | None, Body()] = None,
) -> SyncRunOut:
    """Start a sync in the background and answer once its run is recorded (dry runs wait)."""
    options = body or SyncRunRequest()
    request = SyncRequest(
        trigger="api",
        force=options.force,
        dry_run=options.dry_run,
        lock_wait_seconds=API_LOCK_WAIT_SECONDS,
    )
    if options.dry_run:
        response.status_code = 200
        return _dry_run(engine, settings, request)
    with _conflict_while_syncing():
        run_id = syncs.start(request)
    response.headers["Location"] = f"{router.prefix}/sync-runs/{run_id}"
    return _recorded_run(session, run_id)
