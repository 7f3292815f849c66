"""After an attempt: record it, then deliver, retry with backoff, give up or disable."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence

import structlog
from sqlalchemy import Engine

from app.config import Settings
from app.db import write_transaction
from app.models import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery, utcnow
from app.ops.metrics import record_delivery
from app.webhooks.sender import Claimed, SendResult

log = structlog.get_logger(__name__)
JITTER = 0.1  # each delay is stretched or shrunk by up to 10%, so retries do not align
MAX_RETRY_AFTER_SECONDS = 86_400.0


def retry_delay(schedule: Sequence[float], attempt: int, retry_after: float | None) -> float | None:
    """Seconds before the next attempt after failed attempt number `attempt` (from 1), or
    None when the schedule is exhausted. A receiver's Retry-After is honoured when longer."""
    if attempt > len(schedule):
        return None
    delay = schedule[attempt - 1] * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_SECONDS))
    return delay


def _disable(hook: Webhook, reason: str, now: dt.datetime) -> None:
    hook.enabled, hook.disabled_at, hook.disabled_reason = False, now, reason
    log.warning("webhook_disabled", webhook_id=hook.id, reason=reason)


def _settle(
    delivery: WebhookDelivery,
    hook: Webhook,
    result: SendResult,
    settings: Settings,
    now: dt.datetime,
) -> tuple[str, dt.datetime | None]:
    """Update the delivery and its webhook; the attempt's outcome and next attempt time."""
    delivery.locked_until = delivery.locked_by = None
    if result.ok:
        delivery.status, delivery.finished_at = DeliveryStatus.DELIVERED.value, now
        hook.failed_events = 0
        return "delivered", None
    delay = retry_delay(settings.webhook_retry_schedule, delivery.attempts, result.retry_after)
    if result.status_code == 410:
        delay = None
        _disable(hook, "the receiver answered 410 Gone", now)
    if delay is not None:
        delivery.next_attempt_at = now + dt.timedelta(seconds=delay)
        return "retrying", delivery.next_attempt_at
    delivery.status, delivery.finished_at = DeliveryStatus.FAILED.value, now
    hook.failed_events += 1
    if hook.enabled and hook.failed_events >= settings.webhook_disable_after:
        _disable(
            hook,
            f"{hook.failed_events} events in a row failed every attempt; the last: {result.error}",
            now,
        )
    return "failed", None


def record_attempt(
    engine: Engine, settings: Settings, holder: str, claimed: Claimed, result: SendResult
) -> str | None:
    """Record one attempt and its consequences in a transaction of its own; the outcome, or
    None when the delivery is gone or another worker has taken it over meanwhile."""
    now = utcnow()
    with write_transaction(engine) as session:
        delivery = session.get(WebhookDelivery, claimed.delivery_id, with_for_update=True)
        if delivery is None or delivery.locked_by != holder:
            log.info("webhook_attempt_superseded", delivery_id=claimed.delivery_id)
            return None
        # Locked: attempts on other deliveries to this webhook count its failures too.
        hook = session.get_one(Webhook, delivery.webhook_id, with_for_update=True)
        outcome, next_at = _settle(delivery, hook, result, settings, now)
        session.add(
            WebhookAttempt(
                delivery_id=delivery.id,
                webhook_id=hook.id,
                attempt=delivery.attempts,
                attempted_at=now - dt.timedelta(milliseconds=result.duration_ms),
                duration_ms=result.duration_ms,
                status_code=result.status_code,
                error=result.error,
                response_body=result.response_body,
                outcome=outcome,
                next_attempt_at=next_at,
            )
        )
    record_delivery(outcome)
    log.info(
        "webhook_delivery_attempt",
        webhook_id=claimed.webhook_id,
        delivery_id=claimed.delivery_id,
        event_id=claimed.message_id,
        attempt=claimed.attempt,
        outcome=outcome,
        status_code=result.status_code,
        error=result.error,
        duration_ms=result.duration_ms,
        next_attempt_at=next_at.isoformat() if next_at else None,
    )
    return outcome
