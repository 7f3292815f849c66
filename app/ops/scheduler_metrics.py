"""Scheduler and sync-retry gauges, read from the database at scrape time: the scheduler may
run in another process (or container) that serves no /metrics."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import SyncOutcome, SyncRun, utcnow
from app.ops.db_collector import CachedDatabaseCollector
from app.ops.heartbeat import newest_beat

SUCCEEDED = (SyncOutcome.APPLIED.value, SyncOutcome.UNCHANGED.value)
FAILED = (SyncOutcome.FAILED.value, SyncOutcome.REJECTED.value)


class SchedulerStateCollector(CachedDatabaseCollector):
    """Heartbeat age, failed runs since the last success, the pending retry."""

    unreadable_event = "scheduler_metrics_unreadable"

    def _read(self) -> list[Metric]:
        engine = self._engine()
        beat = newest_beat(engine)
        with Session(engine) as session:
            last_success = session.scalar(
                select(func.max(SyncRun.id)).where(SyncRun.outcome.in_(SUCCEEDED))
            )
            failures = session.scalar(
                select(func.count())
                .select_from(SyncRun)
                .where(SyncRun.outcome.in_(FAILED), SyncRun.id > (last_success or 0))
            )
            newest = session.execute(
                select(SyncRun.attempt, SyncRun.retry_at).order_by(SyncRun.id.desc()).limit(1)
            ).first()
        metrics: list[Metric] = []
        if beat is not None:
            metrics.append(
                _gauge(
                    "certlookup_scheduler_heartbeat_age_seconds",
                    "Seconds since the scheduler's newest heartbeat (absent: never written).",
                    beat.age_seconds(),
                )
            )
        retry_at = newest.retry_at if newest is not None else None
        metrics += [
            _gauge(
                "certlookup_sync_consecutive_failures",
                "Failed or rejected sync runs since the last successful one.",
                failures or 0,
            ),
            _gauge(
                "certlookup_sync_last_attempt",
                "Attempt number of the newest sync run (2 and up: a retry).",
                newest.attempt if newest is not None else 0,
            ),
            _gauge(
                "certlookup_sync_next_retry_timestamp_seconds",
                "When the scheduler retries the failed newest run (Unix time; 0: no retry).",
                retry_at.timestamp() if retry_at is not None and retry_at > utcnow() else 0,
            ),
        ]
        return metrics


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))
