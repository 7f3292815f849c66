"""Browse the mirror: organisations, changes and the register catalog."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from app.auth.dependencies import ReadAccess, ReadAccessQueryKey
from app.checks.snapshot import LISTED
from app.checks.verdicts import Clock, organisation_out, register_stamp
from app.deps import EngineDep, SessionDep, SettingsDep, SnapshotDep
from app.errors import NotFound
from app.register import changes, queries
from app.register.export import (
    CHANGE_COLUMNS,
    CSV_MEDIA_TYPE,
    ORGANISATION_COLUMNS,
    change_rows,
    csv_response,
    organisation_rows,
    wants_csv,
)
from app.register.filters import filter_organisations
from app.register.http import (
    MAX_PAGE_SIZE,
    NOT_READY,
    READ_ERRORS,
    Page,
    PageSize,
    invalid_doc,
    page_links,
    problem_doc,
    query_link,
)
from app.register.page import (
    HTML_MEDIA_TYPE,
    PAGE_EXAMPLE,
    page_headers,
    render_organisation,
    wants_html,
)
from app.register.params import ChangeFilterDep, FormatParam, OrganisationFilterDep
from app.register.schemas import (
    ChangeLinks,
    ChangePage,
    OrganisationDetail,
    OrganisationPage,
    RegisterCatalog,
    StatusFilter,
)
from app.schemas import example_value
from app.web import make_etag, not_modified

router = APIRouter(prefix="/v1", tags=["register"])


ORGANISATIONS_CSV = (
    "\ufeffid,name,listed_name,status,trading_names,former_names,certificate_number,"
    "certified_on,valid_until,settings,regions,website,parent_id,parent_name,approved_on,note,"
    "extra,source_url,first_seen_at,updated_at,removed_at\r\n"
    "5,'+Positive Minds Training,'+Positive Minds Training,certified,,,ACT6449,2021-02-10,"
    "2024-03-08,Health; Social care; Education,London; Scotland,"
    "https://www.positivemindstraining.example.org.uk/,,,,,,"
    "https://bildact.org.uk/certified-organisations/,2026-12-02T09:54:21.965455Z,"
    "2026-12-02T09:54:21.965455Z,\r\n"
)
CHANGES_CSV = (
    "\ufeffid,observed_at,effective_on,kind,organisation_id,organisation_name,status_before,"
    "status_after,changed_fields,changes,registry_version\r\n"
    "412,2026-02-01T03:00:09Z,2026-01-05,status_changed,57,Positive Bridges Consulting Ltd,"
    'working_towards,certified,certified_on; note,"{""certified_on"": [null, ""2026-01-05""], '
    '""note"": [""Expected 2026"", null]}",2\r\n'
)


def csv_doc(example: str, what: str) -> dict[int | str, dict[str, Any]]:
    """The CSV alternative of a list's 200 response, for the OpenAPI document."""
    return {
        200: {
            "description": f"{what}. With `format=csv` or `Accept: text/csv`: every row as CSV, "
            "without the page limit.",
            "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}, "example": example}},
        }
    }


@router.get(
    "/organisations",
    operation_id="list_organisations",
    summary="Search, filter and export organisations",
    response_model=OrganisationPage,
    responses={
        **csv_doc(ORGANISATIONS_CSV, "One page of organisations"),
        **READ_ERRORS,
        **invalid_doc("validation_error, invalid_query, invalid_filter"),
        **NOT_READY,
    },
)
async def list_organisations(
    request: Request,
    response: Response,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    engine: EngineDep,
    client: ReadAccess,
    chosen: OrganisationFilterDep,
    page: Page = 1,
    page_size: PageSize = 50,
    export: FormatParam = None,
) -> OrganisationPage | Response:
    """Organisations in name order, filtered, one page at a time (JSON) or all at once (CSV)."""
    as_csv = wants_csv(request, export)
    stamp = register_stamp(snapshot, Clock.for_settings(settings))
    # The links echo the caller's parameters, so the raw query string is part of the tag.
    etag = make_etag("organisations", stamp, request.url.path, request.url.query, as_csv)
    response.headers["Vary"] = "Accept"
    if cached := not_modified(request, response, etag):
        return cached
    # Milliseconds of CPU on a large register (and the index build on a new snapshot):
    # keep it off the event loop.
    found = await run_in_threadpool(filter_organisations, snapshot, chosen)
    if as_csv:
        rows = organisation_rows(engine, [view.id for view in found])
        return csv_response(ORGANISATION_COLUMNS, rows, "organisations.csv", etag)
    pages = math.ceil(len(found) / page_size)
    chosen_page = found[(page - 1) * page_size : page * page_size]
    return OrganisationPage(
        items=[organisation_out(snapshot, view) for view in chosen_page],
        total=len(found),
        page=page,
        page_size=page_size,
        pages=pages,
        links=page_links(request, page, pages),
        register_=stamp,
    )


