"""GET /v1/check and POST /v1/check/batch over HTTP, on both databases."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.checks import router as check_router
from app.checks.verdicts import Clock
from app.config import Settings
from app.db import make_engine
from app.main import create_app
from app.register.sync import SyncRequest, run_sync
from tests.conftest import SAMPLE_SITE, make_settings
from tests.support.httpserver import routes_from_directory, serve


@pytest.fixture
def site() -> Iterator[object]:
    """The sample register served on 127.0.0.1; tests may edit `site.routes`."""
    with serve(routes_from_directory(SAMPLE_SITE)) as server:
        yield server


@pytest.fixture
def api_settings(database_url: str, site: object) -> Settings:
    return make_settings(database_url, source_url=site.url)  # type: ignore[attr-defined]


def _sync(settings: Settings) -> None:
    engine = make_engine(settings.sqlalchemy_url)
    try:
        assert run_sync(engine, settings, SyncRequest(trigger="test")).ok
    finally:
        engine.dispose()


@pytest.fixture
def client(api_settings: Settings) -> Iterator[TestClient]:
    _sync(api_settings)
    with TestClient(create_app(api_settings)) as test_client:
        yield test_client


def test_check_answers_with_verdict_match_and_register_stamp(client: TestClient) -> None:
    response = client.get("/v1/check", params={"name": "Severn NHS FT"})
    assert response.status_code == 200
    body = response.json()
    assert body["verdict"] == "certified"
    assert body["meets_cqc_expectation"] is True
    assert body["organisation"]["name"] == "Severn NHS Foundation Trust"
    assert body["match"]["matched_name"] == "Severn NHS Foundation Trust"
    assert body["register"]["version"] == 1
    assert body["register"]["stale"] is False
    assert body["register"]["source_url"].startswith("http://127.0.0.1")


def test_check_of_affiliate_includes_parent(client: TestClient) -> None:
    body = client.get("/v1/check", params={"name": "Kind Homes Limited"}).json()
    assert body["verdict"] == "affiliate"
    assert body["organisation"]["parent"]["name"] == "Safe-Hands® Training Ltd"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "name_empty"),
        ({"name": ""}, "name_empty"),
        ({"name": "   "}, "name_empty"),
        ({"name": "a" * 301}, "name_too_long"),
        ({"name": "Acme\x00Ltd"}, "name_invalid_characters"),
        ({"name": "Acme\x07Ltd"}, "name_invalid_characters"),
        ({"name": "Acme", "as_of": "2023-02-30"}, "invalid_date"),
        ({"name": "Acme", "as_of": "yesterday"}, "invalid_date"),
        ({"name": "Acme", "as_of": "2999-01-01"}, "date_in_future"),
        ({"name": "Acme", "setting": "ofsted"}, "invalid_setting"),
    ],
)
def test_bad_input_is_a_422_problem_with_a_stable_code(
    client: TestClient, params: dict[str, str], code: str
) -> None:
    response = client.get("/v1/check", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert body["status"] == 422
    assert body["detail"]


def test_etag_gives_304_for_the_same_answer_and_changes_with_the_question(
    client: TestClient,
) -> None:
    first = client.get("/v1/check", params={"name": "Kind Homes Ltd"})
    etag = first.headers["etag"]
    again = client.get(
        "/v1/check", params={"name": "Kind Homes Ltd"}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.headers["etag"] == etag
    other = client.get(
        "/v1/check", params={"name": "Mendip Care Group"}, headers={"If-None-Match": etag}
    )
    assert other.status_code == 200
    assert other.headers["etag"] != etag


def test_batch_answers_in_order_with_per_item_errors(client: TestClient) -> None:
    queries = [
        {"name": "Mendip Care Group"},
        {"name": ""},
        {"name": "Severn NHS FT", "as_of": "2021-13-01"},
        {"name": "St Mark's School"},
        {"name": "Open Horizons Training Ltd", "setting": "ofsted_only"},
    ]
    response = client.post("/v1/check/batch", json={"queries": queries})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert results[0]["result"]["verdict"] == "affiliate"
    assert results[1]["error"]["code"] == "name_empty"
    assert results[2]["error"]["code"] == "invalid_date"
    assert results[3]["result"]["verdict"] in {"not_listed", "needs_review"}
    assert results[4]["result"]["cqc_expectation_applies"] is False
    assert response.json()["register"]["version"] == 1


def test_batch_results_are_what_single_checks_answer(client: TestClient) -> None:
    # Fresh names go through the batch's matching of all names at once, repeated ones once.
    queries = [
        {"name": "Severn NHS Fuondation Trust"},
        {"name": "Mendip Care Gruop"},
        {"name": "St Mark's School"},
        {"name": "Kind Homes Limited", "as_of": "2020-01-01"},
        {"name": "Severn NHS Fuondation Trust"},
        {"name": "Wholly Unknown Provider"},
        {"name": "Open Horizons Training Ltd", "setting": "ofsted_only"},
    ]
    batch = client.post("/v1/check/batch", json={"queries": queries}).json()["results"]
    singles = [client.get("/v1/check", params=q).json() for q in queries]
    assert [item["result"] for item in batch] == singles
    assert {s["verdict"] for s in singles} >= {"certified", "not_listed", "unknown"}


def test_batch_of_only_bad_items_answers_each_with_its_error(client: TestClient) -> None:
    queries = [{"name": " "}, {"name": "x", "setting": "nope"}]
    response = client.post("/v1/check/batch", json={"queries": queries})
    assert response.status_code == 200
    assert [r["error"]["code"] for r in response.json()["results"]] == [
        "name_empty",
        "invalid_setting",
    ]


def test_a_batch_item_with_a_lone_surrogate_gets_its_own_error(client: TestClient) -> None:
    # Escapes as a JSON encoder writes a lone surrogate; one bad item used to fail all (500).
    content = (
        '{"queries": [{"name": "\\ud800"}, {"name": "Severn NHS FT"}, {"name": "\\udc80"},'
        ' {"name": "\\ud83d x"}, {"name": "x", "as_of": "\\ud800"},'
        ' {"name": "x", "setting": "\\udfff"}]}'
    )
    response = client.post(
        "/v1/check/batch", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[1]["result"]["verdict"] == "certified"
    codes = [item["error"] and item["error"]["code"] for item in results]
    assert codes == [
        "invalid_encoding",
        None,
        "invalid_encoding",
        "invalid_encoding",
        "invalid_date",
        "invalid_setting",
    ]


def test_batch_over_the_limit_is_rejected(client: TestClient) -> None:
    response = client.post("/v1/check/batch", json={"queries": [{"name": "x"}] * 1001})
    assert response.status_code == 413
    assert response.json()["code"] == "batch_too_large"


def test_batch_of_a_thousand_is_accepted(client: TestClient) -> None:
    response = client.post("/v1/check/batch", json={"queries": [{"name": "Acme"}] * 1000})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1000


@pytest.mark.parametrize(
    ("content", "headers", "status", "code"),
    [
        (
            "name=x",
            {"content-type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
        ),
        ("{not json", {"content-type": "application/json"}, 422, "validation_error"),
        ('{"queries": "x"}', {"content-type": "application/json"}, 422, "validation_error"),
        (
            '{"queries": [{"nom": "x"}]}',
            {"content-type": "application/json"},
            422,
            "validation_error",
        ),
    ],
)
def test_malformed_batch_bodies_are_4xx_problems(
    client: TestClient, content: str, headers: dict[str, str], status: int, code: str
) -> None:
    response = client.post("/v1/check/batch", content=content, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_before_first_sync_answers_unknown(api_settings: Settings) -> None:
    with TestClient(create_app(api_settings)) as fresh:
        body = fresh.get("/v1/check", params={"name": "Severn NHS FT"}).json()
    assert body["verdict"] == "unknown"
    assert body["register"]["version"] == 0
    assert body["register"]["stale"] is True


def test_as_of_before_first_sync_is_unknown_and_today_is_known(client: TestClient) -> None:
    old = client.get("/v1/check", params={"name": "Severn NHS FT", "as_of": "2020-01-01"})
    assert old.json()["verdict"] == "unknown"
    today = client.get(
        "/v1/check",
        params={"name": "Severn NHS FT", "as_of": old.json()["register"]["last_synced_at"][:10]},
    )
    assert today.json()["verdict"] == "certified"


def _remove_working_towards_entry(site: object) -> None:
    page = site.routes["/working-towards-certification/"]  # type: ignore[attr-defined]
    html = page.body.decode()
    start = html.index("<li", html.index('class="working-towards"'))
    end = html.index("</li>", start) + len("</li>")
    from dataclasses import replace

    site.routes["/working-towards-certification/"] = replace(  # type: ignore[attr-defined]
        page, body=(html[:start] + html[end:]).encode()
    )


def test_index_swaps_to_new_version_while_requests_are_in_flight(
    client: TestClient, api_settings: Settings, site: object
) -> None:
    """Every response during a swap is wholly from one version: stamp and verdict agree."""
    removed = "Positive Bridges Consulting Ltd"
    _remove_working_towards_entry(site)
    seen: list[tuple[int, str]] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            body = client.get("/v1/check", params={"name": removed}).json()
            seen.append((body["register"]["version"], body["verdict"]))

    workers = [threading.Thread(target=hammer) for _ in range(4)]
    for worker in workers:
        worker.start()
    try:
        _sync(api_settings)
        holder = client.app.state.holder  # type: ignore[attr-defined]
        holder.refresh()  # the poller may have swapped already
        assert holder.snapshot.info.version == 2
        client.get("/v1/check", params={"name": removed})
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert {version for version, _ in seen} >= {1, 2}
    assert all(verdict == "working_towards" for version, verdict in seen if version == 1)
    assert all(
        verdict in {"not_listed", "needs_review"} for version, verdict in seen if version == 2
    )


def _today_is(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> None:
    """GET /v1/check answers as if it were noon UTC on `day`."""
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    real = Clock.for_settings
    monkeypatch.setattr(
        Clock, "for_settings", classmethod(lambda cls, s: cls(noon, real(s).max_age_seconds))
    )


def test_a_remembered_query_is_checked_again_on_another_day(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parsed query is remembered per query string and day (app.checks.router)."""
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    path = f"/v1/check?name=Severn+NHS+FT&as_of={tomorrow.isoformat()}"
    _today_is(monkeypatch, tomorrow)
    assert client.get(path).status_code == 200  # remembered as valid on that day
    _today_is(monkeypatch, tomorrow - dt.timedelta(days=1))
    response = client.get(path)
    assert (response.status_code, response.json()["code"]) == (422, "date_in_future")


