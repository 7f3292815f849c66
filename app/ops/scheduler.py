"""The sync scheduler (APScheduler 3.x): a cron job, plus a catch-up sync at start.

APScheduler cannot coordinate several processes, so a deployment runs ONE scheduler: inside
`serve` (single box; with several workers, in the supervisor only), or as `certlookup
scheduler` beside API replicas started with CERTLOOKUP_SCHEDULER=off. Every job still goes
through run_sync's database lock, so an overlap (a rolling deploy, a second scheduler by
mistake) produces one sync per tick and the other process logs that one is already running.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.checks.snapshot import RegisterInfo, SnapshotHolder, read_info
from app.config import Settings
from app.models import SyncRun, utcnow
from app.ops.cron import TIMEZONE, cron_trigger, dedupe_window
from app.ops.heartbeat import Heartbeat, add_heartbeat_job
from app.ops.metrics import record_sync
from app.ops.sync_retry import RETRY_JOB_ID, RETRY_POLL_SECONDS, SKIPPED, SyncRetries
from app.register import repository
from app.register.locks import SyncAlreadyRunning
from app.register.sync import SyncRequest, run_sync
from app.watches.jobs import add_watch_jobs
from app.webhooks.delivery import DeliveryWorker

log = structlog.get_logger(__name__)

SYNC_JOB_ID = "sync"
CATCH_UP_JOB_ID = "catch-up"
# A job late by more than this is dropped (APScheduler's default is 1 second: a busy or
# suspended host would silently skip the day's sync).
MISFIRE_GRACE_SECONDS = 6 * 3600
# Try the lock once: a tick that finds a sync running is already served by that sync.
# Waiting could let this process start a second sync the moment the first one ends.
LOCK_WAIT_SECONDS = 0.0


def needs_catch_up(info: RegisterInfo | None, max_age_hours: float, now: dt.datetime) -> bool:
    """True when there never was a successful sync, or the last one is older than the max age."""
    if info is None or info.last_synced_at is None:
        return True
    return now - info.last_synced_at > dt.timedelta(hours=max_age_hours)


class ScheduledSync:
    """The jobs: each runs one sync under the database lock and never raises."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        holder: SnapshotHolder | None = None,
        dedupe_seconds: float = 0.0,
        retries: SyncRetries | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.holder = holder
        self.dedupe_seconds = dedupe_seconds
        self.retries = retries
        self._failed_at: dt.datetime | None = None
        self._running = 0
        self._count_lock = threading.Lock()

    @property
    def running(self) -> bool:
        """True while a job of this scheduler is inside a sync."""
        return self._running > 0

    def tick(self) -> str:
        """The cron job; returns the outcome ("skipped" and "error" besides sync outcomes)."""
        since = utcnow() - dt.timedelta(seconds=self.dedupe_seconds)
        try:
            recent = self.dedupe_seconds > 0 and self._sync_started_since(since)
        except Exception:
            log.warning("scheduled_sync_dedupe_check_failed", exc_info=True)
            recent = False
        if recent:
            log.info(
                "scheduled_sync_skipped", job="tick", reason="a sync already started for this tick"
            )
            return SKIPPED
        return self._sync("tick")

    def catch_up(self) -> str:
        """The start-up job: sync unless the data became fresh meanwhile (another process)."""
        try:
            info: RegisterInfo | None = read_info(self.engine)
        except Exception:
            log.warning("registry_state_unreadable", exc_info=True)
            info = None
        if not needs_catch_up(info, self.settings.max_age_hours, utcnow()):
            log.info("catch_up_sync_not_needed", last_synced_at=str(info and info.last_synced_at))
            return SKIPPED
        return self._sync("catch-up")

    def retry_if_due(self) -> str | None:
        """The retry job (polled): run the planned retry once its time has come."""
        plan = self.retries.take_due() if self.retries is not None else None
        return self.retry(plan.attempt) if plan is not None else None

    def retry(self, attempt: int) -> str:
        """One retry after a failed or rejected sync, unless a sync has succeeded since."""
        if self._synced_since_failure():
            log.info("sync_retry_not_needed", attempt=attempt, reason="a sync succeeded since")
            return SKIPPED
        outcome = self._sync("retry", attempt)
        if outcome == SKIPPED and self.retries is not None:
            self.retries.again(attempt)  # the sync that held the lock may fail too
        return outcome

    def _sync(self, job: str, attempt: int = 1) -> str:
        request = SyncRequest(
            trigger="scheduler", lock_wait_seconds=LOCK_WAIT_SECONDS, attempt=attempt
        )
        with self._count_lock:
            self._running += 1
        try:
            report = run_sync(self.engine, self.settings, request)
        except SyncAlreadyRunning:
            log.info("scheduled_sync_skipped", job=job, reason="another sync is already running")
            return SKIPPED
        except Exception:
            log.exception("scheduled_sync_error", job=job, attempt=attempt)
            self._plan_retry("error", attempt, None)
            return "error"
        finally:
            with self._count_lock:
                self._running -= 1
        record_sync(report.outcome.value)
        if not report.ok:
            log.warning(
                "scheduled_sync_not_applied",
                job=job,
                attempt=attempt,
                outcome=report.outcome.value,
                reason=report.reason,
                run_id=report.run_id,
            )
        self._plan_retry(report.outcome.value, attempt, report.run_id)
        self._refresh_holder()
        return report.outcome.value

    def _plan_retry(self, outcome: str, attempt: int, run_id: int | None) -> None:
        """Plan the next retry after a failure (noted on the run), or cancel it on success."""
        if self.retries is None:
            return
        self._failed_at = None if outcome in ("applied", "unchanged") else utcnow()
        plan = self.retries.after(outcome, attempt)
        if plan is None or run_id is None:
            return
        try:
            repository.plan_retry(self.engine, run_id, plan.at)
        except Exception:  # the retry still happens; only the run record misses it
            log.warning("sync_retry_not_recorded", run_id=run_id, exc_info=True)

    def _synced_since_failure(self) -> bool:
        if self._failed_at is None:
            return False
        try:
            last = read_info(self.engine).last_synced_at
        except Exception:
            return False
        return last is not None and last > self._failed_at

    def _sync_started_since(self, since: dt.datetime) -> bool:
        with Session(self.engine) as session:
            query = select(SyncRun.id).where(SyncRun.started_at >= since).limit(1)
            return session.scalar(query) is not None

    def _refresh_holder(self) -> None:
        if self.holder is None:
            return
        try:
            self.holder.refresh()
        except Exception:
            log.warning("index_refresh_failed", exc_info=True)


