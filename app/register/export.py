"""The register as CSV: organisations and changes, streamed row by row from the database.

The whole result set goes out (no page limit), read in chunks so memory stays bounded
whatever the register's size. Columns keep their order, dates are ISO 8601 (timestamps in
UTC with `Z`), lists are joined with "; ", objects are JSON, and every cell a spreadsheet
would run as a formula is neutralised (app/files/writing.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from enum import StrEnum
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine, select

from app.db import transaction
from app.files.writing import neutralise
from app.models import Organisation, OrganisationEvent
from app.register import changes
from app.register.history import PeriodCount
from app.register.queries import consistent_read
from app.web import CACHE_CONTROL, preferred_type

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
CHUNK_ROWS = 500
LIST_SEPARATOR = "; "
BOM = "\ufeff"  # so Excel reads the file as UTF-8

ORGANISATION_COLUMNS = (
    "id",
    "name",
    "listed_name",
    "status",
    "trading_names",
    "former_names",
    "certificate_number",
    "certified_on",
    "valid_until",
    "settings",
    "regions",
    "website",
    "parent_id",
    "parent_name",
    "approved_on",
    "note",
    "extra",
    "source_url",
    "first_seen_at",
    "updated_at",
    "removed_at",
)
CHANGE_COLUMNS = (
    "id",
    "observed_at",
    "effective_on",
    "kind",
    "organisation_id",
    "organisation_name",
    "status_before",
    "status_after",
    "changed_fields",
    "changes",
    "registry_version",
)

HISTORY_COLUMNS = (
    "start",
    "end",
    "counted_at",
    "certified",
    "affiliate",
    "working_towards",
    "removed",
    "listed_total",
)


class ExportFormat(StrEnum):
    """How a list endpoint answers."""

    JSON = "json"
    CSV = "csv"


def wants_csv(request: Request, chosen: ExportFormat | None) -> bool:
    """True for `?format=csv`, or without `format` when Accept prefers text/csv to JSON."""
    if chosen is not None:
        return chosen is ExportFormat.CSV
    accept = request.headers.get("accept")
    return preferred_type(accept, ("application/json", "text/csv")) == "text/csv"


def cell(value: Any) -> str:
    """One value as CSV text (see the module doc), neutralised."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        text = value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    elif isinstance(value, dt.date):
        text = value.isoformat()
    elif isinstance(value, list | tuple):
        text = LIST_SEPARATOR.join(str(item) for item in value)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
    else:
        text = str(value)
    return neutralise(text)


def csv_chunks(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The header, then the rows, as UTF-8 CSV in chunks of CHUNK_ROWS rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(columns)
    for count, row in enumerate(rows, 1):
        writer.writerow([cell(value) for value in row])
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def organisation_row(org: Organisation) -> list[Any]:
    """An organisation's values in ORGANISATION_COLUMNS order."""
    names = org.names or []
    by_kind = {
        kind: [n["name"] for n in names if n["kind"] == kind] for kind in ("trading", "former")
    }
    values = {
        **{column: getattr(org, column, None) for column in ORGANISATION_COLUMNS},
        "trading_names": by_kind["trading"],
        "former_names": by_kind["former"],
    }
    return [values[column] for column in ORGANISATION_COLUMNS]


def organisation_rows(engine: Engine, ids: Sequence[int]) -> Iterator[list[Any]]:
    """The organisations with these ids, in this order, read CHUNK_ROWS at a time."""
    with transaction(engine) as session:
        consistent_read(session)
        for start in range(0, len(ids), CHUNK_ROWS):
            part = ids[start : start + CHUNK_ROWS]
            found = session.scalars(select(Organisation).where(Organisation.id.in_(part)))
            by_id = {org.id: org for org in found}
            yield from (organisation_row(by_id[i]) for i in part if i in by_id)
            session.expunge_all()


def change_row(event: OrganisationEvent, name: str) -> list[Any]:
    """A change's values in CHANGE_COLUMNS order."""
    return [
        event.id,
        event.observed_at,
        event.effective_on,
        event.kind,
        event.organisation_id,
        name,
        event.status_before,
        event.status_after,
        sorted(event.changes),
        event.changes,
        event.registry_version,
    ]


def change_rows(
    engine: Engine, chosen: changes.ChangeFilter, after: tuple[dt.datetime, int] | None
) -> Iterator[list[Any]]:
    """Every change passing the filter, oldest first, streamed from the database."""
    query = changes.changes_query(chosen, after).execution_options(yield_per=CHUNK_ROWS)
    with transaction(engine) as session:
        consistent_read(session)
        for event, name in session.execute(query):
            yield change_row(event, name)


def csv_response(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], filename: str, etag: str | None = None
) -> StreamingResponse:
    """A streamed CSV download."""
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept",
    }
    if etag is not None:
        headers["ETag"] = etag
    return StreamingResponse(csv_chunks(columns, rows), media_type=CSV_MEDIA_TYPE, headers=headers)


def history_rows(found: Iterable[PeriodCount]) -> Iterator[list[Any]]:
    """Counts per period in HISTORY_COLUMNS order."""
    for period in found:
        counts = [period.counts.get(status, 0) for status in HISTORY_COLUMNS[3:7]]
        yield [period.start, period.end, period.counted_at, *counts, period.listed]
