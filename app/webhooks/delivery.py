"""Outbox delivery: claim due deliveries, POST them signed, record each attempt.

- Claim: in a short transaction, the oldest due pending deliveries of enabled webhooks are
  leased to this worker (`locked_until`, `locked_by`) and committed. On PostgreSQL the rows
  are read `FOR UPDATE SKIP LOCKED`, so several workers share the outbox and never claim one
  delivery twice. SQLite ignores FOR UPDATE: there one worker at a time holds the
  `webhook-delivery` lease row (app/register/locks.py).
- A delivery waits while an older pending delivery of the same watch to the same webhook
  exists, so one watch's events arrive in order.
- Send: outside any transaction (app/webhooks/sender.py), then record the result in a new
  one. A worker that dies after claiming leaves a lease that expires (or, on this host, is
  taken over at once once its process is gone): the delivery is sent again, so delivery is
  at least once and receivers de-duplicate on `webhook-id`.
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import structlog
from sqlalchemy import Engine, Select, and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from app.config import Settings
from app.db import write_transaction
from app.models import DeliveryStatus, WatchEvent, Webhook, WebhookDelivery, utcnow
from app.register.locks import holder_is_dead, lease_holder, release_lease, take_lease
from app.webhooks.guard import AddressGuard
from app.webhooks.outcome import record_attempt
from app.webhooks.sender import Claimed, SendResult, make_client, send_event

log = structlog.get_logger(__name__)
LEASE_SECONDS = 60.0  # longer than one attempt (10 s timeout) with room to record it
WORKER_LEASE = "webhook-delivery"
CLAIM_BATCH = 32
SENDERS = 8


def _dead_holders(session: Session, now: dt.datetime) -> list[str]:
    """Holders of live leases whose process (on this host) no longer exists."""
    query = select(WebhookDelivery.locked_by).distinct()
    query = query.where(
        WebhookDelivery.status == DeliveryStatus.PENDING.value,
        WebhookDelivery.locked_until >= now,
    )
    return [h for h in session.scalars(query) if h and holder_is_dead(h)]


def _due_query(now: dt.datetime, dead: list[str], limit: int) -> Select[Any]:
    older = aliased(WebhookDelivery)
    waiting_behind = exists().where(
        older.webhook_id == WebhookDelivery.webhook_id,
        older.watch_id == WebhookDelivery.watch_id,
        older.status == DeliveryStatus.PENDING.value,
        older.id < WebhookDelivery.id,
    )
    free = or_(
        WebhookDelivery.locked_until.is_(None),
        WebhookDelivery.locked_until < now,
        WebhookDelivery.locked_by.in_(dead),
    )
    return (
        select(WebhookDelivery)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(
            and_(
                WebhookDelivery.status == DeliveryStatus.PENDING.value,
                WebhookDelivery.next_attempt_at <= now,
                Webhook.enabled.is_(True),
                free,
                ~waiting_behind,
            )
        )
        .order_by(WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )


def claim(engine: Engine, holder: str, limit: int = CLAIM_BATCH) -> list[Claimed]:
    """Lease up to `limit` due deliveries to `holder` and commit; oldest first."""
    now = utcnow()
    with write_transaction(engine) as session:
        rows = list(session.scalars(_due_query(now, _dead_holders(session, now), limit)))
        for row in rows:
            row.locked_until = now + dt.timedelta(seconds=LEASE_SECONDS)
            row.locked_by = holder
            row.attempts += 1
        if not rows:
            return []
        details = session.execute(
            select(WebhookDelivery.id, Webhook.url, Webhook.secret, WatchEvent)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .join(WatchEvent, WatchEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.id.in_([row.id for row in rows]))
        ).all()
        by_id = {d.id: d for d in details}
        return [
            Claimed(
                row.id,
                row.attempts,
                row.webhook_id,
                by_id[row.id].url,
                by_id[row.id].secret,
                by_id[row.id].WatchEvent.message_id,
                by_id[row.id].WatchEvent.body,
            )
            for row in rows
        ]


class DeliveryWorker:
    """Delivers the outbox: `run_once` claims one batch and sends it; `drain` repeats."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        guard: AddressGuard | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.guard = guard or AddressGuard(allow_private=settings.webhook_allow_private)
        self.client = client or make_client()
        self.holder = lease_holder()
        self._pool = ThreadPoolExecutor(SENDERS, thread_name_prefix="webhook")

    def run_once(self) -> int:
        """Claim and send one batch; returns how many deliveries were attempted."""
        if self.engine.dialect.name != "postgresql" and not take_lease(
            self.engine, self.holder, LEASE_SECONDS * 2, name=WORKER_LEASE
        ):
            return 0  # another worker delivers on this SQLite database
        batch = claim(self.engine, self.holder)
        list(self._pool.map(self._deliver, batch))
        return len(batch)

    def drain(self, seconds: float) -> int:
        """Deliver until nothing is due or `seconds` have passed; returns attempts made."""
        deadline = time.monotonic() + seconds
        total = 0
        while time.monotonic() < deadline:
            done = self.run_once()
            total += done
            if done == 0:
                break
        return total

    def close(self) -> None:
        """Stop sending and give up the SQLite worker lease."""
        self._pool.shutdown(wait=True)
        self.client.close()
        if self.engine.dialect.name != "postgresql":
            release_lease(self.engine, self.holder, name=WORKER_LEASE)

    def _deliver(self, claimed: Claimed) -> None:
        try:
            result = send_event(self.client, self.guard, claimed, utcnow())
        except Exception as exc:  # a bug, not the receiver: still recorded, retried later
            log.exception("webhook_send_error", delivery_id=claimed.delivery_id)
            result = SendResult(None, f"internal error: {type(exc).__name__}", None, 0)
        try:
            record_attempt(self.engine, self.settings, self.holder, claimed, result)
        except Exception:
            log.exception("webhook_record_failed", delivery_id=claimed.delivery_id)
