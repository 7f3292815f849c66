"""Helpers for the webhook tests: register a webhook, deliver, fast-forward retries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery, utcnow
from app.webhooks.delivery import DeliveryWorker


def register(client: TestClient, headers: dict[str, str], url: str) -> dict[str, Any]:
    """POST /v1/webhooks, expecting 201; the created webhook with its secret."""
    response = client.post("/v1/webhooks", json={"url": url}, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def worker(app: FastAPI) -> DeliveryWorker:
    """A delivery worker on the app's database, with the app's address guard."""
    return DeliveryWorker(app.state.engine, app.state.settings, guard=app.state.address_guard)


def deliver(app: FastAPI) -> int:
    """Deliver everything due now with a fresh worker; attempts made."""
    delivery = worker(app)
    try:
        return delivery.drain(30)
    finally:
        delivery.close()


def fast_forward(app: FastAPI) -> None:
    """Make every pending retry due now (as if its delay had passed)."""
    with Session(app.state.engine) as session, session.begin():
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.status == DeliveryStatus.PENDING.value)
            .values(next_attempt_at=utcnow() - dt.timedelta(seconds=1))
        )


def attempts(app: FastAPI) -> list[WebhookAttempt]:
    """Every recorded attempt, oldest first."""
    with Session(app.state.engine) as session:
        return list(session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)))


def deliveries(app: FastAPI) -> list[WebhookDelivery]:
    """Every outbox row, oldest first."""
    with Session(app.state.engine) as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def webhook_row(app: FastAPI, webhook_id: int) -> Webhook:
    """A webhook as stored."""
    with Session(app.state.engine) as session:
        return session.get_one(Webhook, webhook_id)
