"""The register as data: CSV exports of organisations and changes, and the analysts' filters."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.register import export
from app.register.export import CHANGE_COLUMNS, ORGANISATION_COLUMNS
from tests.api.conftest import SyncSite
from tests.api.test_register_api import PROMOTED, _problem, _second_register

ALL_STATUSES = ("certified", "affiliate", "working_towards", "removed")


def _csv(response: Any) -> list[dict[str, str]]:
    """The rows of a CSV answer, read back with the csv module (header checked)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert response.headers["vary"] == "Accept"
    text = response.content.decode("utf-8-sig")
    assert "\r\n" in text
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = list(reader)
    return rows


def _every(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    """Every organisation the JSON list gives for these filters."""
    body = client.get("/v1/organisations", params={**params, "page_size": 200}).json()
    assert body["pages"] <= 1, body
    items: list[dict[str, Any]] = body["items"]
    return items


def test_organisations_csv_has_every_row_in_the_json_order_without_the_page_limit(
    synced_client: TestClient,
) -> None:
    for request in (
        {"params": {"format": "csv"}},
        {"headers": {"Accept": "text/csv"}},
        {"headers": {"Accept": "application/json;q=0.5, text/csv"}},
    ):
        response = synced_client.get("/v1/organisations", **request)
        rows = _csv(response)
        assert tuple(rows[0].keys()) == ORGANISATION_COLUMNS
        assert [int(r["id"]) for r in rows] == [o["id"] for o in _every(synced_client)]
        assert len(rows) == 98  # the JSON default page holds 50
    as_json = synced_client.get("/v1/organisations", headers={"Accept": "text/csv;q=0.1, */*"})
    assert as_json.headers["content-type"] == "application/json"


def test_organisations_csv_values_match_the_json_detail(synced_client: TestClient) -> None:
    rows = {int(r["id"]): r for r in _csv(synced_client.get("/v1/organisations?format=csv"))}
    for item in _every(synced_client, status=ALL_STATUSES):
        row = rows[item["id"]]
        detail = synced_client.get(f"/v1/organisations/{item['id']}").json()
        for column in ("status", "certificate_number", "website", "parent_name", "note"):
            assert row[column] == export.cell(detail[column]), column
        for column in ("certified_on", "valid_until", "approved_on"):
            assert row[column] == (detail[column] or ""), column
            if row[column]:
                dt.date.fromisoformat(row[column])
        assert row["parent_id"] == (str(detail["parent"]["id"]) if detail["parent"] else "")
        assert row["settings"] == "; ".join(detail["settings"])
        assert row["regions"] == "; ".join(detail["regions"])
        trading = [n["name"] for n in detail["names"] if n["kind"] == "trading"]
        assert row["trading_names"] == export.cell(trading)
        assert row["first_seen_at"] == detail["first_seen_at"]
        assert row["first_seen_at"].endswith("Z")
        assert json.loads(row["extra"] or "{}") == detail["extra"]


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(
    synced_client: TestClient,
) -> None:
    rows = _csv(synced_client.get("/v1/organisations?format=csv"))
    leading = {r["name"][0] for r in rows if r["name"]}
    assert leading.isdisjoint({"=", "+", "-", "@", "\t", "\r"})
    plus = [r["name"] for r in rows if r["name"].startswith("'+")]
    assert plus  # "+Positive ..." on the sample register
    for value in ('=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)"):
        assert export.cell(value) == "'" + value
    assert export.cell(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)) == "2026-01-02T03:04:05Z"
    assert export.cell(["a", "b"]) == "a; b"
    assert export.cell({}) == ""


def test_csv_streams_in_chunks_and_each_chunk_is_whole_rows(
    synced_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "CHUNK_ROWS", 7)
    chunks = list(export.csv_chunks(("a", "b"), ([i, f"x{i}"] for i in range(20))))
    assert len(chunks) == 3
    assert all(chunk.endswith(b"\r\n") for chunk in chunks)
    small = _csv(synced_client.get("/v1/organisations?format=csv&status=certified"))
    assert len(small) == 46
    assert len({r["id"] for r in small}) == 46


def test_changes_csv_holds_every_change_of_the_window_oldest_first(
    synced_client: TestClient, sync_site: SyncSite
) -> None:
    second = sync_site(_second_register())
    rows = _csv(synced_client.get("/v1/changes", params={"format": "csv"}))
    assert tuple(rows[0].keys()) == CHANGE_COLUMNS
    assert len(rows) == 98 + len(second.diff.changes)  # the JSON page holds 100
    keys = [(r["observed_at"], int(r["id"])) for r in rows]
    assert keys == sorted(keys)
    promoted = next(r for r in rows if r["organisation_name"] == PROMOTED and r["kind"] != "added")
    assert (promoted["status_before"], promoted["status_after"]) == ("working_towards", "certified")
    assert promoted["effective_on"] == "2026-01-05"
    assert "certified_on" in promoted["changed_fields"].split("; ")
    assert json.loads(promoted["changes"])["certified_on"][1] == "2026-01-05"
    later = synced_client.get(
        "/v1/changes", params={"since": rows[-1]["observed_at"]}, headers={"Accept": "text/csv"}
    )
    assert [r["id"] for r in _csv(later)] == [r["id"] for r in rows[98:]]


# --- filters ------------------------------------------------------------------------------


def test_organisations_filter_by_region_and_setting_ignoring_case(
    synced_client: TestClient,
) -> None:
    every = _every(synced_client)
    london = _every(synced_client, region="london")
    assert london
    assert [o["id"] for o in london] == [o["id"] for o in every if "London" in o["regions"]]
    either = _every(synced_client, region=["London", "Wales"])
    assert len(either) == len([o for o in every if {"London", "Wales"} & set(o["regions"])])
    health = _every(synced_client, setting="HEALTH")
    assert health
    assert all("Health" in o["settings"] for o in health)
    both = _every(synced_client, setting="Health", region="London")
    assert {o["id"] for o in both} == {o["id"] for o in health} & {o["id"] for o in london}
    rows = _csv(synced_client.get("/v1/organisations?format=csv&region=London"))
    assert [int(r["id"]) for r in rows] == [o["id"] for o in london]


def test_organisations_filter_by_parent_and_lapsing_certificates(
    synced_client: TestClient,
) -> None:
    every = _every(synced_client)
    parent = next(o["parent"] for o in every if o["parent"])
    affiliates = _every(synced_client, parent_id=parent["id"])
    assert affiliates
    assert {o["parent"]["id"] for o in affiliates} == {parent["id"]}
    assert {o["status"] for o in affiliates} == {"affiliate"}
    cutoff = "2027-03-01"
    lapsing = _every(synced_client, valid_until_before=cutoff)
    expected = [o["id"] for o in every if o["valid_until"] and o["valid_until"] < cutoff]
    assert [o["id"] for o in lapsing] == expected
    assert 0 < len(expected) < len([o for o in every if o["valid_until"]])


def test_name_text_finds_what_the_matcher_of_check_matches(synced_client: TestClient) -> None:
    written = "Severn NHS Foundation Trust (Gloucester)"
    check = synced_client.get("/v1/check", params={"name": written}).json()
    assert check["verdict"] == "certified", check
    found = _every(synced_client, q=written)
    assert [o["id"] for o in found] == [check["organisation"]["id"]]
    assert _every(synced_client, q=written, status="affiliate") == []


def test_changes_filter_by_kind_and_organisation(
    synced_client: TestClient, sync_site: SyncSite
) -> None:
    sync_site(_second_register())
    every = synced_client.get("/v1/changes", params={"page_size": 200}).json()["items"]
    kinds = synced_client.get(
        "/v1/changes", params={"kind": ["renamed", "removed"], "page_size": 200}
    ).json()["items"]
    assert [e["id"] for e in kinds] == [
        e["id"] for e in every if e["kind"] in {"renamed", "removed"}
    ]
    assert {e["kind"] for e in kinds} == {"renamed", "removed"}
    promoted = next(e["organisation_id"] for e in every if e["organisation_name"] == PROMOTED)
    own = synced_client.get("/v1/changes", params={"organisation_id": promoted}).json()["items"]
    assert [e["kind"] for e in own] == ["added", "status_changed"]
    rows = _csv(synced_client.get(f"/v1/changes?format=csv&organisation_id={promoted}"))
    assert [r["kind"] for r in rows] == ["added", "status_changed"]


BAD_ORGANISATION_PARAMS = [
    ({"region": ""}, "invalid_filter"),
    ({"setting": "   "}, "invalid_filter"),
    ({"region": "x" * 101}, "invalid_filter"),
    ({"region": "North\x07West"}, "invalid_filter"),
    ({"parent_id": "0"}, "validation_error"),
    ({"parent_id": "abc"}, "validation_error"),
    ({"valid_until_before": "2026-02-30"}, "validation_error"),
    ({"valid_until_before": "soon"}, "validation_error"),
    ({"status": "lapsed"}, "validation_error"),
    ({"format": "xlsx"}, "validation_error"),
    ({"q": "x" * 301}, "invalid_query"),
]
BAD_CHANGE_FILTERS = [
    ({"kind": "deleted"}, "validation_error"),
    ({"organisation_id": "-1"}, "validation_error"),
    ({"format": "tsv"}, "validation_error"),
    ({"since": "2026-02-30", "format": "csv"}, "invalid_date"),
]


def test_bad_filter_values_are_422_problems(client: TestClient) -> None:
    for params, code in BAD_ORGANISATION_PARAMS:
        _problem(client.get("/v1/organisations", params=params), 422, code)
    control = client.get("/v1/organisations", params={"setting": "Health\x1b[31m"})
    assert "setting contains control characters" in control.json()["detail"]
    for params, code in BAD_CHANGE_FILTERS:
        _problem(client.get("/v1/changes", params=params), 422, code)
    _problem(client.get("/v1/organisations?parent_id=1&parent_id=2"), 422, "repeated_parameter")


def test_csv_of_an_empty_mirror_is_the_header_alone(client: TestClient) -> None:
    for path, columns in (("/v1/changes", CHANGE_COLUMNS),):
        response = client.get(path, params={"format": "csv"})
        assert _csv(response) == []
        assert response.content.decode("utf-8-sig").split("\r\n")[0] == ",".join(columns)


def test_csv_reads_the_database_a_chunk_at_a_time_in_name_order(
    synced_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "CHUNK_ROWS", 10)
    rows = _csv(synced_client.get("/v1/organisations", params={"format": "csv"}))
    assert [int(r["id"]) for r in rows] == [o["id"] for o in _every(synced_client)]
    changes = _csv(synced_client.get("/v1/changes", params={"format": "csv"}))
    assert len(changes) == len({r["id"] for r in changes}) == 98
