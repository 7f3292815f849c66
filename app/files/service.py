"""Checking a spreadsheet: every row, in order, through the batch's decision path, written
back with the answer columns appended. Rows are read, decided and written a chunk at a
time, so memory stays bounded by the chunk and the files, not by the answers."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

from app.checks.schemas import BatchItem
from app.checks.service import check_many, verdict_counts
from app.checks.snapshot import Snapshot
from app.checks.verdicts import Clock
from app.files.columns import ColumnPlan, cell_text, plan_columns
from app.files.reading import Cell, Row, Table, read_table
from app.files.upload import FileKind, Upload
from app.files.writing import SheetWriter, padded, writer_for

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
RECEIPT_COLUMN = "receipt_id"
ReceiptHook = Callable[[Sequence[BatchItem], Sequence[str | None]], list[BatchItem]]
"""Issues receipts for a chunk's items (one reference per item, `row N`); the items back
with `receipt_id` set (app.receipts.service.with_receipts)."""


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
    verdicts: Counter[str] = field(default_factory=Counter)  # checked rows per verdict


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


def answer_cells(
    item: BatchItem | None, checked_at: str, with_receipt: bool = False
) -> list[Cell | None]:
    """The appended cells of one row: blank for a blank row, the reason for a bad one; with
    `with_receipt`, the receipt id last."""
    cells = _answer_cells(item, checked_at)
    if with_receipt:
        cells.append(item.receipt_id if item is not None else None)
    return cells


def _answer_cells(item: BatchItem | None, checked_at: str) -> list[Cell | None]:
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
    receipts: ReceiptHook | None = None
    verdicts: Counter[str] = field(default_factory=Counter)

    def chunk(self, chunk: Sequence[Row], first_row: int) -> tuple[int, int, int, int]:
        """Decide the chunk's non-blank rows together; write every row with its answer.
        `first_row` is the sheet's row number (1-based) of the chunk's first row.

        Returns the counts of rows, checked rows, rows in error and blank rows.
        """
        asked = [
            (i, _row_query(row, self.plan, self.options))
            for i, row in enumerate(chunk)
            if not _is_blank(row)
        ]
        items = check_many([query for _, query in asked], self.snapshot, self.clock)
        if self.receipts is not None:
            items = self.receipts(items, [f"row {first_row + i}" for i, _ in asked])
        by_row = {i: item for (i, _), item in zip(asked, items, strict=True)}
        with_receipt = self.receipts is not None
        for i, row in enumerate(chunk):
            answer = answer_cells(by_row.get(i), self.checked_at, with_receipt)
            self.writer.write([*padded(row, self.width), *answer])
        self.verdicts.update(verdict_counts(items))
        errors = sum(1 for item in items if item.result is None)
        return len(chunk), len(items) - errors, errors, len(chunk) - len(items)


def check_table(
    table: Table,
    options: FileOptions,
    snapshot: Snapshot,
    clock: Clock,
    writer: SheetWriter,
    on_rows: Callable[[int], None] | None = None,
    receipts: ReceiptHook | None = None,
) -> FileReport:
    """Check every row of `table` and write each, with its answer, to `writer`.

    `on_rows(n)` is told as each n of the sheet's rows are written (a progress bar); with
    `receipts`, every answered row gets a receipt and a `receipt_id` column.
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
    columns = (*ANSWER_COLUMNS, RECEIPT_COLUMN) if receipts is not None else ANSWER_COLUMNS
    writer.write([*header, *columns])
    if consumed and on_rows is not None:
        on_rows(1)  # the sheet's own header row, written
    if not consumed and first is not None:
        rows = _prepend(first, rows)
    checked_at = clock.now.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    run = _FileCheck(plan, options, snapshot, clock, writer, table.width, checked_at, receipts)
    totals = [0, 0, 0, 0]
    next_row = 2 if consumed else 1
    for chunk in _chunks(rows):
        totals = [a + b for a, b in zip(totals, run.chunk(chunk, next_row), strict=True)]
        next_row += len(chunk)
        if on_rows is not None:
            on_rows(len(chunk))
    count, checked, errors, blank = totals
    return FileReport(count, checked, errors, blank, verdicts=run.verdicts)


def _prepend(first: Row, rows: Iterator[Row]) -> Iterator[Row]:
    yield first
    yield from rows


def _chunks(rows: Iterator[Row]) -> Iterator[list[Row]]:
    while chunk := list(islice(rows, CHUNK_ROWS)):
        yield chunk


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """A checked spreadsheet: the file's bytes, its type and extension, and its counts."""

    data: bytes
    media_type: str
    extension: str
    report: FileReport


def check_upload(
    upload: Upload,
    sheet: str | None,
    out_kind: FileKind,
    options: FileOptions,
    snapshot: Snapshot,
    clock: Clock,
    *,
    on_total: Callable[[int], None] | None = None,
    on_rows: Callable[[int], None] | None = None,
    receipts: ReceiptHook | None = None,
) -> CheckedFile:
    """Read an uploaded sheet, check every row, write the answer file: POST /v1/check/file
    and `certlookup check --file` both run this. `on_total(n)` is told the sheet's row
    count once it is read; `on_rows` as in `check_table`."""
    table = read_table(upload, sheet)
    if on_total is not None:
        on_total(table.row_count)
    writer = writer_for(out_kind, delimiter=table.delimiter, sheet_name=table.sheet_name)
    report = check_table(
        table, options, snapshot, clock, writer, on_rows=on_rows, receipts=receipts
    )
    return CheckedFile(writer.finish(), writer.media_type, writer.extension, report)
