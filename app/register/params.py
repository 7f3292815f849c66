"""Query parameters the register's list, export and history endpoints share, as dependencies
that hand the handler a parsed filter (or a 422 problem naming the bad value)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Query

from app.models import EventKind
from app.register.changes import ChangeFilter, ChangeWindow
from app.register.export import ExportFormat
from app.register.filters import OrganisationFilter, validate_labels
from app.register.schemas import StatusFilter

MAX_ID = 2**31 - 1
FormatParam = Annotated[
    ExportFormat | None,
    Query(
        alias="format",
        description="json (default) or csv: every matching row, streamed, without the page "
        "limit. Without it, `Accept: text/csv` asks for CSV.",
        examples=["csv"],
    ),
]
Regions = Annotated[
    list[str] | None,
    Query(
        alias="region",
        description="Only organisations serving one of these regions, as the register writes "
        "them, e.g. `London`, `North West` (repeatable; case and accents ignored).",
        examples=[["London"]],
    ),
]
Settings = Annotated[
    list[str] | None,
    Query(
        alias="setting",
        description="Only organisations delivering training into one of these settings, e.g. "
        "`Health`, `Social care`, `Education` (repeatable; case and accents ignored).",
        examples=[["Health"]],
    ),
]


async def organisation_filter(
    q: Annotated[
        str | None,
        Query(
            description="Text anywhere in any known name (listed, trading, former); "
            "case, accents, punctuation and legal forms (Ltd/Limited) are ignored. The "
            "organisation /v1/check would match the text to is included too.",
        ),
    ] = None,
    status: Annotated[
        list[StatusFilter] | None,
        Query(description="Only these statuses (repeatable). Default: every listed status."),
    ] = None,
    region: Regions = None,
    setting: Settings = None,
    parent_id: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_ID,
            description="Only the affiliates of this certified provider.",
            examples=[34],
        ),
    ] = None,
    valid_until_before: Annotated[
        dt.date | None,
        Query(
            description="Only certificates valid until a day before this date (YYYY-MM-DD): "
            "who lapses soon. Organisations without a stated date are left out.",
            examples=["2027-04-01"],
        ),
    ] = None,
) -> OrganisationFilter:
    """The organisation filter from its query parameters."""
    return OrganisationFilter.parse(
        q=q,
        statuses=[s.value for s in status or ()],
        regions=region,
        settings=setting,
        parent_id=parent_id,
        valid_until_before=valid_until_before,
    )


async def change_filter(
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
    kind: Annotated[
        list[EventKind] | None,
        Query(
            description="Only these kinds of change (repeatable). Default: every kind.",
            examples=[["status_changed"]],
        ),
    ] = None,
    organisation_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="Only this organisation's changes.", examples=[34]),
    ] = None,
) -> ChangeFilter:
    """The change filter from its query parameters."""
    return ChangeFilter(
        ChangeWindow.parse(since, until),
        frozenset(k.value for k in kind or ()),
        organisation_id,
    )


async def label_filter(region: Regions = None, setting: Settings = None) -> OrganisationFilter:
    """Only a region and setting filter (for counts over time)."""
    return OrganisationFilter(
        regions=validate_labels(region, "region"), settings=validate_labels(setting, "setting")
    )


OrganisationFilterDep = Annotated[OrganisationFilter, Depends(organisation_filter)]
ChangeFilterDep = Annotated[ChangeFilter, Depends(change_filter)]
LabelFilterDep = Annotated[OrganisationFilter, Depends(label_filter)]
