"""Browse the mirror: organisations, changes and the register catalog."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.auth.dependencies import ReadAccess
from app.checks.snapshot import LISTED
from app.checks.verdicts import Clock, organisation_out, register_stamp
from app.deps import SessionDep, SettingsDep, SnapshotDep
from app.errors import NotFound
from app.register import queries
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
from app.register.schemas import (
    ChangeLinks,
    ChangePage,
    OrganisationDetail,
    OrganisationPage,
    RegisterCatalog,
    StatusFilter,
)
from app.web import make_etag, not_modified

router = APIRouter(prefix="/v1", tags=["register"])


@router.get(
    "/organisations",
    operation_id="list_organisations",
    summary="Search and browse organisations",
    response_model=OrganisationPage,
    responses={**READ_ERRORS, **invalid_doc("validation_error, invalid_query"), **NOT_READY},
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
    stamp = register_stamp(snapshot, Clock.for_settings(settings))
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
        links=page_links(request, page, pages),
        register_=stamp,
    )


@router.get(
    "/organisations/{id}",
    operation_id="get_organisation",
    summary="One organisation with its names, parent, affiliates and history",
    response_model=OrganisationDetail,
    responses={
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
    client: ReadAccess,
    id: Annotated[int, Path(ge=1, le=2**31 - 1, description="Organisation id.")],
) -> OrganisationDetail | Response:
    """Every field of one organisation (removed ones too), with its full change history."""
    stamp = queries.read_stamp(session, Clock.for_settings(settings))
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
        **invalid_doc("invalid_date, invalid_date_range, invalid_cursor, validation_error"),
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
    stamp = queries.read_stamp(session, Clock.for_settings(settings))
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
