"""Watches re-evaluated after each sync and between syncs: events, reasons and the pull feed."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.checks.snapshot import Snapshot
from app.config import Settings
from app.db import make_engine
from app.models import Organisation, RegistryState, Watch, WatchEvent
from app.watches import evaluation
from app.watches.upkeep import run_upkeep
from tests.api.conftest import SyncSite, register_dev
from tests.support.sitegen import Org, generate_site, renamed
from tests.watches import CERTIFIED_NAME, create_watch, watch_key

RENAMED_FROM, RENAMED_TO = "Beacon\u2011Path Consultancy", "Beacon Path Learning Ltd"
PROMOTED = "Positive Bridges Consulting Ltd"  # working towards, then certified
DROPPED = "Severn Positive Behaviour Consultancy CIC"  # certified, then gone
DEMOTED_PARENT = "Positive & Safer Training Ltd"  # certified, then working towards
AFFILIATE = "Calder County Council"  # an affiliate of DEMOTED_PARENT
NEWCOMER = "Brand New Training Ltd"
UNCHANGED = "Solent NHS Foundation Trust"
TODAY = dt.datetime.now(dt.UTC).date()


def _changed_register() -> list[Org]:
    orgs = register_dev()
    orgs[0] = renamed(orgs[0], RENAMED_TO)
    for i, org in enumerate(orgs):
        if org["name"] == PROMOTED:
            orgs[i] = {**_certified(PROMOTED), "certified_on": "2026-01-05"}
        elif org["name"] == DEMOTED_PARENT:
            orgs[i] = {"name": DEMOTED_PARENT, "status": "working_towards", "aliases": []}
    orgs = [o for o in orgs if o["name"] != DROPPED]
    return [*orgs, _certified(NEWCOMER)]


def _certified(name: str, **fields: Any) -> Org:
    return {
        "name": name,
        "status": "certified",
        "aliases": [],
        "settings": ["Health"],
        "regions": ["London"],
        **fields,
    }


def _with(name: str, **fields: Any) -> list[Org]:
    return [{**o, **fields} if o["name"] == name else o for o in register_dev()]


def events(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Every event in the client's pull feed, walking the cursor."""
    found: list[dict[str, Any]] = []
    after = None
    while True:
        params = {"limit": 2, **({"after": after} if after else {})}
        page = client.get("/v1/watch-events", params=params, headers=headers).json()
        found += page["items"]
        if not page["items"]:
            return found
        after = page["next_cursor"]


def reasons_by_name(found: list[dict[str, Any]]) -> dict[str, list[str]]:
    return {e["data"]["watch"]["name"]: e["data"]["reasons"] for e in found}


def test_a_sync_raises_events_for_exactly_the_watches_whose_answers_changed(
    synced_client: TestClient, app: FastAPI, sync_site: SyncSite
) -> None:
    headers = watch_key(app)
    names = [RENAMED_FROM, PROMOTED, DROPPED, AFFILIATE, NEWCOMER, UNCHANGED]
    watched = {n: create_watch(synced_client, headers, name=n, reference=f"ref-{n}") for n in names}
    report = sync_site(generate_site(_changed_register()))
    assert report.watches is not None
    assert report.watches.events == 5
    found = events(synced_client, headers)
    assert reasons_by_name(found) == {
        RENAMED_FROM: ["renamed"],
        PROMOTED: ["status_changed"],
        DROPPED: ["removed"],
        AFFILIATE: ["parent_status_changed"],
        NEWCOMER: ["listed"],
    }
    promoted = next(e for e in found if e["data"]["watch"]["name"] == PROMOTED)
    assert promoted["type"] == "watch.changed"
    assert promoted["id"].startswith("msg_")
    assert promoted["data"]["watch"] == {
        "id": watched[PROMOTED]["id"],
        "name": PROMOTED,
        "reference": f"ref-{PROMOTED}",
    }
    before = watched[PROMOTED]["current"]
    assert promoted["data"]["previous"] == {
        "verdict": "working_towards",
        "meets_cqc_expectation": False,
        "organisation": {
            "id": before["organisation"]["id"],
            "name": PROMOTED,
            "status": "working_towards",
            "parent_status": None,
        },
    }
    now = synced_client.get("/v1/check", params={"name": PROMOTED}).json()
    assert promoted["data"]["current"] == now
    listed = synced_client.get("/v1/watches", params={"verdict": "certified"}, headers=headers)
    assert {w["name"] for w in listed.json()["items"]} == {
        RENAMED_FROM,
        PROMOTED,
        NEWCOMER,
        UNCHANGED,
    }


