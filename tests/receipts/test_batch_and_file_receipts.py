"""receipts=true on POST /v1/check/batch and POST /v1/check/file: one receipt per answered
item or row, its id in the answer; none for an item in error or a blank row."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db import transaction
from app.files.service import ANSWER_COLUMNS, RECEIPT_COLUMN
from app.models import Receipt
from tests.files import XLSX, csv_bytes, csv_rows, xlsx_bytes, xlsx_rows
from tests.receipts import CERTIFIED_NAME, read_key

ROWS = [
    ["Ref", "Training provider"],
    ["B1", "Severn NHS FT"],
    [],
    ["B2", ""],
    ["B3", "Nobody Training Whatsoever Ltd"],
]


def _stored(app: FastAPI) -> int:
    with transaction(app.state.engine) as session:
        return session.scalar(select(func.count()).select_from(Receipt)) or 0


def _receipt(client: TestClient, headers: dict[str, str], receipt_id: str) -> dict:  # type: ignore[type-arg]
    response = client.get(f"/v1/receipts/{receipt_id}", headers=headers)
    assert response.status_code == 200, response.text
    receipt: dict = response.json()  # type: ignore[type-arg]
    verdict = client.post("/v1/receipts/verify", json={"jws": receipt["jws"]}).json()
    assert verdict["valid"] is True
    return receipt


def test_a_batch_with_receipts_issues_one_per_answered_item(
    synced_client: TestClient, app: FastAPI
) -> None:
    headers = read_key(app)
    queries = [{"name": CERTIFIED_NAME}, {"name": " "}, {"certificate_number": "ACT5819"}]
    response = synced_client.post(
        "/v1/check/batch", params={"receipts": "true"}, json={"queries": queries}, headers=headers
    )
    assert response.status_code == 200, response.text
    first, bad, third = response.json()["results"]
    assert bad["error"]["code"] == "name_empty"
    assert bad["receipt_id"] is None
    assert first["receipt_id"] != third["receipt_id"]
    for item in (first, third):
        assert _receipt(synced_client, headers, item["receipt_id"])["result"] == item["result"]
    assert _stored(app) == 2


def test_a_batch_without_receipts_issues_none(synced_client: TestClient, app: FastAPI) -> None:
    response = synced_client.post("/v1/check/batch", json={"queries": [{"name": CERTIFIED_NAME}]})
    assert response.json()["results"][0]["receipt_id"] is None
    assert _stored(app) == 0


def test_receipts_on_a_batch_or_file_need_a_key(synced_client: TestClient, app: FastAPI) -> None:
    batch = synced_client.post(
        "/v1/check/batch", params={"receipts": "true"}, json={"queries": [{"name": "x"}]}
    )
    assert batch.status_code == 401
    upload = synced_client.post(
        "/v1/check/file",
        params={"receipts": "true"},
        content=csv_bytes(ROWS),
        headers={"Content-Type": "text/csv"},
    )
    assert upload.status_code == 401
    assert _stored(app) == 0


def test_a_csv_with_receipts_gets_a_receipt_id_column_and_a_receipt_per_checked_row(
    synced_client: TestClient, app: FastAPI
) -> None:
    headers = read_key(app)
    response = synced_client.post(
        "/v1/check/file",
        params={"receipts": "true"},
        files={"file": ("tender-114.csv", csv_bytes(ROWS), "text/csv")},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    rows = csv_rows(response.content)
    assert rows[0] == [*ROWS[0], *ANSWER_COLUMNS, RECEIPT_COLUMN]
    severn, blank, unnamed, nobody = rows[1:]
    assert blank[-1] == ""
    assert unnamed[-1] == ""
    receipt = _receipt(synced_client, headers, severn[-1])
    assert receipt["reference"] == "tender-114.csv, row 2"
    assert receipt["result"]["verdict"] == severn[2] == "certified"
    assert _receipt(synced_client, headers, nobody[-1])["reference"] == "tender-114.csv, row 5"
    assert _stored(app) == 2


def test_an_xlsx_with_receipts_gets_the_column_too(synced_client: TestClient, app: FastAPI) -> None:
    headers = {**read_key(app), "Content-Type": XLSX}
    response = synced_client.post(
        "/v1/check/file",
        params={"receipts": "true"},
        content=xlsx_bytes({"Bidders": ROWS}),
        headers=headers,
    )
    assert response.status_code == 200, response.text
    rows = xlsx_rows(response.content)
    assert rows[0][-1] == RECEIPT_COLUMN
    receipt_id = rows[1][-1]
    receipt = _receipt(synced_client, headers, receipt_id)
    assert receipt["reference"] == "row 2"


def test_a_file_without_receipts_has_no_receipt_column(
    synced_client: TestClient, app: FastAPI
) -> None:
    response = synced_client.post(
        "/v1/check/file", content=csv_bytes(ROWS), headers={"Content-Type": "text/csv"}
    )
    assert csv_rows(response.content)[0] == [*ROWS[0], *ANSWER_COLUMNS]
    assert _stored(app) == 0