@router.get(
    "/organisations/{id}",
    operation_id="get_organisation",
    summary="One organisation with its names, parent, affiliates, history and timeline",
    response_model=OrganisationDetail,
    responses={
        200: {
            "description": "The organisation. With `Accept: text/html` (a browser, OpenRefine's "
            "view link): a plain, accessible page of the same.",
            "content": {HTML_MEDIA_TYPE: {"schema": {"type": "string"}, "example": PAGE_EXAMPLE}},
        },
        **READ_ERRORS,
        **invalid_doc("validation_error (id not a whole number from 1)"),
        404: problem_doc("organisation_not_found: no organisation has this id."),
    },
)
def get_organisation(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    # OpenRefine's view link opens this page in a browser, which cannot send our headers:
    # the key may ride in the URL (the manifest puts it there when it was given one).
    client: ReadAccessQueryKey,
    id: Annotated[
        int,
        Path(
            ge=1,
            le=2**31 - 1,
            description="Organisation id.",
            openapi_examples=example_value(8, "Severn NHS Foundation Trust (sample register)"),
        ),
    ],
) -> OrganisationDetail | Response:
    """Every field of one organisation (removed ones too), with its full change history and
    its timeline; as HTML for a browser."""
    as_html = wants_html(request)
    stamp = queries.read_stamp(session, Clock.for_settings(settings))
    response.headers["Vary"] = "Accept"
    if cached := not_modified(request, response, make_etag("organisation", stamp, id, as_html)):
        return cached
    detail = queries.organisation_detail(session, id, stamp)
    if detail is None:
        raise NotFound(f"no organisation has id {id}", code="organisation_not_found")
    if as_html:
        headers = {**page_headers(), **response.headers}
        return HTMLResponse(render_organisation(detail, stamp), headers=headers)
    return detail


@router.get(
    "/changes",
    operation_id="list_changes",
    summary="Changes observed in a time window",
    response_model=ChangePage,
    responses={
        **csv_doc(CHANGES_CSV, "One page of changes"),
        **READ_ERRORS,
        **invalid_doc("invalid_date, invalid_date_range, invalid_cursor, validation_error"),
    },
)
def list_changes(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    engine: EngineDep,
    client: ReadAccess,
    chosen: ChangeFilterDep,
    cursor: Annotated[str | None, Query(description="From a previous page's next_cursor.")] = None,
    page_size: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Changes per page, 1-{MAX_PAGE_SIZE}.")
    ] = 100,
    export: FormatParam = None,
) -> ChangePage | Response:
    """Every added, status change, rename, detail change and removal, oldest first."""
    after = changes.decode_cursor(cursor) if cursor else None
    as_csv = wants_csv(request, export)
    stamp = queries.read_stamp(session, Clock.for_settings(settings))
    etag = make_etag("changes", stamp, request.url.path, request.url.query, as_csv)
    response.headers["Vary"] = "Accept"
    if cached := not_modified(request, response, etag):
        return cached
    if as_csv:
        rows = change_rows(engine, chosen, after)
        return csv_response(CHANGE_COLUMNS, rows, "changes.csv", etag)
    items = changes.list_changes(session, chosen, after, page_size + 1)
    next_cursor = changes.encode_cursor(items[page_size - 1]) if len(items) > page_size else None
    return ChangePage(
        items=items[:page_size],
        since=chosen.window.since,
        until=chosen.window.until,
        next_cursor=next_cursor,
        links=ChangeLinks(
            self=query_link(request),
            next=query_link(request, cursor=next_cursor) if next_cursor else None,
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
    stamp = register_stamp(snapshot, Clock.for_settings(settings))
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
