"""Browse endpoints over HTTP on both databases: organisations, changes, register, sync runs."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.auth.keys import Scope, create_key
from app.checks.normalise import fold_text
from app.config import Settings
from app.db import make_engine, transaction
from app.register.locks import sync_lock
from tests.api.conftest import SyncSite, register_dev
from tests.register import CERTIFIED, edited
from tests.support.httpserver import LocalServer, Request, Response, Route, routes_from_site
from tests.support.sitegen import generate_site, renamed

PROBLEM_JSON = "application/problem+json"


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["detail"]
    return body


def _by_name(client: TestClient, name: str) -> dict[str, Any]:
    items = client.get("/v1/organisations", params={"q": name, "status": list(STATUSES)})
    return next(o for o in items.json()["items"] if o["name"] == name)


STATUSES = ("certified", "affiliate", "working_towards", "removed")
RENAMED_FROM, RENAMED_TO = "Beacon\u2011Path Consultancy", "Brand New Name Ltd"
PROMOTED = "Positive Bridges Consulting Ltd"  # working towards, then certified
DROPPED = "Beacon Futures Associates Ltd"  # working towards, then gone


def _publish(site: LocalServer, pages: dict[str, bytes]) -> None:
    """Make `site` serve these pages from now on."""
    site.routes.clear()
    site.routes.update(routes_from_site(pages))


def _second_register() -> dict[str, bytes]:
    """The sample register a month later: one rename, one promotion, one removal."""
    orgs = register_dev()
    orgs[0] = renamed(orgs[0], RENAMED_TO)
    promoted = next(i for i, o in enumerate(orgs) if o["name"] == PROMOTED)
    orgs[promoted] = {
        "name": PROMOTED,
        "status": "certified",
        "aliases": [],
        "certified_on": "2026-01-05",
        "settings": ["Health"],
        "regions": ["London"],
    }
    orgs = [o for o in orgs if o["name"] != DROPPED]
    return generate_site(orgs, seed=3)


# --- organisations ------------------------------------------------------------------------


def test_list_defaults_to_every_listed_organisation_in_name_order(
    synced_client: TestClient,
) -> None:
    response = synced_client.get("/v1/organisations", params={"page_size": 200})
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["page"], body["page_size"], body["pages"]) == (98, 1, 200, 1)
    assert Counter(o["status"] for o in body["items"]) == {
        "certified": 46,
        "affiliate": 38,
        "working_towards": 14,
    }
    names = [fold_text(o["name"]) for o in body["items"]]  # "+Positive" sorts under P
    assert names == sorted(names)
    assert names[0].startswith("b")
    assert body["register"]["version"] == 1
    assert body["register"]["stale"] is False


STATUS_TOTALS = [
    (["certified"], 46),
    (["affiliate"], 38),
    (["working_towards"], 14),
    (["removed"], 0),
    (["certified", "affiliate"], 84),
]


def test_status_filter_limits_to_those_statuses(synced_client: TestClient) -> None:
    for statuses, total in STATUS_TOTALS:
        body = synced_client.get("/v1/organisations", params={"status": statuses}).json()
        assert body["total"] == total, statuses
        assert {o["status"] for o in body["items"]} <= set(statuses)


SEARCHES = [
    ("sévern NHS FT", "Severn NHS Foundation Trust"),  # accents, case, NHS FT spelling
    ("safe hands training limited", "Safe-Hands® Training Ltd"),  # punctuation, Ltd
    ("beaconpath", RENAMED_FROM),  # joined compound
    ("WIRRAL MINDS", "Clear Foundations Limited"),  # a former name
    ("calmpath", "Evolve & Thrive Training Ltd"),  # a trading name
    ("positive and safer", "Positive & Safer Training Ltd"),  # & vs and
]


def test_search_matches_any_known_name_ignoring_case_accents_and_forms(
    synced_client: TestClient,
) -> None:
    for q, expected in SEARCHES:
        body = synced_client.get("/v1/organisations", params={"q": q}).json()
        assert expected in [o["name"] for o in body["items"]], q
        assert body["total"] == len(body["items"]) < 10, q


def test_search_combines_with_status_and_finds_nothing_for_unknown_text(
    synced_client: TestClient,
) -> None:
    wirral = synced_client.get("/v1/organisations", params={"q": "wirral"}).json()
    assert wirral["total"] >= 2
    only = synced_client.get(
        "/v1/organisations", params={"q": "wirral", "status": "affiliate"}
    ).json()
    assert 0 < only["total"] < wirral["total"]
    assert {o["status"] for o in only["items"]} == {"affiliate"}
    for q in ("zzzz no such provider", "!!!"):
        assert synced_client.get("/v1/organisations", params={"q": q}).json()["total"] == 0


def test_pages_carry_totals_and_links_that_keep_the_filters(synced_client: TestClient) -> None:
    params = {"status": "certified", "page_size": 20, "page": 2}
    body = synced_client.get("/v1/organisations", params=params).json()
    assert (body["total"], body["page"], body["pages"], len(body["items"])) == (46, 2, 3, 20)
    links = body["links"]
    assert links["self"] == "/v1/organisations?status=certified&page_size=20&page=2"
    assert links["first"].endswith("page=1")
    assert links["last"].endswith("page=3")
    assert links["prev"].endswith("page=1")
    assert links["next"].endswith("page=3")
    last = synced_client.get(links["next"]).json()
    assert len(last["items"]) == 6
    assert last["links"]["next"] is None
    first = synced_client.get(links["first"]).json()
    assert first["links"]["prev"] is None
    seen = [o["id"] for page in (first, body, last) for o in page["items"]]
    assert len(set(seen)) == 46
    beyond = synced_client.get("/v1/organisations", params={"page": 9}).json()
    assert beyond["items"] == []
    assert beyond["links"]["next"] is None


def test_detail_has_every_field_parent_affiliates_and_history(
    synced_client: TestClient,
) -> None:
    affiliate = _by_name(synced_client, "Calder County Council")
    detail = synced_client.get(f"/v1/organisations/{affiliate['id']}").json()
    assert detail["status"] == "affiliate"
    assert detail["parent"]["name"] == "Positive & Safer Training Ltd"
    assert detail["parent"]["status"] == "certified"
    assert detail["approved_on"] == "2022-08-01"
    assert detail["first_seen_at"].endswith("Z")
    assert detail["removed_at"] is None
    assert detail["source_url"].endswith("/affiliate-organisations/")
    [added] = detail["history"]
    assert added["kind"] == "added"
    assert added["status_after"] == "affiliate"
    assert added["registry_version"] == 1
    assert added["observed_at"].endswith("Z")
    parent = synced_client.get(f"/v1/organisations/{detail['parent']['id']}").json()
    assert affiliate["id"] in [a["id"] for a in parent["affiliates"]]
    assert {a["status"] for a in parent["affiliates"]} == {"affiliate"}
    assert parent["register"]["version"] == 1
    trading = _by_name(synced_client, "Evolve & Thrive Training Ltd")
    names = synced_client.get(f"/v1/organisations/{trading['id']}").json()["names"]
    assert {"name": "CalmPath Training", "kind": "trading"} in names


def test_detail_shows_renames_status_changes_and_removals_after_a_second_sync(
    synced_client: TestClient, sync_site: SyncSite
) -> None:
    ids = {name: _by_name(synced_client, name)["id"] for name in (RENAMED_FROM, PROMOTED, DROPPED)}
    sync_site(_second_register())
    renamed_org = synced_client.get(f"/v1/organisations/{ids[RENAMED_FROM]}").json()
    assert renamed_org["name"] == RENAMED_TO
    assert {"name": RENAMED_FROM, "kind": "former"} in renamed_org["names"]
    kinds = [e["kind"] for e in renamed_org["history"]]
    assert kinds == ["added", "renamed"]
    assert renamed_org["history"][1]["changes"]["name"] == [RENAMED_FROM, RENAMED_TO]
    assert renamed_org["history"][1]["registry_version"] == 2
    promoted = synced_client.get(f"/v1/organisations/{ids[PROMOTED]}").json()
    change = promoted["history"][-1]
    assert (change["kind"], change["status_before"], change["status_after"]) == (
        "status_changed",
        "working_towards",
        "certified",
    )
    assert change["effective_on"] == "2026-01-05"
    dropped = synced_client.get(f"/v1/organisations/{ids[DROPPED]}").json()
    assert dropped["status"] == "removed"
    assert dropped["removed_at"] is not None
    assert dropped["history"][-1]["kind"] == "removed"
    removed = synced_client.get("/v1/organisations", params={"status": "removed"}).json()
    assert [o["id"] for o in removed["items"]] == [ids[DROPPED]]
    default = synced_client.get("/v1/organisations", params={"page_size": 200}).json()
    assert default["total"] == 97
    assert default["register"]["version"] == 2


def test_unknown_organisation_is_a_404_problem(synced_client: TestClient) -> None:
    body = _problem(synced_client.get("/v1/organisations/99999"), 404, "organisation_not_found")
    assert "99999" in body["detail"]


# --- changes ------------------------------------------------------------------------------


def test_changes_window_is_start_inclusive_and_end_exclusive(
    synced_client: TestClient, sync_site: SyncSite
) -> None:
    second = sync_site(_second_register())
    every = synced_client.get("/v1/changes", params={"page_size": 200}).json()
    events = every["items"]
    assert len(events) == 98 + len(second.diff.changes)
    keys = [(e["observed_at"], e["id"]) for e in events]
    assert keys == sorted(keys)
    first_seen, second_seen = events[0]["observed_at"], events[-1]["observed_at"]
    assert first_seen < second_seen
    assert {e["kind"] for e in events[:98]} == {"added"}
    later = synced_client.get("/v1/changes", params={"since": second_seen}).json()["items"]
    assert len(later) == len(second.diff.changes)
    assert {"renamed", "status_changed", "removed"} <= {e["kind"] for e in later}
    earlier = synced_client.get("/v1/changes", params={"until": second_seen, "page_size": 200})
    assert [e["id"] for e in earlier.json()["items"]] == [e["id"] for e in events[:98]]
    renamed_event = next(e for e in later if e["kind"] == "renamed")
    assert renamed_event["organisation_name"] == RENAMED_TO
    assert isinstance(renamed_event["organisation_id"], int)
    today = first_seen[:10]
    tomorrow = (dt.date.fromisoformat(today) + dt.timedelta(days=1)).isoformat()
    by_date = synced_client.get(
        "/v1/changes", params={"since": today, "until": tomorrow, "page_size": 200}
    ).json()
    assert len(by_date["items"]) == len(events)  # a date means midnight UTC
    assert by_date["since"] == f"{today}T00:00:00Z"
    assert synced_client.get("/v1/changes", params={"until": today}).json()["items"] == []


def test_changes_are_paged_by_cursor_without_gaps_or_repeats(synced_client: TestClient) -> None:
    seen: list[int] = []
    url: str | None = "/v1/changes?page_size=40&since=2000-01-01"
    pages = 0
    while url:
        body = synced_client.get(url).json()
        seen += [e["id"] for e in body["items"]]
        url = body["links"]["next"]
        assert (url is None) == (body["next_cursor"] is None)
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 98


BAD_CHANGE_PARAMS = [
    ({"since": "2026-02-30"}, "invalid_date"),
    ({"since": "yesterday"}, "invalid_date"),
    ({"until": "2026-13-01T00:00:00Z"}, "invalid_date"),
    ({"since": "2026-01-01T10:00:00"}, "invalid_date"),  # no time zone
    ({"since": "0001-01-01T00:00:00+01:00"}, "invalid_date"),  # before year 1 in UTC
    ({"since": "2026-01-02", "until": "2026-01-01"}, "invalid_date_range"),
    ({"since": "2026-01-01", "until": "2026-01-01T00:00:00Z"}, "invalid_date_range"),
    ({"cursor": "not-a-cursor"}, "invalid_cursor"),
    ({"cursor": "MjAyNi0wMS0wMQ"}, "invalid_cursor"),  # base64 of a bare date
    ({"page_size": "0"}, "validation_error"),
    ({"page_size": "201"}, "validation_error"),
]


def test_bad_change_parameters_are_422_problems(client: TestClient) -> None:
    for params, code in BAD_CHANGE_PARAMS:
        _problem(client.get("/v1/changes", params=params), 422, code)


def test_changes_accept_offsets_and_an_unencoded_plus(synced_client: TestClient) -> None:
    for since in ("2000-01-01T01:00:00+01:00", "2000-01-01T01:00:00 01:00"):
        body = synced_client.get(f"/v1/changes?since={since}").json()
        assert body["since"] == "2000-01-01T00:00:00Z"
        assert len(body["items"]) == 98


# --- register catalog ---------------------------------------------------------------------


def test_register_catalog_reports_version_counts_and_sync_times(
    synced_client: TestClient, site: LocalServer
) -> None:
    body = synced_client.get("/v1/register").json()
    assert body["version"] == 1
    assert body["counts"] == {"certified": 46, "affiliate": 38, "working_towards": 14, "removed": 0}
    assert (body["listed_total"], body["organisation_total"]) == (98, 98)
    assert body["source_url"] == site.url
    assert body["stale"] is False
    assert body["max_age_hours"] == 72
    synced = dt.datetime.fromisoformat(body["last_synced_at"])
    assert synced.utcoffset() == dt.timedelta(0)
    assert body["first_synced_at"] == body["last_synced_at"] <= body["last_attempted_at"]
    assert body["register"]["version"] == 1


def test_register_catalog_of_an_empty_mirror_is_stale(client: TestClient) -> None:
    body = client.get("/v1/register").json()
    assert (body["version"], body["organisation_total"], body["stale"]) == (0, 0, True)
    assert body["last_synced_at"] is None


# --- sync runs ----------------------------------------------------------------------------


def test_sync_runs_list_newest_first_with_outcome_and_counts(
    synced_client: TestClient, sync_site: SyncSite
) -> None:
    sync_site()  # the same register again: unchanged
    body = synced_client.get("/v1/sync-runs").json()
    assert body["total"] == 2
    assert body["pages"] == 1
    newest, first = body["items"]
    assert (newest["outcome"], newest["added"], newest["registry_version"]) == ("unchanged", 0, 1)
    assert (first["outcome"], first["added"], first["rows_seen"]) == ("applied", 98, 98)
    assert first["trigger"] == "test"
    assert first["forced"] is False
    assert first["reason"] is None
    assert first["pages_fetched"] == 6
    assert first["duration_ms"] >= 0
    assert first["finished_at"] >= first["started_at"]
    paged = synced_client.get("/v1/sync-runs", params={"page_size": 1, "page": 2}).json()
    assert [r["id"] for r in paged["items"]] == [first["id"]]
    assert paged["links"]["prev"].endswith("page=1")


def test_a_website_that_is_not_http_is_dropped_with_a_warning_on_the_run(
    synced_client: TestClient, site: LocalServer, sync_site: SyncSite
) -> None:
    site.routes[CERTIFIED] = edited(
        CERTIFIED,
        lambda page: page.replace(
            'href="https://www.oconnellreesassociatesll.example.org.uk/"',
            'href="javascript:alert(1)"',
        ),
    )
    sync_site()

    run = synced_client.get("/v1/sync-runs").json()["items"][0]
    assert (run["outcome"], run["changed"]) == ("applied", 1)
    assert run["warnings"] == [
        f'{site.url}{CERTIFIED}: "O\'Connell & Rees Associates LLP": website '
        "'javascript:alert(1)' dropped: not an http(s) address"
    ]
    assert _by_name(synced_client, "O'Connell & Rees Associates LLP")["website"] is None
    assert synced_client.get("/v1/sync-runs").json()["items"][1]["warnings"] == []


def _hold_pages(site: LocalServer) -> threading.Event:
    """Make every page of `site` wait for the returned event (10 s at most): a sync of it
    stays `running` until the test sets the event."""
    gate = threading.Event()
    for path, route in list(site.routes.items()):
        site.routes[path] = _held(route, gate)
    return gate


def _held(route: Route, gate: threading.Event) -> Callable[[Request], Response]:
    def respond(request: Request) -> Response:
        gate.wait(10)
        return route if isinstance(route, Response) else route(request)

    return respond


def _started(response: Any) -> str:
    """The Location of a sync started with 202, after checking the answer says `running`."""
    assert response.status_code == 202, response.text
    run = response.json()
    assert (run["outcome"], run["trigger"], run["finished_at"]) == ("running", "api", None)
    location: str = response.headers["location"]
    assert location == f"/v1/sync-runs/{run['id']}"
    return location


def _finished(client: TestClient, location: str, timeout: float = 20.0) -> dict[str, Any]:
    """Poll a run until its outcome is no longer `running` (at most `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(location)
        assert response.status_code == 200, response.text
        run: dict[str, Any] = response.json()
        if run["outcome"] != "running":
            return run
        assert time.monotonic() < deadline, f"{location} still running after {timeout} s"
        time.sleep(0.05)


def _index_version(client: TestClient, wanted: int, timeout: float = 10.0) -> int:
    """The index version, once it is `wanted` (the refresh follows the run's commit)."""
    deadline = time.monotonic() + timeout
    while (version := client.get("/v1/register").json()["version"]) != wanted:
        assert time.monotonic() < deadline, f"index still at version {version}"
        time.sleep(0.05)
    return version


def _applied_syncs(client: TestClient) -> float:
    """This process's count of applied syncs, from /metrics."""
    metrics = client.get("/metrics").text
    found = re.search(r'^certlookup_sync_runs_total\{outcome="applied"\} (\S+)$', metrics, re.M)
    assert found, metrics
    return float(found[1])


def test_post_sync_run_answers_202_at_once_and_the_run_applies_in_the_background(
    synced_client: TestClient, site: LocalServer, as_admin: object
) -> None:
    _publish(site, _second_register())
    applied_before = _applied_syncs(synced_client)
    gate = _hold_pages(site)
    try:
        response = synced_client.post("/v1/sync-runs", json={"force": False})
        location = _started(response)
        assert response.json()["id"] == 2
        assert synced_client.get(location).json() == response.json()
        assert synced_client.get("/v1/register").json()["version"] == 1
    finally:
        gate.set()
    run = _finished(synced_client, location)
    assert (run["outcome"], run["registry_version"], run["removed"]) == ("applied", 2, 1)
    assert run["finished_at"] >= run["started_at"]
    # This process's index moves on as soon as the run ends: lookups see version 2.
    assert _index_version(synced_client, 2) == 2
    assert _applied_syncs(synced_client) == applied_before + 1  # counted before the refresh
    check = synced_client.get("/v1/check", params={"name": RENAMED_TO}).json()
    assert (check["register"]["version"], check["verdict"]) == (2, "certified")
    runs = synced_client.get("/v1/sync-runs").json()["items"]
    assert [r["id"] for r in runs] == [2, 1]


def test_post_sync_run_without_body_and_dry_run(
    synced_client: TestClient, site: LocalServer, as_admin: object
) -> None:
    location = _started(synced_client.post("/v1/sync-runs"))
    unchanged = _finished(synced_client, location)
    assert (unchanged["outcome"], unchanged["registry_version"]) == ("unchanged", 1)
    _publish(site, _second_register())
    dry = synced_client.post("/v1/sync-runs", json={"dry_run": True})
    assert dry.status_code == 200
    assert "location" not in dry.headers
    assert (dry.json()["id"], dry.json()["outcome"], dry.json()["removed"]) == (None, "dry_run", 1)
    assert synced_client.get("/v1/register").json()["version"] == 1
    assert synced_client.get("/v1/sync-runs").json()["total"] == 2


def test_post_sync_run_records_a_rejected_scrape_and_keeps_the_mirror(
    synced_client: TestClient, site: LocalServer, as_admin: object
) -> None:
    orgs = [o for o in register_dev() if o["status"] != "certified"]
    _publish(site, generate_site(orgs))
    run = _finished(synced_client, _started(synced_client.post("/v1/sync-runs", json={})))
    assert run["outcome"] == "rejected"
    assert run["reason"]
    assert synced_client.get("/v1/register").json()["counts"]["certified"] == 46


def test_post_sync_run_records_a_failed_scrape_and_keeps_serving(
    synced_client: TestClient, site: LocalServer, as_admin: object
) -> None:
    site.routes.clear()  # every page is a 404
    run = _finished(synced_client, _started(synced_client.post("/v1/sync-runs")))
    assert run["outcome"] == "failed"
    assert run["reason"]
    assert synced_client.get("/v1/register").json()["version"] == 1
    assert synced_client.get("/healthz").status_code == 200


def test_post_sync_run_is_409_while_another_sync_holds_the_lock(
    synced_client: TestClient, api_settings: Settings, as_admin: object
) -> None:
    engine = make_engine(api_settings.sqlalchemy_url)
    try:
        with sync_lock(engine):
            response = synced_client.post("/v1/sync-runs", json={"force": True})
            dry = synced_client.post("/v1/sync-runs", json={"dry_run": True})
    finally:
        engine.dispose()
    for answer in (response, dry):
        _problem(answer, 409, "sync_already_running")
        assert answer.headers["retry-after"] == "30"
    assert synced_client.get("/v1/sync-runs").json()["total"] == 1


def test_post_sync_run_is_409_while_a_sync_started_over_the_api_runs(
    synced_client: TestClient, site: LocalServer, as_admin: object
) -> None:
    gate = _hold_pages(site)
    try:
        location = _started(synced_client.post("/v1/sync-runs"))
        again = synced_client.post("/v1/sync-runs", json={"force": True})
        _problem(again, 409, "sync_already_running")
        assert again.headers["retry-after"] == "30"
    finally:
        gate.set()
    assert _finished(synced_client, location)["outcome"] == "unchanged"
    assert synced_client.get("/v1/sync-runs").json()["total"] == 2
    # Once it has finished, the next one starts.
    assert _finished(synced_client, _started(synced_client.post("/v1/sync-runs")))["id"] == 3


def test_get_sync_run_answers_one_run_or_a_404_problem(synced_client: TestClient) -> None:
    run = synced_client.get("/v1/sync-runs/1")
    assert run.status_code == 200
    assert run.json() == synced_client.get("/v1/sync-runs").json()["items"][0]
    assert run.json()["outcome"] == "applied"
    body = _problem(synced_client.get("/v1/sync-runs/2"), 404, "sync_run_not_found")
    assert body["instance"] == "/v1/sync-runs/2"


def test_get_sync_run_answers_304_until_the_run_changes(
    synced_client: TestClient, site: LocalServer, as_admin: object
) -> None:
    gate = _hold_pages(site)
    try:
        location = _started(synced_client.post("/v1/sync-runs"))
        running = synced_client.get(location)
        etag = running.headers["etag"]
        again = synced_client.get(location, headers={"If-None-Match": etag})
        assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    finally:
        gate.set()
    _finished(synced_client, location)
    done = synced_client.get(location, headers={"If-None-Match": etag})
    assert done.status_code == 200
    assert done.headers["etag"] != etag
    assert (
        synced_client.get(location, headers={"If-None-Match": done.headers["etag"]}).status_code
        == 304
    )


def _create_key(settings: Settings, scope: Scope) -> str:
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with transaction(engine) as session:
            return create_key(session, f"test {scope.value}", scope, settings.key_pepper).key
    finally:
        engine.dispose()


def test_post_sync_run_needs_an_admin_key(
    synced_client: TestClient, api_settings: Settings
) -> None:
    read_key = _create_key(api_settings, Scope.READ)
    admin_key = _create_key(api_settings, Scope.ADMIN)
    _problem(synced_client.post("/v1/sync-runs"), 401, "unauthorized")
    forbidden = synced_client.post("/v1/sync-runs", headers={"X-API-Key": read_key})
    _problem(forbidden, 403, "forbidden")
    bearer = {"Authorization": f"Bearer {admin_key}"}
    _started(synced_client.post("/v1/sync-runs", headers=bearer))
    assert synced_client.get("/v1/sync-runs").json()["total"] == 2


def test_post_sync_run_rejects_bad_bodies(client: TestClient, as_admin: object) -> None:
    coerced = ({"force": "yes"}, {"force": "true"}, {"force": 1}, {"dry_run": "on"})
    for body in ({"force": "perhaps"}, {"dry_run": [1]}, {"source_url": "http://x"}, [1], *coerced):
        _problem(client.post("/v1/sync-runs", json=body), 422, "validation_error")
    assert client.get("/v1/sync-runs").json()["total"] == 0


# --- bad input on the organisation endpoints ----------------------------------------------


BAD_PARAMETERS = [
    ("/v1/organisations?page=0", "validation_error", "page"),
    ("/v1/organisations?page=x", "validation_error", "page"),
    ("/v1/organisations?page=1000001", "validation_error", "page"),
    ("/v1/organisations?page_size=1000", "validation_error", "page_size"),
    ("/v1/organisations?status=expired", "validation_error", "status"),
    ("/v1/organisations?q=" + "x" * 301, "invalid_query", "300"),
    ("/v1/organisations?q=ab%00c", "invalid_query", "control"),
    ("/v1/organisations/abc", "validation_error", "id"),
    ("/v1/organisations/0", "validation_error", "id"),
    ("/v1/organisations/99999999999999999999", "validation_error", "id"),
    ("/v1/sync-runs?page_size=201", "validation_error", "page_size"),
    ("/v1/sync-runs?page=-1", "validation_error", "page"),
    ("/v1/sync-runs/abc", "validation_error", "id"),
    ("/v1/sync-runs/0", "validation_error", "id"),
    ("/v1/sync-runs/1.5", "validation_error", "id"),
]


def test_bad_parameters_are_422_problems_saying_what_is_wrong(client: TestClient) -> None:
    for url, code, hint in BAD_PARAMETERS:
        body = _problem(client.get(url), 422, code)
        assert hint in body["detail"], url


# --- conditional requests -----------------------------------------------------------------

READS = [
    "/v1/organisations?q=wirral",
    "/v1/organisations/1",
    "/v1/changes?since=2000-01-01",
    "/v1/register",
    "/v1/sync-runs",
]


def test_reads_answer_304_to_a_matching_etag_until_the_register_changes(
    synced_client: TestClient, sync_site: SyncSite
) -> None:
    etags = {}
    for url in READS:
        first = synced_client.get(url)
        assert first.status_code == 200, url
        etags[url] = etag = first.headers["etag"]
        again = synced_client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304, url
        assert again.content == b""
        assert again.headers["etag"] == etag
    sync_site(_second_register())
    for url, etag in etags.items():
        changed = synced_client.get(url, headers={"If-None-Match": etag})
        assert changed.status_code == 200, url
        assert changed.headers["etag"] != etag


def test_etag_depends_on_the_query(synced_client: TestClient) -> None:
    one = synced_client.get("/v1/organisations", params={"page": 1}).headers["etag"]
    two = synced_client.get("/v1/organisations", params={"page": 2}).headers["etag"]
    assert one != two
    response = synced_client.get(
        "/v1/organisations", params={"page": 2}, headers={"If-None-Match": one}
    )
    assert response.status_code == 200


def test_index_not_loaded_is_a_503_problem(app: FastAPI, client: TestClient) -> None:
    app.state.holder.snapshot = None
    _problem(client.get("/v1/register"), 503, "index_not_ready")
