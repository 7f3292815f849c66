"""Retries after a failed or rejected scheduled sync: backoff until the next scheduled run.

Without them, one missed 03:00 run leaves the data a day older, and a fresh install that
cannot reach the register stays empty all day. The steps come from
CERTLOOKUP_SYNC_RETRY_SCHEDULE (default 5, 15, 45 minutes, then hourly); the last step repeats
until the next scheduled run, which starts the steps again. One retry is planned at a time (a
new failure replaces it); a scheduler job polls for it every second, and it goes through
run_sync's lock like any other sync.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog
from apscheduler.triggers.base import BaseTrigger

from app.models import SyncOutcome, utcnow

log = structlog.get_logger(__name__)
RETRY_JOB_ID = "sync-retry"
RETRY_POLL_SECONDS = 1
SUCCEEDED = frozenset({SyncOutcome.APPLIED.value, SyncOutcome.UNCHANGED.value})
SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class RetryPlan:
    """The next attempt and when it runs."""

    attempt: int
    """The attempt the retry will be: 2 after the scheduled run itself failed."""
    at: dt.datetime
    delay_seconds: float


def retry_delay(schedule: Sequence[float], failed_attempt: int) -> float:
    """Seconds to wait after attempt `failed_attempt` failed (1 = the scheduled run itself);
    past the end of the schedule its last step repeats."""
    return schedule[min(failed_attempt, len(schedule)) - 1]


def plan_retry(
    schedule: Sequence[float],
    failed_attempt: int,
    now: dt.datetime,
    next_scheduled: dt.datetime | None,
) -> RetryPlan | None:
    """The retry after a failed attempt; None when the next scheduled run comes first."""
    delay = retry_delay(schedule, failed_attempt)
    at = now + dt.timedelta(seconds=delay)
    if next_scheduled is not None and at >= next_scheduled:
        return None
    return RetryPlan(failed_attempt + 1, at, delay)


class SyncRetries:
    """The one pending retry of a scheduler: planned after a failure, taken when due.

    A job of the scheduler polls `take_due()` (RETRY_POLL_SECONDS): jobs never add jobs, since
    APScheduler's shutdown holds its job-store lock while it waits for running jobs.
    """

    def __init__(
        self,
        schedule: Sequence[float],
        trigger: BaseTrigger,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.schedule = tuple(schedule)
        self.trigger = trigger
        self.clock = clock
        self._lock = threading.Lock()
        self._pending: RetryPlan | None = None

    @property
    def pending(self) -> RetryPlan | None:
        """The planned retry, if any."""
        return self._pending

    def next_scheduled(self, now: dt.datetime) -> dt.datetime | None:
        """When the scheduled sync runs next after `now`."""
        return self.trigger.get_next_fire_time(None, now)

    def after(self, outcome: str, attempt: int) -> RetryPlan | None:
        """Plan (or cancel) the retry after an attempt ended with `outcome`.

        A success cancels a pending retry; a failure, rejection or error plans the next one
        (replacing any pending one); a skip (another process held the lock) changes nothing.
        """
        if outcome == SKIPPED:
            return self._pending
        if outcome in SUCCEEDED:
            self.cancel()
            if attempt > 1:
                log.info("sync_recovered", attempt=attempt)
            return None
        now = self.clock()
        plan = plan_retry(self.schedule, attempt, now, self.next_scheduled(now))
        with self._lock:
            self._pending = plan
        if plan is None:
            log.warning(
                "sync_retry_not_planned",
                failed_attempt=attempt,
                outcome=outcome,
                reason="the next scheduled run comes first",
                next_sync=_iso(self.next_scheduled(now)),
            )
            return None
        log.warning(
            "sync_retry_planned",
            failed_attempt=attempt,
            outcome=outcome,
            attempt=plan.attempt,
            retry_at=plan.at.isoformat(),
            delay_seconds=plan.delay_seconds,
        )
        return plan

    def again(self, attempt: int) -> RetryPlan | None:
        """A retry found another sync running: try the same attempt after the same wait."""
        return self.after(SyncOutcome.FAILED.value, attempt - 1) if attempt > 1 else None

    def cancel(self) -> None:
        """Drop the pending retry, if any."""
        with self._lock:
            self._pending = None

    def take_due(self) -> RetryPlan | None:
        """The pending retry once its time has come (it is then no longer pending)."""
        with self._lock:
            plan = self._pending
            if plan is None or plan.at > self.clock():
                return None
            self._pending = None
            return plan


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
