"""Webhook endpoints of a client: register, list, delete, re-enable, test, attempts.

Every query is scoped to the client (`key_id`): another client's webhook is not found.
Never commits: the caller owns the session.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.models import DeliveryStatus, WatchEvent, Webhook, WebhookAttempt, WebhookDelivery
from app.watches.evaluation import new_message_id
from app.watches.repository import decode_cursor, encode_cursor
from app.webhooks.guard import AddressGuard
from app.webhooks.schemas import (
    AttemptOut,
    AttemptPage,
    TestEventOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
)
from app.webhooks.signing import new_secret

MAX_WEBHOOKS = 10
TEST_EVENT = "webhook.test"


def webhook_out(row: Webhook) -> WebhookOut:
    """The public view of a webhook (never its secret)."""
    return WebhookOut(
        id=row.id,
        url=row.url,
        description=row.description,
        enabled=row.enabled,
        disabled_reason=row.disabled_reason,
        disabled_at=row.disabled_at,
        created_at=row.created_at,
    )


def create_webhook(
    session: Session, key_id: int, body: WebhookIn, guard: AddressGuard, now: dt.datetime
) -> WebhookCreated:
    """Register a webhook after checking its URL; the secret is returned this once."""
    count = session.scalar(select(func.count()).where(Webhook.key_id == key_id)) or 0
    if count >= MAX_WEBHOOKS:
        raise Conflict(
            f"a key may have at most {MAX_WEBHOOKS} webhooks; delete one first",
            code="webhook_limit_reached",
        )
    guard.check(body.url)
    row = Webhook(
        key_id=key_id,
        url=body.url,
        description=body.description,
        secret=new_secret(),
        created_at=now,
        enabled=True,
        failed_events=0,
    )
    session.add(row)
    session.flush()
    return WebhookCreated(**webhook_out(row).model_dump(), secret=row.secret)


def list_webhooks(session: Session, key_id: int) -> list[WebhookOut]:
    """The client's webhooks, oldest first."""
    rows = session.scalars(select(Webhook).where(Webhook.key_id == key_id).order_by(Webhook.id))
    return [webhook_out(row) for row in rows]


def get_webhook(session: Session, key_id: int, webhook_id: int) -> Webhook:
    """The client's webhook, or NotFound (also when another client owns it)."""
    row = session.scalar(select(Webhook).where(Webhook.id == webhook_id, Webhook.key_id == key_id))
    if row is None:
        raise NotFound(f"you have no webhook with id {webhook_id}", code="webhook_not_found")
    return row


def delete_webhook(session: Session, key_id: int, webhook_id: int) -> None:
    """Delete the client's webhook with its deliveries and attempts."""
    row = get_webhook(session, key_id, webhook_id)
    session.execute(delete(Webhook).where(Webhook.id == row.id))


def enable_webhook(
    session: Session, key_id: int, webhook_id: int, guard: AddressGuard
) -> WebhookOut:
    """Re-enable a disabled webhook (its URL is checked again); held events then go out."""
    row = get_webhook(session, key_id, webhook_id)
    guard.check(row.url)
    row.enabled, row.disabled_at, row.disabled_reason, row.failed_events = True, None, None, 0
    session.flush()
    return webhook_out(row)


def queue_test_event(
    session: Session, key_id: int, webhook_id: int, now: dt.datetime
) -> TestEventOut:
    """A webhook.test event for this webhook only, delivered like any other."""
    row = get_webhook(session, key_id, webhook_id)
    if not row.enabled:
        raise Conflict(
            "the webhook is disabled; re-enable it first (POST .../enable)",
            code="webhook_disabled",
        )
    body = {
        "type": TEST_EVENT,
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "data": {"webhook": {"id": row.id, "url": row.url}},
    }
    event = WatchEvent(
        message_id=new_message_id(),
        key_id=key_id,
        watch_id=None,
        type=TEST_EVENT,
        created_at=now,
        body=json.dumps(body, separators=(",", ":")),
    )
    session.add(event)
    session.flush()
    session.add(
        WebhookDelivery(
            event_id=event.id,
            webhook_id=row.id,
            watch_id=None,
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
    )
    return TestEventOut(id=event.message_id, type=TEST_EVENT)


def list_attempts(
    session: Session, key_id: int, webhook_id: int, after: str | None, limit: int
) -> AttemptPage:
    """The webhook's delivery attempts, newest first, cursor-paged."""
    row = get_webhook(session, key_id, webhook_id)
    query = (
        select(WebhookAttempt, WatchEvent.message_id, WatchEvent.type)
        .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
        .join(WatchEvent, WatchEvent.id == WebhookDelivery.event_id)
        .where(WebhookAttempt.webhook_id == row.id)
    )
    if after:
        query = query.where(WebhookAttempt.id < decode_cursor("attempt", after))
    found = session.execute(query.order_by(WebhookAttempt.id.desc()).limit(limit + 1)).all()
    items = [_attempt_out(attempt, message_id, kind) for attempt, message_id, kind in found]
    more = len(items) > limit
    return AttemptPage(
        items=items[:limit],
        next_cursor=encode_cursor("attempt", items[limit - 1].id) if more else None,
    )


def _attempt_out(attempt: WebhookAttempt, message_id: str, kind: str) -> AttemptOut:
    return AttemptOut(
        id=attempt.id,
        event_id=message_id,
        event_type=kind,
        attempt=attempt.attempt,
        attempted_at=attempt.attempted_at,
        duration_ms=attempt.duration_ms,
        status_code=attempt.status_code,
        error=attempt.error,
        response_body=attempt.response_body,
        outcome=attempt.outcome,
        next_attempt_at=attempt.next_attempt_at,
    )
