"""Reading an uploaded spreadsheet into rows: CSV (encoding detected, delimiter sniffed)
or the first (or a named) sheet of an XLSX workbook, with every row and column kept."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import charset_normalizer
import python_calamine

from app.errors import InvalidInput, ServiceError
from app.files.upload import FileKind, Upload

Cell = str | int | float | bool | dt.date | dt.datetime | dt.time | dt.timedelta
Row = list[Cell]

MAX_DATA_ROWS = 10_000
MAX_WORKBOOK_EXPANDED_BYTES = 64 * 1024 * 1024
MAX_WORKBOOK_ENTRIES = 1_000
SNIFF_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE, whose BOM it starts with
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Excel's UK CSV export writes Windows-1252; charset detection often cannot tell it from
# other single-byte Western code pages on a short file, so it wins whenever it is plausible.
PREFERRED_LEGACY_ENCODING = "cp1252"


@dataclass(frozen=True, slots=True)
class Table:
    """An uploaded sheet: its rows (read afresh on each call), how many, how wide."""

    kind: FileKind
    rows: Callable[[], Iterator[Row]]
    row_count: int
    width: int
    sheet_name: str | None = None
    delimiter: str = ","
    encoding: str | None = None


def not_text(detail: str) -> InvalidInput:
    """The 422 for a CSV upload that is not readable text."""
    return InvalidInput(detail, code="file_not_csv")


def _valid_utf8(data: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    view = memoryview(data)
    try:
        for start in range(0, len(view), 1 << 20):
            decoder.decode(view[start : start + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(data: bytes) -> str:
    """The text encoding of a CSV: a BOM, else UTF-8, else the detector's best (Windows-1252
    when plausible); InvalidInput when the bytes are not text at all."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    if b"\x00" in data:
        raise not_text("the file is not text (it contains NUL bytes): send a CSV or an XLSX")
    if _valid_utf8(data):
        return "utf-8"
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is None:
        raise not_text("the file is not text in any known encoding: send a CSV or an XLSX")
    if any(match.encoding == PREFERRED_LEGACY_ENCODING for match in matches):
        return PREFERRED_LEGACY_ENCODING
    return best.encoding


def _text(data: bytes, encoding: str) -> io.TextIOWrapper:
    # Decoded as it is read: no second, decoded copy of the whole file.
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors="strict", newline="")


def sniff_delimiter(sample: str) -> str:
    """The delimiter csv.Sniffer finds in the first lines (`,` when it cannot tell).

    Only the delimiter is taken: the Sniffer's quote character guesses go wrong on names
    with apostrophes ("St Mary's"), and spreadsheets quote with `"`.
    """
    cut = sample.rfind("\n")
    whole_lines = (sample[:cut] if cut > 0 else sample).splitlines()
    # Blank lines (kept in the answer) would make every delimiter look inconsistent.
    lines = "\n".join(line for line in whole_lines if line.strip())
    try:
        return csv.Sniffer().sniff(lines, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _csv_rows(data: bytes, encoding: str, delimiter: str) -> Iterator[Row]:
    with _text(data, encoding) as text:
        reader = csv.reader(text, delimiter=delimiter, quotechar='"', doublequote=True)
        try:
            yield from reader
        except (csv.Error, UnicodeDecodeError) as exc:
            raise not_text(f"the CSV cannot be read at line {reader.line_num}: {exc}") from None


def read_csv(data: bytes) -> Table:
    """A CSV upload as a table; the first pass counts rows and columns (and finds errors)."""
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise InvalidInput("the file is empty", code="file_empty")
    encoding = detect_encoding(data)
    with _text(data, encoding) as text:
        try:
            delimiter = sniff_delimiter(text.read(SNIFF_BYTES))
        except UnicodeDecodeError as exc:
            raise not_text(f"the file is not valid {encoding} text: {exc}") from None
    row_count = width = 0
    for row in _csv_rows(data, encoding, delimiter):
        row_count += 1
        width = max(width, len(row))
        _check_rows(row_count)
    return Table(
        FileKind.CSV,
        lambda: _csv_rows(data, encoding, delimiter),
        row_count,
        width,
        delimiter=delimiter,
        encoding=encoding,
    )


def _check_rows(row_count: int) -> None:
    # One header row plus the data rows.
    if row_count > MAX_DATA_ROWS + 1:
        raise ServiceError(
            f"the file has more than {MAX_DATA_ROWS:,} data rows",
            code="too_many_rows",
            status=413,
            limit_rows=MAX_DATA_ROWS,
        )


def not_a_workbook(detail: str) -> InvalidInput:
    """The 422 for an XLSX upload that is not a readable workbook."""
    return InvalidInput(detail, code="file_not_xlsx")


def _workbook_too_large() -> ServiceError:
    limit = MAX_WORKBOOK_EXPANDED_BYTES
    return ServiceError(
        f"the workbook expands to more than {limit // (1024 * 1024)} MB when unzipped",
        code="file_too_large",
        status=413,
        limit_bytes=limit,
    )


def defused_workbook(data: bytes) -> bytes:
    """The workbook's entries re-stored uncompressed, each read no further than its declared
    size and checked against its CRC, so a zip bomb cannot inflate inside the reader.

    The XLSX reader (calamine) inflates an entry to its end whatever size the archive
    declares; Python's zipfile stops at the declared size, which is checked here first.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as source:
            entries = source.infolist()
            if len(entries) > MAX_WORKBOOK_ENTRIES:
                raise _workbook_too_large()
            if sum(entry.file_size for entry in entries) > MAX_WORKBOOK_EXPANDED_BYTES:
                raise _workbook_too_large()
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
                for entry in entries:
                    target.writestr(entry.filename, source.read(entry))
            return out.getvalue()
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise not_a_workbook(f"the file is not a readable XLSX workbook: {exc}") from None


def _sheet(workbook: python_calamine.CalamineWorkbook, name: str | None) -> Table:
    names = workbook.sheet_names
    if name is not None and name not in names:
        raise InvalidInput(
            f"the workbook has no sheet named {name!r}; its sheets: {', '.join(names)}",
            code="sheet_not_found",
        )
    if not names:
        raise not_a_workbook("the workbook has no sheets")
    sheet = workbook.get_sheet_by_name(name or names[0])
    start, end = sheet.start, sheet.end
    if start is None or end is None:
        return Table(FileKind.XLSX, lambda: iter(()), 0, 0, sheet_name=sheet.name)
    _check_rows(end[0] + 1)
    pad: Row = [""] * start[1]

    def rows() -> Iterator[Row]:
        # calamine yields every row from the first, but columns from the first used one.
        for row in sheet.iter_rows():
            yield pad + row

    return Table(FileKind.XLSX, rows, end[0] + 1, end[1] + 1, sheet_name=sheet.name)


def read_xlsx(data: bytes, sheet: str | None = None) -> Table:
    """An XLSX upload's first sheet (or the named one) as a table; cell values, not formulas."""
    if not data:
        raise InvalidInput("the file is empty", code="file_empty")
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(
            io.BytesIO(defused_workbook(data))
        )
        return _sheet(workbook, sheet)
    except python_calamine.CalamineError as exc:
        raise not_a_workbook(f"the file is not a readable XLSX workbook: {exc}") from None


def read_table(upload: Upload, sheet: str | None = None) -> Table:
    """The upload's rows, whichever kind it is."""
    if upload.kind is FileKind.XLSX:
        return read_xlsx(upload.data, sheet)
    return read_csv(upload.data)