def test_an_unchanged_answer_raises_nothing(
    synced_client: TestClient, app: FastAPI, sync_site: SyncSite
) -> None:
    headers = watch_key(app)
    create_watch(synced_client, headers, name=CERTIFIED_NAME)
    create_watch(synced_client, headers, name="Nobody Such Training Ltd")
    orgs = register_dev()
    orgs[0] = renamed(orgs[0], RENAMED_TO)  # an organisation nobody watches
    report = sync_site(generate_site(orgs))
    assert report.outcome == "applied"
    assert report.watches is not None
    assert report.watches.events == 0
    sync_site(generate_site(orgs))  # unchanged
    assert events(synced_client, headers) == []


def test_certificate_expiring_is_sent_once_and_expired_when_it_passes(
    synced_client: TestClient, app: FastAPI, sync_site: SyncSite
) -> None:
    headers = watch_key(app)
    create_watch(synced_client, headers, name=UNCHANGED)
    soon = (TODAY + dt.timedelta(days=30)).isoformat()
    sync_site(generate_site(_with(UNCHANGED, valid_until=soon)))
    assert reasons_by_name(events(synced_client, headers)) == {UNCHANGED: ["certificate_expiring"]}
    orgs = _with(UNCHANGED, valid_until=soon)
    orgs[0] = renamed(orgs[0], RENAMED_TO)
    sync_site(generate_site(orgs))
    assert len(events(synced_client, headers)) == 1  # sent once
    past = (TODAY - dt.timedelta(days=1)).isoformat()
    sync_site(generate_site(_with(UNCHANGED, valid_until=past)))
    last = events(synced_client, headers)[-1]
    assert last["data"]["reasons"] == ["certificate_expired"]
    assert last["data"]["previous"]["meets_cqc_expectation"] is True
    assert last["data"]["current"]["meets_cqc_expectation"] is None


def test_the_daily_evaluation_raises_what_the_date_alone_changes(
    synced_client: TestClient, app: FastAPI, api_settings: Settings
) -> None:
    headers = watch_key(app)
    watch = create_watch(synced_client, headers, name=UNCHANGED)
    engine = make_engine(api_settings.sqlalchemy_url)
    try:
        assert run_upkeep(engine, api_settings) is None  # nothing due
        with Session(engine) as session, session.begin():
            org_id = watch["current"]["organisation"]["id"]
            soon = TODAY + dt.timedelta(days=10)
            session.execute(
                update(Organisation).where(Organisation.id == org_id).values(valid_until=soon)
            )
            session.execute(update(Watch).values(answered_on=TODAY - dt.timedelta(days=1)))
        report = run_upkeep(engine, api_settings)
        assert report is not None
        assert report.events == 1
        assert run_upkeep(engine, api_settings) is None  # once a day
    finally:
        engine.dispose()
    assert reasons_by_name(events(synced_client, headers)) == {UNCHANGED: ["certificate_expiring"]}


def test_stale_when_syncs_stop_and_fresh_when_they_recover(
    synced_client: TestClient, app: FastAPI, api_settings: Settings, sync_site: SyncSite
) -> None:
    headers = watch_key(app)
    create_watch(synced_client, headers, name=UNCHANGED)
    engine = make_engine(api_settings.sqlalchemy_url)
    try:
        with Session(engine) as session, session.begin():
            long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=api_settings.max_age_hours + 1)
            session.execute(update(RegistryState).values(last_synced_at=long_ago))
        report = run_upkeep(engine, api_settings)
        assert report is not None
        assert report.reasons == {"stale": 1}
    finally:
        engine.dispose()
    sync_site(generate_site(register_dev()))
    found = events(synced_client, headers)
    assert [e["data"]["reasons"] for e in found] == [["stale"], ["fresh"]]
    assert found[0]["data"]["current"]["meets_cqc_expectation"] is None
    assert found[1]["data"]["current"]["meets_cqc_expectation"] is True


