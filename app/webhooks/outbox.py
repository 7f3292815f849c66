"""The outbox: deliveries written beside the events, in the transaction that raises them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.models import DeliveryStatus, Webhook, WebhookDelivery


def enqueue_deliveries(
    session: Session, events: Sequence[tuple[int, int, int | None]], now: dt.datetime
) -> int:
    """A pending delivery of each (event id, client key id, watch id) to each of the client's
    webhooks (disabled ones too: they hold their deliveries until re-enabled). Returns how
    many were written."""
    keys = {key_id for _, key_id, _ in events}
    if not keys:
        return 0
    hooks: dict[int, list[int]] = {}
    for hook_id, key_id in session.execute(
        select(Webhook.id, Webhook.key_id).where(Webhook.key_id.in_(keys)).order_by(Webhook.id)
    ):
        hooks.setdefault(key_id, []).append(hook_id)
    rows = [
        {
            "event_id": event_id,
            "webhook_id": hook_id,
            "watch_id": watch_id,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        for event_id, key_id, watch_id in events
        for hook_id in hooks.get(key_id, ())
    ]
    if rows:
        session.execute(insert(WebhookDelivery), rows)
    return len(rows)
