"""Response and request bodies of the register endpoints (organisations, changes, sync runs)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.checks.examples import examples
from app.checks.schemas import OrganisationOut, RegisterStamp
from app.register import examples as ex
from app.schemas import RequestBody


class StatusFilter(StrEnum):
    """Statuses an organisation search can be limited to."""

    CERTIFIED = "certified"
    AFFILIATE = "affiliate"
    WORKING_TOWARDS = "working_towards"
    REMOVED = "removed"


def _stamp() -> Any:
    return Field(alias="register", description="Registry version and freshness of this answer.")


class PageLinks(BaseModel):
    """Links to this and neighbouring pages (path and query, relative to the API root)."""

    model_config = ConfigDict(json_schema_extra=examples(ex.LINKS))

    self: str = Field(description="This page.")
    first: str = Field(description="The first page.")
    last: str = Field(description="The last page (the first page when there are no results).")
    next: str | None = Field(description="The next page; null on the last page.")
    prev: str | None = Field(description="The previous page; null on the first page.")


class OrganisationPage(BaseModel):
    """One page of organisations, ordered by name."""

    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra=examples(ex.ORGANISATION_PAGE)
    )

    items: list[OrganisationOut] = Field(description="The organisations on this page.")
    total: int = Field(description="How many organisations match, over all pages.")
    page: int = Field(description="This page's number, from 1.")
    page_size: int = Field(description="Most items per page.")
    pages: int = Field(description="How many pages there are (0 when nothing matches).")
    links: PageLinks = Field(description="Navigation links.")
    register_: RegisterStamp = _stamp()


class OrganisationRef(BaseModel):
    """Another organisation, briefly."""

    model_config = ConfigDict(json_schema_extra=examples(ex.REF))

    id: int = Field(description="Organisation id.")
    name: str = Field(description="Its name.")
    status: str = Field(description="Its current status.")


class EventOut(BaseModel):
    """One observed change to an organisation."""

    model_config = ConfigDict(json_schema_extra=examples(ex.EVENT))

    id: int = Field(description="Event id; increases with every recorded change.")
    kind: str = Field(description="added, status_changed, renamed, details_changed or removed.")
    observed_at: dt.datetime = Field(description="When the mirror saw the change (UTC).")
    effective_on: dt.date | None = Field(
        description="The register's own date for the change, where it states one."
    )
    status_before: str | None = Field(description="Status before the change (null if new).")
    status_after: str | None = Field(description="Status after the change.")
    changes: dict[str, list[Any]] = Field(description="Changed fields: {field: [before, after]}.")
    registry_version: int = Field(description="The registry version the change created.")


class TimelineSpan(BaseModel):
    """What the register said about an organisation from one observed change to the next."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "since": "2026-02-01T03:00:09Z",
                    "until": None,
                    "effective_on": "2026-01-05",
                    "event_kind": "status_changed",
                    "status": "certified",
                    "name": "Positive Bridges Consulting Ltd",
                    "listed_name": "Positive Bridges Consulting Ltd",
                    "parent_name": None,
                    "certificate_number": "ACT6120",
                    "certified_on": "2026-01-05",
                    "valid_until": "2029-01-04",
                    "approved_on": None,
                }
            ]
        }
    )

    since: dt.datetime = Field(description="When the mirror saw the change that began it (UTC).")
    until: dt.datetime | None = Field(
        description="When the mirror saw the next change (UTC); null while it still holds."
    )
    effective_on: dt.date | None = Field(
        description="The register's own date for the change that began it, where it states one."
    )
    event_kind: str = Field(
        description="The change that began it: added, status_changed, renamed, "
        "details_changed or removed."
    )
    status: str = Field(description="certified, affiliate, working_towards or removed.")
    name: str | None = Field(description="The organisation's own name then.")
    listed_name: str | None = Field(description="The name as the register showed it then.")
    parent_name: str | None = Field(description="Affiliates: the certified provider then.")
    certificate_number: str | None = Field(description="The certificate number then.")
    certified_on: dt.date | None = Field(description="The certification date then.")
    valid_until: dt.date | None = Field(description="The certificate's end date then.")
    approved_on: dt.date | None = Field(description="Affiliates: the approval month then.")


class OrganisationDetail(OrganisationOut):
    """An organisation with every field, its affiliates and its history."""

    model_config = ConfigDict(populate_by_name=True, json_schema_extra=examples(ex.DETAIL))

    extra: dict[str, Any] = Field(description="Other details the register lists, as written.")
    source_url: str | None = Field(description="The register page it was last read from.")
    first_seen_at: dt.datetime = Field(description="When the mirror first saw it (UTC).")
    updated_at: dt.datetime = Field(description="When its record last changed (UTC).")
    removed_at: dt.datetime | None = Field(
        description="When it left the register (UTC); null while listed."
    )
    affiliates: list[OrganisationRef] = Field(
        description="Certified providers: the affiliates delivering its curriculum."
    )
    history: list[EventOut] = Field(description="Every observed change, oldest first.")
    timeline: list[TimelineSpan] = Field(
        description="What the register said (status, names, parent, certificate dates) from "
        "each observed change to the next, oldest first."
    )
    register_: RegisterStamp = _stamp()


class ChangeOut(EventOut):
    """One change in the feed, with the organisation it concerns."""

    model_config = ConfigDict(json_schema_extra=examples(ex.CHANGE))

    organisation_id: int = Field(description="The organisation that changed.")
    organisation_name: str = Field(description="The organisation's current name.")


class ChangeLinks(BaseModel):
    """Links for walking the feed."""

    model_config = ConfigDict(json_schema_extra=examples(ex.CHANGE_LINKS))

    self: str = Field(description="This page.")
    next: str | None = Field(description="The next page; null when the window is exhausted.")


