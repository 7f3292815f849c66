"""Choosing columns by header or position, and writing answers without formulas."""

from __future__ import annotations

import io
import zipfile

import pytest

from app.errors import ServiceError
from app.files.columns import ColumnPlan, cell_text, plan_columns
from app.files.writing import CsvWriter, XlsxWriter, neutralise
from tests.files import csv_rows, xlsx_rows


@pytest.mark.parametrize(
    "header",
    ["Provider", "Training provider", "SUPPLIER NAME", "Organisation:", "organization", "Name"],
)
def test_the_name_column_is_found_by_its_header(header: str) -> None:
    plan = plan_columns(["Ref", header, "Notes"], 3)
    assert plan == ColumnPlan(has_header=True, name=1)


def test_a_provider_header_wins_over_a_plain_name_header() -> None:
    assert plan_columns(["Name", "Contact name", "Provider"], 3).name == 2


def test_identifier_columns_are_found_by_their_headers() -> None:
    plan = plan_columns(["Supplier", "Certificate No.", "Web site"], 3)
    assert (plan.name, plan.certificate, plan.website) == (0, 1, 2)


def test_without_a_known_header_the_first_column_is_read_and_row_one_is_data() -> None:
    plan = plan_columns(["Kind Homes Ltd", "x"], 2)
    assert plan == ColumnPlan(has_header=False, name=0)


@pytest.mark.parametrize(
    ("choice", "expected", "has_header"),
    [("2", 1, False), (" bidder org ", 2, True), ("Bidder org", 2, True)],
)
def test_the_caller_picks_a_column_by_position_or_header_text(
    choice: str, expected: int, has_header: bool
) -> None:
    plan = plan_columns(["Ref", "Lot", "Bidder org"], 3, column=choice)
    assert (plan.name, plan.has_header) == (expected, has_header)


@pytest.mark.parametrize(
    ("options", "mentions"),
    [
        ({"column": "Supplier"}, "column='Supplier'"),
        ({"column": "4"}, "3 column(s)"),
        ({"column": "0"}, "3 column(s)"),
        ({"certificate_column": "Cert"}, "certificate_column"),
        ({"website_column": "9"}, "website_column"),
    ],
)
def test_an_unknown_column_is_a_422_naming_the_parameter(
    options: dict[str, str], mentions: str
) -> None:
    with pytest.raises(ServiceError) as caught:
        plan_columns(["Ref", "Lot", "Bidder org"], 3, **options)
    assert caught.value.code == "column_not_found"
    assert mentions in caught.value.detail


@pytest.mark.parametrize(
    ("value", "text"), [(3.0, "3"), (2.5, "2.5"), (True, "TRUE"), ("x", "x"), (7, "7")]
)
def test_cells_read_as_text(value: object, text: str) -> None:
    assert cell_text(value) == text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Acme = Best", "Acme = Best"),
        ("", ""),
    ],
)
def test_csv_cells_that_would_run_as_formulas_are_neutralised(cell: str, written: str) -> None:
    assert neutralise(cell) == written
    writer = CsvWriter()
    writer.write([cell, "=also"])
    assert csv_rows(writer.finish()) == [[written, "'=also"]]


def test_xlsx_answers_hold_values_and_never_formulas() -> None:
    writer = XlsxWriter("Bids")
    writer.write(["=1+1", "+SUM(A1)", 3.0, True, None, "@x"])
    data = writer.finish()
    assert xlsx_rows(data) == [["=1+1", "+SUM(A1)", 3.0, True, "", "@x"]]
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet
    assert b"<f " not in sheet
