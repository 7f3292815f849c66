"""GET /v1/register/history: counts per status over time, as JSON or CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.auth.dependencies import ReadAccess
from app.checks.verdicts import Clock, register_stamp
from app.deps import SettingsDep, SnapshotDep
from app.register.export import (
    CSV_MEDIA_TYPE,
    HISTORY_COLUMNS,
    csv_response,
    history_rows,
    wants_csv,
)
from app.register.history import Interval, count_history
from app.register.history_schemas import HistoryPeriod, RegisterHistory
from app.register.http import NOT_READY, READ_ERRORS, invalid_doc
from app.register.params import FormatParam, LabelFilterDep
from app.web import make_etag, not_modified

router = APIRouter(prefix="/v1", tags=["register"])
HISTORY_CSV = (
    "\ufeffstart,end,counted_at,certified,affiliate,working_towards,removed,listed_total\r\n"
    "2026-01-01,2026-02-01,2026-02-01T00:00:00Z,46,38,14,0,98\r\n"
    "2026-02-01,2026-03-01,2026-02-17T10:12:40Z,47,38,12,1,97\r\n"
)


@router.get(
    "/register/history",
    operation_id="get_register_history",
    summary="Counts per status over time, from the mirror's own history",
    response_model=RegisterHistory,
    responses={
        200: {
            "description": "Counts per period. With `format=csv` or `Accept: text/csv`: the "
            "same rows as CSV.",
            "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}, "example": HISTORY_CSV}},
        },
        **READ_ERRORS,
        **invalid_doc("validation_error, invalid_filter, too_many_periods"),
        **NOT_READY,
    },
)
async def get_register_history(
    request: Request,
    response: Response,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    client: ReadAccess,
    chosen: LabelFilterDep,
    interval: Annotated[
        Interval,
        Query(
            description="The length of each period: month (default), week or day.",
            examples=["month"],
        ),
    ] = Interval.MONTH,
    export: FormatParam = None,
) -> RegisterHistory | Response:
    """How many organisations held each status at the end of every period, from the
    mirror's first successful sync to its last."""
    stamp = register_stamp(snapshot, Clock.for_settings(settings))
    as_csv = wants_csv(request, export)
    etag = make_etag("history", stamp, request.url.query, as_csv)
    response.headers["Vary"] = "Accept"
    if cached := not_modified(request, response, etag):
        return cached
    info = snapshot.info
    memory = (info.first_synced_at, info.last_synced_at)
    views = snapshot.organisations.values()
    found = await run_in_threadpool(count_history, views, chosen, interval, memory)
    if as_csv:
        return csv_response(HISTORY_COLUMNS, history_rows(found), "register-history.csv", etag)
    return RegisterHistory(
        interval=interval.value,
        regions=sorted(request.query_params.getlist("region")),
        settings=sorted(request.query_params.getlist("setting")),
        memory_begins=info.first_synced_at,
        memory_ends=info.last_synced_at,
        items=[
            HistoryPeriod(
                start=p.start,
                end=p.end,
                counted_at=p.counted_at,
                counts=p.counts,
                listed_total=p.listed,
            )
            for p in found
        ],
        register_=stamp,
    )
