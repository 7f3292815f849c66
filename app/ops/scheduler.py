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
import re
import threading
import time
from collections.abc import Callable
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.checks.snapshot import RegisterInfo, SnapshotHolder, read_info
from app.config import Settings
from app.models import SyncRun, utcnow
from app.ops.metrics import record_sync
from app.register.locks import SyncAlreadyRunning
from app.register.sync import SyncRequest, run_sync
from app.watches.jobs import add_watch_jobs
from app.webhooks.delivery import DeliveryWorker

log = structlog.get_logger(__name__)

TIMEZONE = ZoneInfo("Europe/London")
SYNC_JOB_ID = "sync"
CATCH_UP_JOB_ID = "catch-up"
# A job late by more than this is dropped (APScheduler's default is 1 second: a busy or
# suspended host would silently skip the day's sync).
MISFIRE_GRACE_SECONDS = 6 * 3600
# Try the lock once: a tick that finds a sync running is already served by that sync.
# Waiting could let this process start a second sync the moment the first one ends.
LOCK_WAIT_SECONDS = 0.0
# A tick skips when any sync started this recently (covers clock skew between hosts and a
# sync so quick that it ended before the other scheduler reached the lock).
MAX_DEDUPE_SECONDS = 60.0

_CRONTAB_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_WEEKDAY_PART = re.compile(r"^(?P<first>\*|\w+)(?:-(?P<last>\w+))?(?:/(?P<step>\d+))?$")


def _crontab_day(token: str) -> int:
    lowered = token.lower()
    if lowered in _CRONTAB_WEEKDAYS:
        return _CRONTAB_WEEKDAYS.index(lowered)
    if token.isdigit() and int(token) <= 7:
        return int(token) % 7  # 0 and 7 are both Sunday
    raise ValueError(f"invalid day of week {token!r} in sync_cron")


def _weekdays(field: str) -> str:
    """Crontab day-of-week (0 or 7 = Sunday) as APScheduler 3 names (its 0 is Monday)."""
    if field in {"*", "?"}:
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        match = _WEEKDAY_PART.match(part)
        if not match:
            raise ValueError(f"invalid day of week {part!r} in sync_cron")
        first, last, step = match["first"], match["last"], int(match["step"] or 1)
        start = 0 if first == "*" else _crontab_day(first)
        end = 6 if first == "*" or (match["step"] and not last) else start
        if last:
            end = _crontab_day(last) or 7  # "5-7", "fri-sun": Sunday ends the week
        if end < start or step < 1:
            raise ValueError(f"invalid day-of-week range {part!r} in sync_cron")
        days.update(day % 7 for day in range(start, end + 1, step))
    if len(days) == len(_CRONTAB_WEEKDAYS):
        return "*"
    return ",".join(_CRONTAB_WEEKDAYS[day] for day in sorted(days, key=lambda d: (d - 1) % 7))


def cron_trigger(expression: str) -> CronTrigger:
    """A trigger from a crontab line (5 fields, or 6 with seconds first), London time."""
    fields = expression.split()
    if len(fields) == 5:
        fields.insert(0, "0")
    if len(fields) != 6:
        raise ValueError(
            f"sync_cron needs 5 fields (minute hour day month weekday) or 6 (seconds first), "
            f"got {expression!r}"
        )
    second, minute, hour, day, month, weekday = fields
    return CronTrigger(
        second=second,
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_weekdays(weekday),
        timezone=TIMEZONE,
    )


def dedupe_window(trigger: CronTrigger, now: dt.datetime) -> float:
    """Seconds a tick looks back for a sync already started: under half the shortest gap."""
    fire_times: list[dt.datetime] = []
    previous: dt.datetime | None = None
    moment = now
    for _ in range(8):
        previous = trigger.get_next_fire_time(previous, moment)
        if previous is None:
            break
        fire_times.append(previous)
        moment = previous + dt.timedelta(seconds=1)
    gaps = [(b - a).total_seconds() for a, b in pairwise(fire_times)]
    return min([MAX_DEDUPE_SECONDS, *(gap / 2 for gap in gaps)])


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
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.holder = holder
        self.dedupe_seconds = dedupe_seconds
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
            return "skipped"
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
            return "skipped"
        return self._sync("catch-up")

    def _sync(self, job: str) -> str:
        request = SyncRequest(trigger="scheduler", lock_wait_seconds=LOCK_WAIT_SECONDS)
        with self._count_lock:
            self._running += 1
        try:
            report = run_sync(self.engine, self.settings, request)
        except SyncAlreadyRunning:
            log.info("scheduled_sync_skipped", job=job, reason="another sync is already running")
            return "skipped"
        except Exception:
            log.exception("scheduled_sync_error", job=job)
            return "error"
        finally:
            with self._count_lock:
                self._running -= 1
        record_sync(report.outcome.value)
        if not report.ok:
            log.warning(
                "scheduled_sync_not_applied",
                job=job,
                outcome=report.outcome.value,
                reason=report.reason,
                run_id=report.run_id,
            )
        self._refresh_holder()
        return report.outcome.value

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
    jobs = ScheduledSync(engine, settings, holder, dedupe_window(trigger, now))
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
    scheduler.delivery = add_watch_jobs(scheduler, settings, engine)
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