def test_a_failed_evaluation_keeps_the_sync_and_upkeep_raises_the_events_later(
    synced_client: TestClient,
    app: FastAPI,
    api_settings: Settings,
    sync_site: SyncSite,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    headers = watch_key(app)
    create_watch(synced_client, headers, name=PROMOTED)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("evaluation broke")

    original = evaluation.evaluate_watches
    monkeypatch.setattr(evaluation, "evaluate_watches", broken)
    report = sync_site(generate_site(_changed_register()))
    assert report.outcome == "applied"
    assert report.watches is None
    assert synced_client.get("/v1/check", params={"name": NEWCOMER}).json()["verdict"] == (
        "certified"
    )
    assert events(synced_client, headers) == []
    monkeypatch.setattr(evaluation, "evaluate_watches", original)
    engine = make_engine(api_settings.sqlalchemy_url)
    try:
        upkeep = run_upkeep(engine, api_settings)
    finally:
        engine.dispose()
    assert upkeep is not None
    assert upkeep.events == 1
    assert reasons_by_name(events(synced_client, headers)) == {PROMOTED: ["status_changed"]}


def test_the_evaluation_time_counts_building_the_snapshot(
    synced_client: TestClient,
    app: FastAPI,
    sync_site: SyncSite,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    create_watch(synced_client, watch_key(app, "kent"), name=PROMOTED)
    build = evaluation.load_snapshot

    def slow_build(session: Session) -> Snapshot:
        time.sleep(0.3)
        return build(session)

    monkeypatch.setattr(evaluation, "load_snapshot", slow_build)
    report = sync_site(generate_site(_changed_register()))
    assert report.watches is not None
    assert report.watches.duration_ms >= 300


def test_a_sync_with_no_watches_does_not_evaluate(
    synced_client: TestClient, sync_site: SyncSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: object) -> None:
        raise AssertionError("a snapshot was built for no watches")

    monkeypatch.setattr(evaluation, "load_snapshot", never)
    report = sync_site(generate_site(_changed_register()))
    assert report.outcome == "applied"
    assert report.watches is None


def test_the_pull_feed_is_per_client_and_resumes_from_its_cursor(
    synced_client: TestClient, app: FastAPI, sync_site: SyncSite, api_settings: Settings
) -> None:
    kent, surrey = watch_key(app, "kent"), watch_key(app, "surrey")
    create_watch(synced_client, kent, name=PROMOTED)
    create_watch(synced_client, surrey, name=NEWCOMER)
    first = synced_client.get("/v1/watch-events", headers=kent).json()
    assert first == {"items": [], "next_cursor": None}
    sync_site(generate_site(_changed_register()))
    page = synced_client.get("/v1/watch-events", headers=kent).json()
    assert [e["data"]["watch"]["name"] for e in page["items"]] == [PROMOTED]
    assert [e["data"]["watch"]["name"] for e in events(synced_client, surrey)] == [NEWCOMER]
    later = synced_client.get(
        "/v1/watch-events", params={"after": page["next_cursor"]}, headers=kent
    ).json()
    assert later == {"items": [], "next_cursor": page["next_cursor"]}
    engine = make_engine(api_settings.sqlalchemy_url)
    try:
        with Session(engine) as session:
            stored = session.scalars(select(WatchEvent).order_by(WatchEvent.id)).all()
    finally:
        engine.dispose()
    assert [e.message_id for e in stored][:1] == [page["items"][0]["id"]]
    bad = synced_client.get("/v1/watch-events", params={"after": "xyz"}, headers=kent)
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_cursor"
