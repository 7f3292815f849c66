"""Watch and outbox gauges, read from the database at scrape time (so every process that
serves /metrics reports the same, whichever process delivers)."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import DeliveryStatus, Watch, Webhook, WebhookDelivery, utcnow
from app.ops.db_collector import CachedDatabaseCollector


class WatchStateCollector(CachedDatabaseCollector):
    """Watches by verdict, webhooks disabled, outbox depth and its oldest pending age."""

    unreadable_event = "watch_metrics_unreadable"

    def _read(self) -> list[Metric]:
        pending = WebhookDelivery.status == DeliveryStatus.PENDING.value
        with Session(self._engine()) as session:
            verdicts = session.execute(
                select(Watch.verdict, func.count()).group_by(Watch.verdict)
            ).all()
            depth, oldest = session.execute(
                select(func.count(), func.min(WebhookDelivery.created_at)).where(pending)
            ).one()
            disabled = session.scalar(
                select(func.count()).select_from(Webhook).where(Webhook.enabled.is_(False))
            )
        by_verdict = GaugeMetricFamily(
            "certlookup_watches",
            "Watches by the verdict of their last answer sent.",
            labels=["verdict"],
        )
        for verdict, count in sorted(verdicts):
            by_verdict.add_metric([verdict], count)
        age = 0.0
        if oldest is not None:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=utcnow().tzinfo)
            age = max(0.0, (utcnow() - oldest).total_seconds())
        return [
            by_verdict,
            GaugeMetricFamily(
                "certlookup_webhook_outbox_pending",
                "Webhook deliveries not yet made (or being retried).",
                value=depth,
            ),
            GaugeMetricFamily(
                "certlookup_webhook_outbox_oldest_pending_seconds",
                "Age of the oldest pending webhook delivery (0 when none).",
                value=age,
            ),
            GaugeMetricFamily(
                "certlookup_webhooks_disabled",
                "Webhooks disabled after failures (waiting for their client).",
                value=disabled or 0,
            ),
        ]
