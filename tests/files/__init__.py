"""Helpers for spreadsheet tests: build CSV and XLSX bytes, read XLSX answers back."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Sequence
from typing import Any

import python_calamine
import xlsxwriter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_bytes(
    rows: Iterable[Sequence[str]], *, delimiter: str = ",", encoding: str = "utf-8"
) -> bytes:
    """A CSV of these rows, CRLF line ends, in the given encoding."""
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return text.getvalue().encode(encoding)


def xlsx_bytes(
    sheets: dict[str, Sequence[Sequence[Any]]], *, start: tuple[int, int] = (0, 0)
) -> bytes:
    """A workbook with these sheets (in order), each sheet's rows written from `start`."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, str) and value.startswith("=") and len(value) > 1:
                    sheet.write_formula(start[0] + r, start[1] + c, value, None, 2)
                elif isinstance(value, dt.date):
                    sheet.write_datetime(start[0] + r, start[1] + c, value, dates)
                elif value is not None:
                    sheet.write(start[0] + r, start[1] + c, value)
    book.close()
    return buffer.getvalue()


def xlsx_rows(data: bytes, sheet: int = 0) -> list[list[Any]]:
    """Every row of a workbook's sheet, from A1."""
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    return book.get_sheet_by_index(sheet).to_python(skip_empty_area=False)


def csv_rows(data: bytes) -> list[list[str]]:
    """The rows of a CSV answer (UTF-8 with a BOM)."""
    assert data.startswith(b"\xef\xbb\xbf"), "answers are UTF-8 with a BOM"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def zip_with(entries: dict[str, bytes], *, lie_about_size: int | None = None) -> bytes:
    """A deflated zip; with `lie_about_size`, every entry declares that uncompressed size."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    data = buffer.getvalue()
    if lie_about_size is None:
        return data
    patched = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            real = info.file_size.to_bytes(4, "little")
            fake = lie_about_size.to_bytes(4, "little")
            # The size sits in the local header (offset 22) and the central directory.
            local = info.header_offset + 22
            assert patched[local : local + 4] == real
            patched[local : local + 4] = fake
    directory = bytes(patched).rfind(b"PK\x01\x02")
    while directory != -1:
        field = directory + 24
        patched[field : field + 4] = lie_about_size.to_bytes(4, "little")
        directory = bytes(patched).rfind(b"PK\x01\x02", 0, directory)
    return bytes(patched)
