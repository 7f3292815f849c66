"""Writing the checked sheet: the original cells, then the answer columns; CSV with formula
injection neutralised, XLSX with values only (never formulas)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from typing import Protocol

import xlsxwriter

from app.files.columns import cell_text
from app.files.reading import Cell, Row
from app.files.upload import FileKind

# OWASP's list of characters that make a spreadsheet read a CSV cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_OPTIONS = {
    # Every string is written as text: a cell "=HYPERLINK(...)" stays text, not a formula.
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "constant_memory": True,  # rows go to a temporary file as they are written
    "in_memory": False,
    "nan_inf_to_errors": True,
}


def neutralise(text: str) -> str:
    """A CSV cell that a spreadsheet would run as a formula, prefixed with `'` (OWASP)."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def restore_neutralised(text: str) -> str:
    """A cell as it was before `neutralise` (reading back a file this service wrote)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


class SheetWriter(Protocol):
    """Rows in, a file out."""

    media_type: str
    extension: str

    def write(self, row: Sequence[Cell | None]) -> None: ...

    def finish(self) -> bytes: ...


class CsvWriter:
    """UTF-8 CSV with a BOM (so Excel reads it as UTF-8), in the upload's delimiter."""

    media_type = "text/csv; charset=utf-8"
    extension = "csv"

    def __init__(self, delimiter: str = ",") -> None:
        self._buffer = io.BytesIO()
        self._text = io.TextIOWrapper(self._buffer, encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._text, delimiter=delimiter, lineterminator="\r\n")

    def write(self, row: Sequence[Cell | None]) -> None:
        """Append one row; every cell neutralised."""
        self._csv.writerow(["" if cell is None else neutralise(cell_text(cell)) for cell in row])

    def finish(self) -> bytes:
        """The whole file."""
        self._text.flush()
        data = self._buffer.getvalue()
        self._text.close()
        return data


class XlsxWriter:
    """One sheet of values: text as text, numbers, booleans and dates as themselves."""

    media_type = FileKind.XLSX.media_type
    extension = "xlsx"

    def __init__(self, sheet_name: str | None = None) -> None:
        self._buffer = io.BytesIO()
        self._book = xlsxwriter.Workbook(self._buffer, XLSX_OPTIONS)
        self._sheet = self._book.add_worksheet((sheet_name or "Checked")[:31])
        self._dates = self._book.add_format({"num_format": "yyyy-mm-dd"})
        self._times = self._book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self._row = 0

    def _cell(self, column: int, value: Cell | None) -> None:
        sheet, row = self._sheet, self._row
        if value is None or value == "":
            return
        if isinstance(value, bool):
            sheet.write_boolean(row, column, value)
        elif isinstance(value, int | float):
            sheet.write_number(row, column, value)
        elif isinstance(value, dt.datetime):
            sheet.write_datetime(row, column, value.replace(tzinfo=None), self._times)
        elif isinstance(value, dt.date):
            sheet.write_datetime(row, column, value, self._dates)
        else:
            sheet.write_string(row, column, cell_text(value))

    def write(self, row: Sequence[Cell | None]) -> None:
        """Append one row."""
        for column, value in enumerate(row):
            self._cell(column, value)
        self._row += 1

    def finish(self) -> bytes:
        """The whole workbook."""
        self._book.close()
        return self._buffer.getvalue()


def writer_for(
    kind: FileKind, *, delimiter: str = ",", sheet_name: str | None = None
) -> SheetWriter:
    """A writer of the given kind."""
    if kind is FileKind.XLSX:
        return XlsxWriter(sheet_name)
    return CsvWriter(delimiter)


def padded(row: Row, width: int) -> list[Cell]:
    """The row with empty cells up to `width`, so appended columns line up."""
    return row + [""] * (width - len(row)) if len(row) < width else row
