"""Reading uploads: encodings, delimiters, quoting, blank rows, limits, workbooks, bombs."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from app.errors import ServiceError
from app.files.reading import MAX_DATA_ROWS, MAX_WORKBOOK_EXPANDED_BYTES, read_csv, read_xlsx
from tests.files import csv_bytes, xlsx_bytes, zip_with

HEADER = ["Ref", "Training provider", "Notes"]


def rows_of(data: bytes) -> list[list[object]]:
    return list(read_csv(data).rows())


def test_utf8_with_a_bom_is_read_without_the_bom() -> None:
    data = b"\xef\xbb\xbf" + csv_bytes([HEADER, ["B1", "Renée Café Ltd", "ok"]])
    assert rows_of(data) == [HEADER, ["B1", "Renée Café Ltd", "ok"]]


def test_windows_1252_from_excel_is_detected() -> None:
    rows = [HEADER, ["B1", "Café Training – St Mary’s", "£500"], ["B2", "Zoë Care", "fee"]]
    table = read_csv(csv_bytes(rows, encoding="cp1252"))
    assert table.encoding == "cp1252"
    assert list(table.rows()) == rows


def test_utf16_with_a_bom_and_tabs_is_read() -> None:
    rows = [HEADER, ["B1", "Kind Homes Ltd", "x"]]
    table = read_csv(csv_bytes(rows, delimiter="\t", encoding="utf-16"))
    assert table.delimiter == "\t"
    assert list(table.rows()) == rows


@pytest.mark.parametrize("delimiter", [";", "\t", ",", "|"])
def test_the_delimiter_is_sniffed(delimiter: str) -> None:
    rows = [HEADER, ["B1", "Acme, Training Ltd", "a"], [], ["B2", "Kind Homes Ltd", "b"]]
    table = read_csv(csv_bytes(rows, delimiter=delimiter))
    assert table.delimiter == delimiter
    assert list(table.rows()) == rows


def test_a_single_column_file_reads_with_the_default_delimiter() -> None:
    assert rows_of(b"Provider\r\nSt Mary's School\r\nKind Homes Ltd\r\n") == [
        ["Provider"],
        ["St Mary's School"],
        ["Kind Homes Ltd"],
    ]


def test_quoted_newlines_stay_inside_their_cell() -> None:
    rows = [HEADER, ["B1", "Kind Homes Ltd", "line one\nline two"], ["B2", "Acme", ""]]
    table = read_csv(csv_bytes(rows))
    assert table.row_count == 3
    assert list(table.rows()) == rows


def test_blank_rows_are_kept_in_place() -> None:
    table = read_csv(b"Provider\r\nA\r\n\r\n\r\nB\r\n")
    assert list(table.rows()) == [["Provider"], ["A"], [], [], ["B"]]


def test_width_is_the_widest_row() -> None:
    assert read_csv(b"a,b\r\n1,2,3,4\r\n5\r\n").width == 4


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        bytes(range(256)) * 8,
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
    ],
    ids=["png", "all-bytes", "zip"],
)
def test_a_csv_that_is_binary_is_refused(data: bytes) -> None:
    with pytest.raises(ServiceError) as caught:
        read_csv(data)
    assert (caught.value.code, caught.value.status) == ("file_not_csv", 422)


@pytest.mark.parametrize("data", [b"", b"\r\n \r\n", b"\xef\xbb\xbf"])
def test_an_empty_file_is_refused(data: bytes) -> None:
    with pytest.raises(ServiceError) as caught:
        read_csv(data)
    assert caught.value.code == "file_empty"


def test_a_cell_past_the_csv_field_limit_is_a_422() -> None:
    with pytest.raises(ServiceError) as caught:
        read_csv(b'Provider\r\n"' + b"a" * 200_000 + b'"\r\n')
    assert caught.value.code == "file_not_csv"


def test_ten_thousand_data_rows_are_accepted_and_one_more_is_a_413() -> None:
    rows = [["Provider"]] + [[f"Provider {i}"] for i in range(MAX_DATA_ROWS)]
    assert read_csv(csv_bytes(rows)).row_count == MAX_DATA_ROWS + 1
    with pytest.raises(ServiceError) as caught:
        read_csv(csv_bytes([*rows, ["one too many"]]))
    assert (caught.value.code, caught.value.status) == ("too_many_rows", 413)
    assert caught.value.extra["limit_rows"] == MAX_DATA_ROWS


def test_xlsx_first_sheet_by_default_and_another_by_name() -> None:
    data = xlsx_bytes({"Bids": [["Provider"], ["Kind Homes Ltd"]], "Other": [["Name"], ["X"]]})
    assert list(read_xlsx(data).rows()) == [["Provider"], ["Kind Homes Ltd"]]
    table = read_xlsx(data, "Other")
    assert table.sheet_name == "Other"
    assert list(table.rows()) == [["Name"], ["X"]]


def test_xlsx_unknown_sheet_names_the_sheets_there_are() -> None:
    with pytest.raises(ServiceError) as caught:
        read_xlsx(xlsx_bytes({"Bids": [["Provider"]]}), "Lot 2")
    assert caught.value.code == "sheet_not_found"
    assert "Bids" in caught.value.detail


def test_xlsx_data_away_from_a1_keeps_its_rows_and_columns() -> None:
    table = read_xlsx(
        xlsx_bytes({"S": [["Provider", "n"], [None, None], ["Acme", 3]]}, start=(2, 1))
    )
    assert (table.row_count, table.width) == (5, 3)
    rows = list(table.rows())
    assert rows[2] == ["", "Provider", "n"]
    assert rows[3] == ["", "", ""]
    assert rows[4] == ["", "Acme", 3.0]
    assert rows[0] == rows[1] == ["", "", ""]


def test_xlsx_cells_are_values_not_formulas() -> None:
    day = dt.datetime(2026, 3, 1)
    rows = list(
        read_xlsx(xlsx_bytes({"S": [["Provider", "sum", "day"], ["Acme", "=1+1", day]]})).rows()
    )
    assert rows[1][1] == 2.0
    assert rows[1][2] in (day, day.date())


def test_an_empty_sheet_has_no_rows() -> None:
    table = read_xlsx(xlsx_bytes({"S": []}))
    assert (table.row_count, list(table.rows())) == (0, [])


@pytest.mark.parametrize(
    "data",
    [b"Provider\r\nAcme\r\n", b"PK\x03\x04not really a zip", zip_with({"hello.txt": b"hi"})],
    ids=["csv", "broken-zip", "zip-not-workbook"],
)
def test_a_non_workbook_sent_as_xlsx_is_a_422(data: bytes) -> None:
    with pytest.raises(ServiceError) as caught:
        read_xlsx(data)
    assert (caught.value.code, caught.value.status) == ("file_not_xlsx", 422)


def test_a_zip_bomb_that_declares_its_size_is_refused_before_inflating() -> None:
    bomb = zip_with({"xl/worksheets/sheet1.xml": b"\0" * (MAX_WORKBOOK_EXPANDED_BYTES + 1)})
    assert len(bomb) < 200_000
    with pytest.raises(ServiceError) as caught:
        read_xlsx(bomb)
    assert (caught.value.code, caught.value.status) == ("file_too_large", 413)


def _padded_workbook_entries() -> dict[str, bytes]:
    """A real workbook's entries, its sheet padded with 5 MB of (valid) whitespace."""
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes({"S": [["Provider"], ["Acme"]]}))) as book:
        entries = {name: book.read(name) for name in book.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    entries[sheet] = entries[sheet].replace(b"</worksheet>", b" " * 5_000_000 + b"</worksheet>")
    return entries


def test_a_zip_bomb_that_lies_about_its_size_stops_at_the_declared_size() -> None:
    honest = zip_with(_padded_workbook_entries())
    assert list(read_xlsx(honest).rows()) == [["Provider"], ["Acme"]]
    liar = zip_with(_padded_workbook_entries(), lie_about_size=2_000)
    with pytest.raises(ServiceError) as caught:
        read_xlsx(liar)
    assert caught.value.code == "file_not_xlsx"
    assert "CRC" in caught.value.detail
