"""Evaluate watches between syncs: when the date or the data's age changes an answer, and
after an evaluation that failed inside a sync.

The scheduler calls `run_upkeep` every minute. A cheap query says whether any watch is due
(answered for an older registry version, on an earlier day, or with another `stale` flag);
only then does it take the sync lock (so it never runs beside a sync or another upkeep) and
evaluate in a transaction of its own, which also writes the events' deliveries.
"""

from __future__ import annotations

import structlog
from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from app.checks.snapshot import RegisterInfo, read_info
from app.checks.verdicts import Clock
from app.config import Settings
from app.models import Watch
from app.ops.metrics import record_watch_events
from app.register.locks import SyncAlreadyRunning, sync_lock
from app.watches.evaluation import EvaluationReport, evaluate_against_current

log = structlog.get_logger(__name__)
UPKEEP_SECONDS = 60
LEASE_SECONDS = 600.0


def _stale(info: RegisterInfo, clock: Clock) -> bool:
    if info.last_synced_at is None:
        return True
    return (clock.now - info.last_synced_at).total_seconds() > clock.max_age_seconds


def evaluation_due(session: Session, info: RegisterInfo, clock: Clock) -> bool:
    """True when some watch's last answer is older than the register, the day or its age."""
    query = select(Watch.id).where(
        or_(
            Watch.answered_version < info.version,
            Watch.answered_on < clock.now.date(),
            Watch.stale != _stale(info, clock),
        )
    )
    return session.scalar(query.limit(1)) is not None


def run_upkeep(engine: Engine, settings: Settings) -> EvaluationReport | None:
    """Evaluate the watches if any is due; None when none was (or a sync holds the lock)."""
    clock = Clock.for_settings(settings)
    with Session(engine) as session:
        if not evaluation_due(session, read_info(engine), clock):
            return None
    try:
        with (
            sync_lock(engine, wait_seconds=0, lease_seconds=LEASE_SECONDS) as lock,
            lock.apply() as session,
        ):
            report = evaluate_against_current(session, clock, settings)
    except SyncAlreadyRunning:
        log.info("watch_upkeep_skipped", reason="a sync is running; it evaluates the watches")
        return None
    record_watch_events(report.reasons)
    log.info(
        "watches_evaluated",
        job="upkeep",
        watches=report.watches,
        events=report.events,
        reasons=dict(report.reasons),
        registry_version=report.registry_version,
        duration_ms=report.duration_ms,
    )
    return report
