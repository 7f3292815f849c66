"""Which columns hold the provider name, the certificate number and the website: chosen by
the caller (header text or 1-based index) or found by their header."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from app.errors import InvalidInput
from app.files.reading import Cell, Row

# Header texts that name each column, most specific first (a file with both "Provider" and
# "Name" columns checks "Provider"). Compared after `header_key`.
NAME_HEADERS = (
    "training provider",
    "training provider name",
    "provider name",
    "provider",
    "training organisation",
    "supplier name",
    "supplier",
    "organisation name",
    "organisation",
    "organization name",
    "organization",
    "company name",
    "company",
    "bidder name",
    "bidder",
    "name",
)
CERTIFICATE_HEADERS = (
    "certificate number",
    "certificate no",
    "certificate",
    "cert no",
    "cert number",
    "bild act certificate",
    "bild act certificate number",
    "rrn certificate",
    "rrn certificate number",
    "certification number",
)
WEBSITE_HEADERS = ("website", "web site", "website address", "web address", "url", "homepage")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def cell_text(value: Cell) -> str:
    """A cell as text: whole numbers without `.0`, dates as YYYY-MM-DD."""
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)


def header_key(value: Cell) -> str:
    """A header compared ignoring case, punctuation and spacing ("Provider name:" ~ "provider
    name")."""
    return _NOT_ALNUM.sub(" ", cell_text(value).lower()).strip()


@dataclass(frozen=True, slots=True)
class ColumnPlan:
    """Where the answers come from: 0-based column positions, and whether row 1 is a header."""

    has_header: bool
    name: int
    certificate: int | None = None
    website: int | None = None


def _find(header: Row, wanted: tuple[str, ...]) -> int | None:
    keys = [header_key(cell) for cell in header]
    for text in wanted:
        if text in keys:
            return keys.index(text)
    return None


def _chosen(header: Row, choice: str, width: int, parameter: str) -> tuple[int, bool]:
    """The position `choice` names, and whether it named a header (rather than an index)."""
    text = choice.strip()
    if text.isdigit():
        position = int(text)
        if 1 <= position <= max(width, 1):
            return position - 1, False
        raise InvalidInput(
            f"{parameter}={text}: the file has {width} column(s)", code="column_not_found"
        )
    found = _find(header, (header_key(text),)) if header_key(text) else None
    if found is None:
        headers = ", ".join(repr(cell_text(cell)) for cell in header if cell_text(cell))
        raise InvalidInput(
            f"{parameter}={text!r} is not a header of the first row ({headers or 'empty'})",
            code="column_not_found",
        )
    return found, True


def plan_columns(
    header: Row,
    width: int,
    *,
    column: str | None = None,
    certificate_column: str | None = None,
    website_column: str | None = None,
) -> ColumnPlan:
    """The columns to read; the first row is a header when it holds a known header or the
    header text a column was chosen by.

    Without `column`, the name column is the first header naming a provider, else the
    first column; the identifier columns likewise, else none.
    """
    named = False
    positions: dict[str, int | None] = {}
    for field, parameter, choice, known in (
        ("name", "column", column, NAME_HEADERS),
        ("certificate", "certificate_column", certificate_column, CERTIFICATE_HEADERS),
        ("website", "website_column", website_column, WEBSITE_HEADERS),
    ):
        found = _find(header, known)
        if choice is not None and choice.strip():
            positions[field], by_header = _chosen(header, choice, width, parameter)
        else:
            positions[field], by_header = found, False
        named = named or by_header or found is not None
    name = positions["name"]
    return ColumnPlan(
        has_header=named,
        name=0 if name is None else name,
        certificate=positions["certificate"],
        website=positions["website"],
    )