class ChangePage(BaseModel):
    """Changes observed in [since, until), oldest first."""

    model_config = ConfigDict(populate_by_name=True, json_schema_extra=examples(ex.CHANGE_PAGE))

    items: list[ChangeOut] = Field(description="The changes on this page.")
    since: dt.datetime | None = Field(description="Start of the window (inclusive, UTC).")
    until: dt.datetime | None = Field(description="End of the window (exclusive, UTC).")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
    links: ChangeLinks = Field(description="Navigation links.")
    register_: RegisterStamp = _stamp()


class RegisterCatalog(BaseModel):
    """What the mirror holds and how fresh it is."""

    model_config = ConfigDict(populate_by_name=True, json_schema_extra=examples(ex.CATALOG))

    version: int = Field(description="Registry version; increases whenever the mirror changes.")
    source_url: str | None = Field(description="Where the register was last read from.")
    first_synced_at: dt.datetime | None = Field(
        description="First successful sync: `as_of` dates before it are answered `unknown`."
    )
    last_synced_at: dt.datetime | None = Field(description="Last successful sync (UTC).")
    last_attempted_at: dt.datetime | None = Field(
        description="Last sync attempt, whatever its outcome (UTC)."
    )
    last_changed_at: dt.datetime | None = Field(description="When the mirror last changed.")
    stale: bool = Field(description="True when the data is older than the maximum age.")
    max_age_hours: float = Field(description="The configured maximum age, in hours.")
    counts: dict[str, int] = Field(
        description="Organisations per status: certified, affiliate, working_towards, removed."
    )
    listed_total: int = Field(description="Organisations on the register now.")
    organisation_total: int = Field(description="Every organisation known, removed included.")
    register_: RegisterStamp = _stamp()


EXAMPLE_SYNC_RUN: dict[str, Any] = {
    "id": 2,
    "trigger": "scheduler",
    "source_url": "https://bildact.org.uk",
    "started_at": "2026-11-26T03:05:00.124772Z",
    "finished_at": "2026-11-26T03:05:41.372144Z",
    "outcome": "applied",
    "forced": False,
    "reason": None,
    "added": 1,
    "changed": 2,
    "removed": 0,
    "rows_seen": 98,
    "pages_fetched": 6,
    "duration_ms": 41247,
    "registry_version": 2,
    "warnings": [
        "https://bildact.org.uk/certified-organisations/: 'Acme Training Ltd': website "
        "'javascript:alert(1)' dropped: not an http(s) address"
    ],
    "attempt": 2,
    "retry_at": None,
}


class SyncRunOut(BaseModel):
    """One sync attempt and its outcome."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_SYNC_RUN]})

    id: int | None = Field(description="Run id; null for a dry run, which is not recorded.")
    trigger: str = Field(
        description="What started it: scheduler, cli, api, or import (`certlookup import`)."
    )
    source_url: str = Field(description="The register base URL read.")
    started_at: dt.datetime = Field(description="Start (UTC).")
    finished_at: dt.datetime | None = Field(description="End (UTC); null while running.")
    outcome: str = Field(description="running, applied, unchanged, rejected, failed or dry_run.")
    forced: bool = Field(description="True when an operator forced it past validation.")
    reason: str | None = Field(description="Why it was rejected or failed.")
    added: int = Field(description="Organisations added.")
    changed: int = Field(description="Organisations changed (status, name or details).")
    removed: int = Field(description="Organisations removed.")
    rows_seen: int = Field(description="Listing rows read.")
    pages_fetched: int = Field(
        description="Requests the register answered, robots.txt included (0 when it could "
        "not be reached at all)."
    )
    duration_ms: int | None = Field(description="How long it took, in milliseconds.")
    registry_version: int | None = Field(description="Registry version after the run.")
    warnings: list[str] = Field(
        description="What was dropped from entries that were kept, one line each: a website "
        "that is not an http(s) address is served as null. Empty when nothing was dropped."
    )
    attempt: int = Field(
        description="1 for a first try; 2 and up for the scheduler's retries after a failed "
        "or rejected scheduled sync (CERTLOOKUP_SYNC_RETRY_SCHEDULE)."
    )
    retry_at: dt.datetime | None = Field(
        description="When the scheduler will try again after this failed or rejected run "
        "(UTC); null when no retry is planned (the run succeeded, was not the scheduler's, "
        "or the next scheduled run comes first)."
    )


class SyncRunPage(BaseModel):
    """One page of sync runs, newest first."""

    model_config = ConfigDict(json_schema_extra=examples(ex.SYNC_RUN_PAGE))

    items: list[SyncRunOut] = Field(description="The runs on this page.")
    total: int = Field(description="How many runs are recorded.")
    page: int = Field(description="This page's number, from 1.")
    page_size: int = Field(description="Most items per page.")
    pages: int = Field(description="How many pages there are.")
    links: PageLinks = Field(description="Navigation links.")


class SyncRunRequest(RequestBody):
    """How to run a sync started over the API."""

    model_config = ConfigDict(json_schema_extra=examples(ex.SYNC_RUN_REQUEST))

    force: bool = Field(False, description="Apply even if validation would reject the scrape.")
    dry_run: bool = Field(False, description="Only report what would change; write nothing.")


class Problem(BaseModel):
    """An RFC 9457 problem document, as every error is reported."""

    type: str = Field(description="URI naming the problem type; ends with the code.")
    title: str = Field(description="The HTTP status phrase.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong, for a person.")
    code: str = Field(description="Stable machine-readable error code (see openapi.md).")
    instance: str | None = Field(None, description="The request path.")
    errors: list[dict[str, str]] | None = Field(
        None, description="validation_error only: each invalid field (location, message)."
    )
