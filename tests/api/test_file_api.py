"""POST /v1/check/file over HTTP, on both databases: spreadsheets in, the same out."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from app.files.reading import MAX_DATA_ROWS
from app.files.service import ANSWER_COLUMNS
from app.files.upload import MAX_FILE_BYTES
from tests.files import XLSX, csv_bytes, csv_rows, xlsx_bytes, xlsx_rows

ROWS = [
    ["Ref", "Training provider", "Notes"],
    ["B1", "Severn NHS FT", '=HYPERLINK("http://evil.invalid")'],
    [],
    ["B2", "Kind Homes Limited", "x"],
    ["B3", "", "no name given"],
    ["B4", "Nobody Training Whatsoever Ltd", ""],
]


def post_csv(client: TestClient, body: bytes, **params: str) -> object:
    return client.post(
        "/v1/check/file", content=body, params=params, headers={"Content-Type": "text/csv"}
    )


def answers(row: list[str], width: int = 3) -> dict[str, str]:
    return dict(zip(ANSWER_COLUMNS, row[width:], strict=True))


def test_a_csv_comes_back_with_every_row_in_order_and_the_answers(
    synced_client: TestClient,
) -> None:
    response = synced_client.post(
        "/v1/check/file",
        content=csv_bytes(ROWS, delimiter=";"),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="providers-checked.csv"'
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Ref;Training provider;Notes;verdict;")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0] == [*ROWS[0], *ANSWER_COLUMNS]
    assert [row[:3] for row in rows[1:]] == [
        ["B1", "Severn NHS FT", '\'=HYPERLINK("http://evil.invalid")'],
        ["", "", ""],
        ["B2", "Kind Homes Limited", "x"],
        ["B3", "", "no name given"],
        ["B4", "Nobody Training Whatsoever Ltd", ""],
    ]
    severn, blank, kind, unnamed, nobody = (answers(row) for row in rows[1:])
    assert severn["verdict"] == "certified"
    assert severn["meets_cqc_expectation"] == "TRUE"
    assert severn["matched_name"] == "Severn NHS Foundation Trust"
    assert severn["match_method"] == "exact"
    assert severn["register_version"] == "1"
    assert severn["checked_at"].endswith("Z")
    assert set(blank.values()) == {""}
    assert (kind["verdict"], kind["parent"]) == ("affiliate", "Safe-Hands® Training Ltd")
    assert unnamed["verdict"] == ""
    assert unnamed["error"].startswith("name_empty: name must not be empty")
    assert (nobody["verdict"], nobody["meets_cqc_expectation"]) == ("not_listed", "FALSE")


def test_an_xlsx_upload_answers_an_xlsx_of_values(synced_client: TestClient) -> None:
    book = xlsx_bytes({"Lot 1": [["x"]], "Bids": [["Supplier", "Sum"], ["Severn NHS FT", "=2+2"]]})
    response = synced_client.post(
        "/v1/check/file",
        params={"sheet": "Bids"},
        files={"file": ("Tender 2026 (final).xlsx", book, XLSX)},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert 'filename="Tender_2026_final-checked.xlsx"' in response.headers["content-disposition"]
    rows = xlsx_rows(response.content)
    assert rows[0] == ["Supplier", "Sum", *ANSWER_COLUMNS]
    # The formula's value as the workbook saved it (tests.files.xlsx_bytes saves 2), not "=2+2".
    assert rows[1][:4] == ["Severn NHS FT", 2.0, "certified", True]


def test_accept_picks_the_answer_format(synced_client: TestClient) -> None:
    book = xlsx_bytes({"Bids": [["Provider"], ["Kind Homes Ltd"]]})
    response = synced_client.post(
        "/v1/check/file", content=book, headers={"Content-Type": XLSX, "Accept": "text/csv"}
    )
    assert response.status_code == 200
    assert csv_rows(response.content)[1][:2] == ["Kind Homes Ltd", "affiliate"]
    response = synced_client.post(
        "/v1/check/file",
        files={"file": ("bids.csv", b"Provider\r\nKind Homes Ltd\r\n", "application/vnd.ms-excel")},
        headers={"Accept": f"application/json;q=0.9, {XLSX}"},
    )
    assert response.headers["content-type"] == XLSX
    assert xlsx_rows(response.content)[1][:2] == ["Kind Homes Ltd", "affiliate"]


def test_a_file_without_a_header_gets_one_and_its_first_row_is_checked(
    synced_client: TestClient,
) -> None:
    response = post_csv(synced_client, b"Severn NHS FT\r\nKind Homes Ltd\r\n")
    rows = csv_rows(response.content)
    assert rows[0] == ["", *ANSWER_COLUMNS]
    assert [row[:2] for row in rows[1:]] == [
        ["Severn NHS FT", "certified"],
        ["Kind Homes Ltd", "affiliate"],
    ]


def test_column_as_of_and_setting_apply_to_every_row(synced_client: TestClient) -> None:
    body = csv_bytes([["Ref", "Bidder"], ["1", "Severn NHS FT"]])
    response = post_csv(synced_client, body, column="2", setting="ofsted_only")
    row = answers(csv_rows(response.content)[1], width=2)
    assert row["verdict"] == "certified"
    assert row["meets_cqc_expectation"] == ""
    assert row["warnings"] == "cqc_not_applicable"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"as_of": "2026-02-30"}, "invalid_date"),
        ({"setting": "ofsted"}, "invalid_setting"),
        ({"column": "Supplier"}, "column_not_found"),
    ],
)
def test_bad_options_are_a_422(
    synced_client: TestClient, params: dict[str, str], code: str
) -> None:
    response = post_csv(synced_client, csv_bytes(ROWS), **params)
    assert response.status_code == 422
    assert response.json()["code"] == code


def test_a_body_that_is_not_a_spreadsheet_is_a_415(synced_client: TestClient) -> None:
    response = synced_client.post(
        "/v1/check/file", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_an_answer_format_nobody_offers_is_a_406(synced_client: TestClient) -> None:
    response = synced_client.post(
        "/v1/check/file",
        content=b"Provider\r\nAcme\r\n",
        headers={"Content-Type": "text/csv", "Accept": "application/json"},
    )
    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"


def test_a_file_over_ten_megabytes_is_a_413_with_the_limit(synced_client: TestClient) -> None:
    body = b"Provider\r\n" + b"A" * MAX_FILE_BYTES
    response = post_csv(synced_client, body)
    assert response.status_code == 413
    problem = response.json()
    assert (problem["code"], problem["limit_bytes"]) == ("file_too_large", MAX_FILE_BYTES)
    response = synced_client.post("/v1/check/file", files={"file": ("big.csv", body, "text/csv")})
    assert (response.status_code, response.json()["code"]) == (413, "file_too_large")


def test_more_than_ten_thousand_rows_is_a_413(synced_client: TestClient) -> None:
    body = b"Provider\r\n" + b"Acme\r\n" * (MAX_DATA_ROWS + 1)
    response = post_csv(synced_client, body)
    assert response.status_code == 413
    assert response.json()["limit_rows"] == MAX_DATA_ROWS


@pytest.mark.parametrize(
    ("content_type", "body", "code"),
    [
        (XLSX, b"Provider\r\nAcme\r\n", "file_not_xlsx"),
        ("text/csv", b"\x00\x01\x02binary\x00", "file_not_csv"),
        ("text/csv", b"", "file_empty"),
    ],
)
def test_unreadable_files_are_a_422(
    synced_client: TestClient, content_type: str, body: bytes, code: str
) -> None:
    response = synced_client.post(
        "/v1/check/file", content=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == 422
    assert response.json()["code"] == code


def test_a_multipart_body_without_a_file_field_is_a_422(synced_client: TestClient) -> None:
    response = synced_client.post("/v1/check/file", files={"upload": ("a.csv", b"x", "text/csv")})
    assert (response.status_code, response.json()["code"]) == (422, "file_missing")


def test_a_multipart_body_with_other_fields_is_a_422(synced_client: TestClient) -> None:
    response = synced_client.post(
        "/v1/check/file",
        data={"column": "2"},
        files={"file": ("a.csv", b"Provider\r\nAcme\r\n", "text/csv")},
    )
    assert (response.status_code, response.json()["code"]) == (422, "invalid_file")
    assert "column" in response.json()["detail"]
