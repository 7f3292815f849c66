"""Sync runs: the history, one run, and starting a sync (admin)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Body, Path, Request, Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.auth.dependencies import AdminAccess, ReadAccess
from app.config import Settings
from app.deps import EngineDep, SessionDep, SettingsDep, SyncsDep
from app.errors import Conflict, NotFound
from app.ops.metrics import record_sync
from app.register import run_queries
from app.register.examples import SYNC_RUN_REQUEST
from app.register.http import READ_ERRORS, Page, PageSize, invalid_doc, page_links, problem_doc
from app.register.locks import SyncAlreadyRunning
from app.register.schemas import SyncRunOut, SyncRunPage, SyncRunRequest
from app.register.sync import SyncReport, SyncRequest, run_sync
from app.schemas import example_value
from app.web import make_etag, not_modified

router = APIRouter(prefix="/v1", tags=["register"])
API_LOCK_WAIT_SECONDS = 1.0


@router.get(
    "/sync-runs",
    operation_id="list_sync_runs",
    summary="Sync history, newest first",
    response_model=SyncRunPage,
    responses={**READ_ERRORS, **invalid_doc("validation_error")},
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
    summary = run_queries.sync_runs_summary(session)
    etag = make_etag("runs", summary, request.url.path, request.url.query)
    if cached := not_modified(request, response, etag):
        return cached
    pages = math.ceil(summary.total / page_size)
    return SyncRunPage(
        items=run_queries.list_sync_runs(session, (page - 1) * page_size, page_size),
        total=summary.total,
        page=page,
        page_size=page_size,
        pages=pages,
        links=page_links(request, page, pages),
    )


def _recorded_run(session: Session, run_id: int) -> SyncRunOut:
    run = run_queries.get_sync_run(session, run_id)
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
        **invalid_doc("validation_error (id not a whole number from 1)"),
        404: problem_doc("sync_run_not_found: no sync run has this id."),
    },
)
def get_sync_run(
    request: Request,
    response: Response,
    session: SessionDep,
    client: ReadAccess,
    id: Annotated[
        int,
        Path(
            ge=1,
            le=2**31 - 1,
            description="Sync run id.",
            openapi_examples=example_value(1, "The first sync run"),
        ),
    ],
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
        warnings=report.warnings,
        attempt=1,
        retry_at=None,
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
        403: problem_doc("forbidden: the key lacks the admin scope."),
        409: problem_doc("sync_already_running: another sync holds the lock; try again later."),
        **invalid_doc("validation_error: the body is not {force, dry_run}"),
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
    body: Annotated[
        SyncRunRequest | None,
        Body(openapi_examples=example_value(SYNC_RUN_REQUEST, "A dry run: what would change")),
    ] = None,
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
