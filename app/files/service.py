"""Checking a spreadsheet: every row, in order, through the batch's decision path, written
back with the answer columns appended. Rows are read, decided and written a chunk at a
time, so memory stays bounded by the chunk and the files, not by the answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from app.checks.schemas import BatchItem
from app.checks.service import check_many
from app.checks.snapshot import Snapshot
from app.checks.verdicts import Clock
from app.files.columns import ColumnPlan, cell_text, plan_columns
from app.files.reading import Cell, Row, Table
from app.files.writing import SheetWriter, padded

CHUNK_ROWS = 1000
ANSWER_COLUMNS = (
    "verdict",
    "meets_cqc_expectation",
    "matched_name",
    "status",
    "parent",
    "match_method",
    "score",
    "warnings",
    "register_version",
    "checked_at",
    "error",
)


@dataclass(frozen=True, slots=True)
class FileOptions:
    """How to read the sheet and what to ask of every row."""

    column: str | None = None
    certificate_column: str | None = None
    website_column: str | None = None
    as_of: str | None = None
    setting: str | None = None


@dataclass(frozen=True, slots=True)
class RowQuery:
    """One row's question, in the shape the batch validates (`check_many`)."""

    name: str | None
    certificate_number: str | None
    website: str | None
    as_of: str | None
    setting: str | None


@dataclass(frozen=True, slots=True)
class FileReport:
    """What a checked file held."""

    rows: int
    checked: int
    errors: int
    blank: int


def _text_at(row: Row, position: int | None) -> str | None:
    if position is None or position >= len(row):
        return None
    text = cell_text(row[position]).strip()
    return text or None


def _is_blank(row: Row) -> bool:
    return all(not cell_text(cell).strip() for cell in row)


def _row_query(row: Row, plan: ColumnPlan, options: FileOptions) -> RowQuery:
    return RowQuery(
        name=_text_at(row, plan.name),
        certificate_number=_text_at(row, plan.certificate),
        website=_text_at(row, plan.website),
        as_of=options.as_of,
        setting=options.setting,
    )


def answer_cells(item: BatchItem | None, checked_at: str) -> list[Cell | None]:
    """The appended cells of one row: blank for a blank row, the reason for a bad one."""
    if item is None:
        return [None] * len(ANSWER_COLUMNS)
    if item.result is None:
        error = item.error
        reason: Cell = f"{error.code}: {error.detail}" if error else "not checked"
        return [*([None] * (len(ANSWER_COLUMNS) - 1)), reason]
    result, org = item.result, item.result.organisation
    parent = (org.parent.name if org.parent else org.parent_name) if org else None
    return [
        str(result.verdict),
        result.meets_cqc_expectation,
        org.name if org else None,
        org.status if org else None,
        parent,
        result.match.method if result.match else None,
        result.match.score if result.match else None,
        "; ".join(warning.code for warning in result.warnings) or None,
        result.register_.version,
        checked_at,
        None,
    ]


def _header(first: Row | None, plan: ColumnPlan, width: int) -> tuple[list[Cell], bool]:
    """The output's header row, and whether it is the file's own first row."""
    if first is not None and plan.has_header:
        return padded(first, width), True
    return [""] * width, False


@dataclass(frozen=True, slots=True)
class _FileCheck:
    """One file's check: the columns to read, the question, where answers go."""

    plan: ColumnPlan
    options: FileOptions
    snapshot: Snapshot
    clock: Clock
    writer: SheetWriter
    width: int
    checked_at: str

    def chunk(self, chunk: Sequence[Row]) -> tuple[int, int, int, int]:
        """Decide the chunk's non-blank rows together; write every row with its answer.

        Returns the counts of rows, checked rows, rows in error and blank rows.
        """
        asked = [
            (i, _row_query(row, self.plan, self.options))
            for i, row in enumerate(chunk)
            if not _is_blank(row)
        ]
        items = check_many([query for _, query in asked], self.snapshot, self.clock)
        by_row = {i: item for (i, _), item in zip(asked, items, strict=True)}
        for i, row in enumerate(chunk):
            answer = answer_cells(by_row.get(i), self.checked_at)
            self.writer.write([*padded(row, self.width), *answer])
        errors = sum(1 for item in items if item.result is None)
        return len(chunk), len(items) - errors, errors, len(chunk) - len(items)


def check_table(
    table: Table,
    options: FileOptions,
    snapshot: Snapshot,
    clock: Clock,
    writer: SheetWriter,
    on_rows: Callable[[int], None] | None = None,
) -> FileReport:
    """Check every row of `table` and write each, with its answer, to `writer`.

    `on_rows(n)` is told as each chunk of n rows is written (a progress bar).
    """
    rows = table.rows()
    first = next(rows, None)
    plan = plan_columns(
        first or [],
        table.width,
        column=options.column,
        certificate_column=options.certificate_column,
        website_column=options.website_column,
    )
    header, consumed = _header(first, plan, table.width)
    writer.write([*header, *ANSWER_COLUMNS])
    if not consumed and first is not None:
        rows = _prepend(first, rows)
    checked_at = clock.now.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    run = _FileCheck(plan, options, snapshot, clock, writer, table.width, checked_at)
    totals = [0, 0, 0, 0]
    for chunk in _chunks(rows):
        totals = [a + b for a, b in zip(totals, run.chunk(chunk), strict=True)]
        if on_rows is not None:
            on_rows(len(chunk))
    return FileReport(*totals)


def _prepend(first: Row, rows: Iterator[Row]) -> Iterator[Row]:
    yield first
    yield from rows


def _chunks(rows: Iterator[Row]) -> Iterator[list[Row]]:
    while chunk := list(islice(rows, CHUNK_ROWS)):
        yield chunk