class SyncScheduler(BackgroundScheduler):
    """A BackgroundScheduler that knows its sync jobs (to say whether one is running)."""

    def __init__(self, sync_jobs: ScheduledSync, **options: Any) -> None:
        super().__init__(**options)
        self.sync_jobs = sync_jobs
        self.catch_up_at_start = False
        self.delivery: DeliveryWorker | None = None
        self.heartbeat: Heartbeat | None = None

    def shutdown(self, wait: bool = True) -> None:
        """Stop the jobs, then the webhook delivery worker (it finishes its attempts)."""
        super().shutdown(wait=wait)
        if self.delivery is not None:
            self.delivery.close()


def build_scheduler(
    settings: Settings, engine: Engine, holder: SnapshotHolder | None = None
) -> SyncScheduler:
    """A configured, not yet started scheduler: the cron job, and a catch-up job if needed."""
    trigger = cron_trigger(settings.sync_cron)
    now = dt.datetime.now(TIMEZONE)
    retries = SyncRetries(settings.sync_retry_schedule, trigger)
    jobs = ScheduledSync(engine, settings, holder, dedupe_window(trigger, now), retries)
    scheduler = SyncScheduler(
        jobs,
        timezone=TIMEZONE,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        },
    )
    scheduler.add_job(jobs.tick, trigger, id=SYNC_JOB_ID, name="sync the register")
    scheduler.add_job(
        jobs.retry_if_due,
        "interval",
        seconds=RETRY_POLL_SECONDS,
        id=RETRY_JOB_ID,
        name="retry a failed sync when due",
        max_instances=2,  # a poll while a retry syncs returns at once (no "skipped" warnings)
    )
    scheduler.delivery = add_watch_jobs(scheduler, settings, engine)
    scheduler.heartbeat = add_heartbeat_job(scheduler, settings, engine, SYNC_JOB_ID)
    try:
        info: RegisterInfo | None = read_info(engine)
    except Exception:
        log.warning("registry_state_unreadable", exc_info=True)
        info = None
    if needs_catch_up(info, settings.max_age_hours, utcnow()):
        scheduler.add_job(jobs.catch_up, "date", run_date=now, id=CATCH_UP_JOB_ID)
        scheduler.catch_up_at_start = True
    return scheduler


def start_scheduler(
    settings: Settings, engine: Engine, holder: SnapshotHolder | None = None
) -> SyncScheduler:
    """Start the scheduler in background threads of this process."""
    scheduler = build_scheduler(settings, engine, holder)
    scheduler.start()
    job = scheduler.get_job(SYNC_JOB_ID)
    log.info(
        "scheduler_started",
        pid=os.getpid(),
        sync_cron=settings.sync_cron,
        timezone=str(TIMEZONE),
        next_sync=job.next_run_time.isoformat() if job and job.next_run_time else None,
        catch_up=scheduler.catch_up_at_start,
        sync_retry_schedule=settings.sync_retry_schedule,
        heartbeat_seconds=settings.heartbeat_seconds,
    )
    return scheduler


def stop_scheduler(scheduler: SyncScheduler) -> None:
    """Stop scheduling, then wait for a sync in progress to finish (it is one transaction)."""
    if scheduler.sync_jobs.running:
        log.info("scheduler_stopping", waiting_for="the running sync")
    scheduler.shutdown(wait=True)
    log.info("scheduler_stopped")


def run_until_stopped(
    settings: Settings,
    engine: Engine,
    stop_requested: Callable[[], bool],
    poll_seconds: float = 0.2,
) -> None:
    """The standalone scheduler: blocks until `stop_requested()` is true, then stops cleanly."""
    scheduler = start_scheduler(settings, engine)
    try:
        while not stop_requested():
            time.sleep(poll_seconds)
    finally:
        stop_scheduler(scheduler)
