"""Webhook endpoints: the secret shown once, the watch scope, isolation, limits, delete."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from app.auth.keys import Scope
from app.webhooks.service import MAX_WEBHOOKS
from tests.support.receiver import Receiver
from tests.watches import watch_key
from tests.webhooks import deliveries, register


def test_the_secret_is_shown_once_and_verifies_signatures(
    synced_client: TestClient, app: FastAPI, receiver: Receiver
) -> None:
    headers = watch_key(app)
    created = register(synced_client, headers, receiver.url)
    assert created["secret"].startswith("whsec_")
    Webhook(created["secret"])  # the package accepts it as shown
    assert created["enabled"] is True
    listed = synced_client.get("/v1/webhooks", headers=headers).json()["items"]
    assert len(listed) == 1
    assert "secret" not in listed[0]
    assert created["secret"] not in synced_client.get("/v1/webhooks", headers=headers).text
    assert {k: v for k, v in created.items() if k != "secret"} == listed[0]


def test_another_client_cannot_see_test_enable_list_or_delete_a_webhook(
    synced_client: TestClient, app: FastAPI, receiver: Receiver
) -> None:
    kent, surrey = watch_key(app, "kent"), watch_key(app, "surrey")
    hook = register(synced_client, kent, receiver.url)
    base = f"/v1/webhooks/{hook['id']}"
    assert synced_client.get("/v1/webhooks", headers=surrey).json() == {"items": []}
    for method, path in (
        ("POST", base + "/test"),
        ("POST", base + "/enable"),
        ("GET", base + "/deliveries"),
        ("DELETE", base),
    ):
        response = synced_client.request(method, path, headers=surrey)
        assert response.status_code == 404, (method, path)
        assert response.json()["code"] == "webhook_not_found"
    assert deliveries(app) == []  # surrey's test did not queue anything
    assert len(synced_client.get("/v1/webhooks", headers=kent).json()["items"]) == 1


def test_webhooks_need_the_watch_scope(synced_client: TestClient, app: FastAPI) -> None:
    body = {"url": "http://127.0.0.1:1/hooks"}
    assert synced_client.post("/v1/webhooks", json=body).status_code == 401
    reader = watch_key(app, "reader", Scope.READ)
    assert synced_client.post("/v1/webhooks", json=body, headers=reader).status_code == 403
    assert synced_client.get("/v1/webhooks", headers=reader).status_code == 403


def test_a_key_has_at_most_ten_webhooks(synced_client: TestClient, app: FastAPI) -> None:
    headers = watch_key(app)
    for i in range(MAX_WEBHOOKS):
        register(synced_client, headers, f"http://127.0.0.1:1/hooks/{i}")
    refused = synced_client.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1:1/x"}, headers=headers
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "webhook_limit_reached"


def test_delete_answers_204_and_drops_pending_deliveries(
    synced_client: TestClient, app: FastAPI, receiver: Receiver
) -> None:
    headers = watch_key(app)
    hook = register(synced_client, headers, receiver.url)
    synced_client.post(f"/v1/webhooks/{hook['id']}/test", headers=headers)
    assert len(deliveries(app)) == 1
    response = synced_client.delete(f"/v1/webhooks/{hook['id']}", headers=headers)
    assert response.status_code == 204
    assert deliveries(app) == []
    again = synced_client.delete(f"/v1/webhooks/{hook['id']}", headers=headers)
    assert again.status_code == 404


def test_a_disabled_webhook_cannot_be_tested_until_re_enabled(
    synced_client: TestClient, app: FastAPI, receiver: Receiver
) -> None:
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from app.models import Webhook as WebhookRow

    headers = watch_key(app)
    hook = register(synced_client, headers, receiver.url)
    with Session(app.state.engine) as session, session.begin():
        session.execute(update(WebhookRow).values(enabled=False, disabled_reason="test"))
    refused = synced_client.post(f"/v1/webhooks/{hook['id']}/test", headers=headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "webhook_disabled"
    enabled = synced_client.post(f"/v1/webhooks/{hook['id']}/enable", headers=headers).json()
    assert (enabled["enabled"], enabled["disabled_reason"]) == (True, None)
    queued = synced_client.post(f"/v1/webhooks/{hook['id']}/test", headers=headers)
    assert queued.status_code == 202


def test_invalid_webhook_bodies_are_422(synced_client: TestClient, app: FastAPI) -> None:
    headers = watch_key(app)
    for body in ({}, {"url": 5}, {"url": "http://127.0.0.1/x", "secret": "mine"}):
        response = synced_client.post("/v1/webhooks", json=body, headers=headers)
        assert response.status_code == 422
        assert response.json()["code"] == "validation_error"
    response = synced_client.post("/v1/webhooks", json={"url": "nonsense"}, headers=headers)
    assert response.json()["code"] == "webhook_url_invalid"