def test_a_refused_query_is_refused_every_time(client: TestClient) -> None:
    for path in ("/v1/check?name=Acme&name=Acme", "/v1/check?name=%20", "/v1/check?name=Acme"):
        first, second = client.get(path), client.get(path)
        assert (first.status_code, first.content) == (second.status_code, second.content)
    assert client.get("/v1/check?name=Acme&name=Acme").json()["code"] == "repeated_parameter"
    assert client.get("/v1/check?name=%20").json()["code"] == "name_empty"


def test_a_long_query_string_is_answered_without_being_remembered(client: TestClient) -> None:
    """Only short query strings are remembered, so unique long junk cannot fill the memory."""
    padding = "x" * (check_router.MAX_CACHED_QUERY_BYTES + 1)
    before = check_router._parsed_recently.cache_info()
    response = client.get(f"/v1/check?name=Severn+NHS+FT&note={padding}")
    assert response.json()["verdict"] == "certified"
    after = check_router._parsed_recently.cache_info()
    assert (after.hits, after.misses) == (before.hits, before.misses)


def test_a_remembered_answer_is_sent_with_the_same_headers_every_time(
    client: TestClient,
) -> None:
    """The answer's headers are built once (app.web.PrerenderedResponse); each response
    sends its own list of them."""
    first, second = (client.get("/v1/check", params={"name": "Severn NHS FT"}) for _ in "12")
    names = [name for name, _ in first.headers.multi_items()]

    assert names == [
        "etag",
        "cache-control",
        "content-length",
        "content-type",
        "x-request-id",
        "x-content-type-options",
        "referrer-policy",
        "content-security-policy",
        "x-frame-options",
    ]
    assert first.headers["content-type"] == "application/json"
    assert int(first.headers["content-length"]) == len(first.content)
    assert first.headers["cache-control"] == "private, no-cache"
    assert [n for n, _ in second.headers.multi_items()] == names
    assert second.headers["etag"] == first.headers["etag"]
    assert second.content == first.content
