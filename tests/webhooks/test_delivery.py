"""Delivery to a real receiver on 127.0.0.1 that verifies Standard Webhooks signatures."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.conftest import SyncSite, register_dev
from tests.support.httpserver import unused_port
from tests.support.receiver import Receiver
from tests.support.sitegen import generate_site
from tests.watches import create_watch, watch_key
from tests.watches.test_evaluation import (
    NEWCOMER,
    PROMOTED,
    UNCHANGED,
    _changed_register,
    events,
)
from tests.webhooks import (
    attempts,
    deliver,
    deliveries,
    fast_forward,
    register,
    webhook_row,
)


def test_events_reach_the_receiver_signed_for_exactly_the_changed_watches(
    synced_client: TestClient, app: FastAPI, sync_site: SyncSite, receiver: Receiver
) -> None:
    headers = watch_key(app)
    hook = register(synced_client, headers, receiver.url)
    receiver.secret = hook["secret"]
    for name in (PROMOTED, NEWCOMER, UNCHANGED):
        create_watch(synced_client, headers, name=name)
    sync_site(generate_site(_changed_register()))
    assert deliver(app) == 2
    got = receiver.received
    assert all(r.verified for r in got)
    assert sorted(r.payload["data"]["watch"]["name"] for r in got) == [NEWCOMER, PROMOTED]
    feed = {e["id"]: e for e in events(synced_client, headers)}
    for request in got:
        item = feed[request.webhook_id]
        assert json.loads(request.body) == {k: v for k, v in item.items() if k != "id"}
        assert request.headers["content-type"] == "application/json"
    assert deliver(app) == 0  # nothing sent twice


def test_a_receiver_that_fails_twice_then_recovers_gets_the_event_with_the_same_id(
    synced_client: TestClient, app: FastAPI, sync_site: SyncSite, receiver: Receiver
) -> None:
    headers = watch_key(app)
    receiver.secret = register(synced_client, headers, receiver.url)["secret"]
    receiver.answers = [500, 503, 200]
    create_watch(synced_client, headers, name=PROMOTED)
    sync_site(generate_site(_changed_register()))
    assert deliver(app) == 1
    (pending,) = deliveries(app)
    assert pending.status == "pending"
    (first,) = attempts(app)
    assert first.next_attempt_at == pending.next_attempt_at
    # 1 s in the schedule, with up to 10% jitter either way, counted from the answer.
    answered = first.attempted_at + dt.timedelta(milliseconds=first.duration_ms)
    assert 0.89 <= (pending.next_attempt_at - answered).total_seconds() <= 1.11
    fast_forward(app)
    assert deliver(app) == 1
    fast_forward(app)
    assert deliver(app) == 1
    ids = {r.webhook_id for r in receiver.received}
    assert len(receiver.received) == 3
    assert len(ids) == 1
    assert all(r.verified for r in receiver.received)
    assert [a.outcome for a in attempts(app)] == ["retrying", "retrying", "delivered"]
    assert [a.status_code for a in attempts(app)] == [500, 503, 200]
    assert deliveries(app)[0].status == "delivered"


def test_deliveries_listing_shows_each_attempt(
    synced_client: TestClient, app: FastAPI, sync_site: SyncSite, receiver: Receiver
) -> None:
    headers = watch_key(app)
    hook = register(synced_client, headers, receiver.url)
    receiver.answers = [500, 200]
    receiver.answer_body = b"x" * 5000
    create_watch(synced_client, headers, name=PROMOTED)
    sync_site(generate_site(_changed_register()))
    deliver(app)
    fast_forward(app)
    deliver(app)
    path = f"/v1/webhooks/{hook['id']}/deliveries"
    page = synced_client.get(path, params={"limit": 1}, headers=headers).json()
    (latest,) = page["items"]
    assert latest["outcome"] == "delivered"
    assert latest["attempt"] == 2
    assert latest["status_code"] == 200
    assert latest["event_type"] == "watch.changed"
    assert len(latest["response_body"]) == 1024  # kept to 1 KB
    older = synced_client.get(path, params={"after": page["next_cursor"]}, headers=headers)
    (first,) = older.json()["items"]
    assert first["outcome"] == "retrying"
    assert first["error"] == "HTTP 500"
    assert first["next_attempt_at"] is not None
    assert first["event_id"] == latest["event_id"]
    assert older.json()["next_cursor"] is None


def test_redirects_are_not_followed(
    synced_client: TestClient, app: FastAPI, sync_site: SyncSite, receiver: Receiver
) -> None:
    headers = watch_key(app)
    register(synced_client, headers, receiver.url)
    receiver.answers = [307]
    receiver.answer_headers = {"Location": receiver.url + "/elsewhere"}
    create_watch(synced_client, headers, name=PROMOTED)
    sync_site(generate_site(_changed_register()))
    deliver(app)
    assert [r.path for r in receiver.received] == ["/hooks"]
    (attempt,) = attempts(app)
    assert attempt.outcome == "retrying"
    assert "redirects are not followed" in (attempt.error or "")


def test_a_run_of_failed_events_disables_the_webhook_and_the_client_re_enables_it(
    synced_client: TestClient, app: FastAPI, sync_site: SyncSite, receiver: Receiver
) -> None:
    headers = watch_key(app)
    hook = register(synced_client, headers, receiver.url)
    receiver.answers = [500]
    create_watch(synced_client, headers, name=PROMOTED)
    create_watch(synced_client, headers, name=NEWCOMER)
    sync_site(generate_site(_changed_register()))
    for _ in range(4):  # the first attempt and three retries (1, 2, 4 s)
        deliver(app)
        fast_forward(app)
    assert [d.status for d in deliveries(app)] == ["failed", "failed"]
    row = webhook_row(app, hook["id"])
    assert row.enabled is False
    assert "2 events in a row failed" in (row.disabled_reason or "")
    listed = synced_client.get("/v1/webhooks", headers=headers).json()["items"][0]
    assert listed["enabled"] is False
    assert listed["disabled_reason"] == row.disabled_reason
    # Held while disabled: a new event waits, and goes out once the client re-enables.
    receiver.answers = [200]
    sync_site(generate_site(register_dev()))
    assert deliver(app) == 0
    enabled = synced_client.post(f"/v1/webhooks/{hook['id']}/enable", headers=headers)
    assert enabled.status_code == 200
    assert enabled.json()["enabled"] is True
    assert deliver(app) == 2
    assert webhook_row(app, hook["id"]).failed_events == 0


def test_410_gone_disables_the_webhook_at_once(
    synced_client: TestClient, app: FastAPI, sync_site: SyncSite, receiver: Receiver
) -> None:
    headers = watch_key(app)
    hook = register(synced_client, headers, receiver.url)
    receiver.answers = [410]
    create_watch(synced_client, headers, name=PROMOTED)
    sync_site(generate_site(_changed_register()))
    deliver(app)
    row = webhook_row(app, hook["id"])
    assert (row.enabled, row.disabled_reason) == (False, "the receiver answered 410 Gone")
    assert [d.status for d in deliveries(app)] == ["failed"]


def test_one_watch_s_events_go_out_in_order(
    synced_client: TestClient, app: FastAPI, sync_site: SyncSite, receiver: Receiver
) -> None:
    headers = watch_key(app)
    register(synced_client, headers, receiver.url)
    create_watch(synced_client, headers, name=PROMOTED)
    receiver.answers = [500, 200]
    sync_site(generate_site(_changed_register()))  # working towards -> certified
    sync_site(generate_site(register_dev()))  # and back
    assert deliver(app) == 1  # the second waits behind the first, which failed
    fast_forward(app)
    deliver(app)
    fast_forward(app)
    deliver(app)
    reasons = [r.payload["data"]["current"]["verdict"] for r in receiver.received]
    assert reasons == ["certified", "certified", "working_towards"]


def test_a_test_event_is_signed_and_delivered(
    synced_client: TestClient, app: FastAPI, receiver: Receiver
) -> None:
    headers = watch_key(app)
    hook = register(synced_client, headers, receiver.url)
    receiver.secret = hook["secret"]
    queued = synced_client.post(f"/v1/webhooks/{hook['id']}/test", headers=headers)
    assert queued.status_code == 202
    assert queued.json()["type"] == "webhook.test"
    deliver(app)
    (got,) = receiver.received
    assert got.verified
    assert got.webhook_id == queued.json()["id"]
    assert got.payload["type"] == "webhook.test"
    assert got.payload["data"]["webhook"]["id"] == hook["id"]
    assert synced_client.get("/v1/watch-events", headers=headers).json()["items"] == []


def test_each_attempt_logs_one_line_without_the_secret(
    synced_client: TestClient,
    app: FastAPI,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    headers = watch_key(app)
    hook = register(synced_client, headers, receiver.url)
    synced_client.post(f"/v1/webhooks/{hook['id']}/test", headers=headers)
    with caplog.at_level(logging.INFO):
        deliver(app)
    lines = [r for r in caplog.records if "webhook_delivery_attempt" in r.getMessage()]
    assert len(lines) == 1
    text = "\n".join(r.getMessage() for r in caplog.records)
    secret_key = hook["secret"].removeprefix("whsec_")
    assert secret_key not in text
    assert "v1," not in text  # no signature either
    assert "delivered" in lines[0].getMessage()


def test_a_deleted_watch_s_pending_deliveries_are_dropped(
    synced_client: TestClient, app: FastAPI, sync_site: SyncSite, receiver: Receiver
) -> None:
    headers = watch_key(app)
    register(synced_client, headers, receiver.url)
    watch = create_watch(synced_client, headers, name=PROMOTED)
    sync_site(generate_site(_changed_register()))
    assert len(deliveries(app)) == 1
    synced_client.delete(f"/v1/watches/{watch['id']}", headers=headers)
    assert deliveries(app) == []
    assert deliver(app) == 0
    assert len(events(synced_client, headers)) == 1  # the feed keeps what happened


def test_an_unreachable_receiver_is_an_attempt_with_an_error_and_a_retry(
    synced_client: TestClient, app: FastAPI
) -> None:
    headers = watch_key(app)
    hook = register(synced_client, headers, f"http://127.0.0.1:{unused_port()}/hooks")
    synced_client.post(f"/v1/webhooks/{hook['id']}/test", headers=headers)
    deliver(app)
    (attempt,) = attempts(app)
    assert attempt.status_code is None
    assert "ConnectError" in (attempt.error or "")
    assert attempt.outcome == "retrying"
    assert attempt.next_attempt_at is not None


def test_metrics_show_watches_events_deliveries_and_the_outbox(
    synced_client: TestClient, app: FastAPI, sync_site: SyncSite, receiver: Receiver
) -> None:
    headers = watch_key(app)
    register(synced_client, headers, receiver.url)
    receiver.answers = [500]
    create_watch(synced_client, headers, name=PROMOTED)
    create_watch(synced_client, headers, name=UNCHANGED)
    sync_site(generate_site(_changed_register()))
    deliver(app)
    text = synced_client.get("/metrics").text
    assert 'certlookup_watches{verdict="certified"} 2.0' in text
    assert "certlookup_webhook_outbox_pending 1.0" in text
    oldest = next(
        line
        for line in text.splitlines()
        if line.startswith("certlookup_webhook_outbox_oldest_pending_seconds ")
    )
    assert 0 <= float(oldest.split()[1]) < 120
    assert 'certlookup_watch_events_total{reason="status_changed"}' in text
    assert 'certlookup_webhook_deliveries_total{outcome="retrying"}' in text
    assert "certlookup_webhooks_disabled 0.0" in text
