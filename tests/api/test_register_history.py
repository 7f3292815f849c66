"""GET /v1/register/history against the mirror, after a scripted sequence of syncs on a
scripted clock (the register served on 127.0.0.1, as in the other sync tests)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.register import repository
from app.register import sync as sync_module
from tests.api.conftest import SyncSite, register_dev
from tests.api.test_register_api import (
    DROPPED,
    PROMOTED,
    RENAMED_TO,
    _problem,
    _second_register,
)
from tests.support.sitegen import generate_site, renamed

STATUSES = ("certified", "affiliate", "working_towards", "removed")
LATE = "Steady Practice Training Ltd"  # working towards, certified on 10 March, seen in April
LATE_CERTIFIED_ON = "2026-03-10"
RELEASED = "Clear Approaches Associates Ltd"  # working towards, gone in April


def _at(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 3, 0, tzinfo=dt.UTC)


def _third_register() -> dict[str, bytes]:
    """April: the February register, one more certification (dated 10 March by the
    register) and one more removal."""
    orgs = register_dev()
    orgs[0] = renamed(orgs[0], RENAMED_TO)
    replaced = {
        PROMOTED: _certified(PROMOTED, "2026-01-05", "Health", "London"),
        LATE: _certified(LATE, LATE_CERTIFIED_ON, "Social care", "Wales"),
    }
    kept = [replaced.get(o["name"], o) for o in orgs if o["name"] not in {DROPPED, RELEASED}]
    return generate_site(kept, seed=3)


def _certified(name: str, certified_on: str, setting: str, region: str) -> dict[str, Any]:
    return {
        "name": name,
        "status": "certified",
        "aliases": [],
        "certified_on": certified_on,
        "settings": [setting],
        "regions": [region],
    }


SCRIPT = [
    (_at(2026, 1, 10), None),  # the sample register
    (_at(2026, 2, 15), _second_register),  # rename, promotion, removal
    (_at(2026, 2, 20), _second_register),  # unchanged
    (_at(2026, 4, 2), _third_register),  # a certification dated in March, a removal
]


@pytest.fixture
def scripted(
    client: TestClient, sync_site: SyncSite, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[dt.datetime, dict[str, int]]]:
    """Run SCRIPT; each sync's time and the mirror's counts per status right after it."""
    seen = []
    for moment, pages in SCRIPT:
        monkeypatch.setattr(sync_module, "utcnow", lambda moment=moment: moment)
        monkeypatch.setattr(repository, "utcnow", lambda moment=moment: moment)
        sync_site(pages() if pages else None)
        counts = client.get("/v1/register").json()["counts"]
        seen.append((moment, counts))
    return seen


def _history(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/register/history", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _by_start(body: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {p["start"]: p["counts"] for p in body["items"]}


def test_monthly_counts_agree_with_the_mirror_after_each_sync(
    client: TestClient, scripted: list[tuple[dt.datetime, dict[str, int]]]
) -> None:
    body = _history(client)
    assert body["interval"] == "month"
    assert body["memory_begins"] == "2026-01-10T03:00:00Z"
    assert body["memory_ends"] == "2026-04-02T03:00:00Z"
    months = _by_start(body)
    assert list(months) == ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]
    (_, january), _, (_, february), (_, april) = scripted
    assert months["2026-01-01"] == january
    assert months["2026-02-01"] == february
    assert months["2026-04-01"] == april
    # The register dates LATE's certification 10 March: counted in March, though the mirror
    # only saw it in April.
    march = dict(february)
    march["certified"] += 1
    march["working_towards"] -= 1
    assert months["2026-03-01"] == march
    assert january == {"certified": 46, "affiliate": 38, "working_towards": 14, "removed": 0}
    for period in body["items"]:
        listed = sum(period["counts"][s] for s in STATUSES[:3])
        assert period["listed_total"] == listed
    assert body["items"][-1]["counted_at"] == "2026-04-02T03:00:00Z"
    assert body["items"][0]["counted_at"] == "2026-02-01T00:00:00Z"


def test_daily_and_weekly_counts_agree_with_the_mirror_on_each_sync_day(
    client: TestClient, scripted: list[tuple[dt.datetime, dict[str, int]]]
) -> None:
    days = _by_start(_history(client, interval="day"))
    assert len(days) == (dt.date(2026, 4, 2) - dt.date(2026, 1, 10)).days + 1
    for moment, counts in scripted:
        assert days[moment.date().isoformat()] == counts, moment
    assert days["2026-03-09"]["certified"] + 1 == days["2026-03-10"]["certified"]
    weeks = _history(client, interval="week")["items"]
    assert weeks[0]["start"] == "2026-01-05"  # the Monday of the first sync's week
    assert all(dt.date.fromisoformat(w["start"]).weekday() == 0 for w in weeks)
    assert weeks[-1]["counts"] == scripted[-1][1]


def test_history_by_region_and_setting_counts_those_organisations(
    client: TestClient, scripted: list[tuple[dt.datetime, dict[str, int]]]
) -> None:
    for params in ({"region": "london"}, {"setting": "Health"}, {"region": ["Wales", "London"]}):
        last = _history(client, **params)["items"][-1]["counts"]
        listed = client.get(
            "/v1/organisations", params={**params, "status": STATUSES, "page_size": 200}
        ).json()["items"]
        assert last == {s: sum(1 for o in listed if o["status"] == s) for s in STATUSES}
        assert 0 < sum(last.values()) < 98


def test_history_as_csv_has_the_same_rows(
    client: TestClient, scripted: list[tuple[dt.datetime, dict[str, int]]]
) -> None:
    body = _history(client)
    response = client.get("/v1/register/history", params={"format": "csv"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert [r["start"] for r in rows] == [p["start"] for p in body["items"]]
    for row, period in zip(rows, body["items"], strict=True):
        assert {s: int(row[s]) for s in STATUSES} == period["counts"]
        assert int(row["listed_total"]) == period["listed_total"]
        assert row["counted_at"] == period["counted_at"]


def test_history_of_an_empty_mirror_is_empty_and_bad_values_are_422(client: TestClient) -> None:
    body = _history(client)
    assert (body["items"], body["memory_begins"]) == ([], None)
    _problem(client.get("/v1/register/history?interval=year"), 422, "validation_error")
    _problem(client.get("/v1/register/history?region="), 422, "invalid_filter")
    _problem(client.get("/v1/register/history?format=xml"), 422, "validation_error")
    _problem(
        client.get("/v1/register/history?interval=day&interval=week"), 422, "repeated_parameter"
    )
