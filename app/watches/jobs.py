"""The scheduler's watch jobs: upkeep evaluation every minute (webhook delivery is added by
app/webhooks). Each job catches and logs its own errors: a failure waits for the next run."""

from __future__ import annotations

import structlog
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import Engine

from app.config import Settings
from app.watches.upkeep import UPKEEP_SECONDS, run_upkeep

log = structlog.get_logger(__name__)
UPKEEP_JOB_ID = "watch-upkeep"


def upkeep_job(engine: Engine, settings: Settings) -> None:
    """Evaluate due watches; never raises."""
    try:
        run_upkeep(engine, settings)
    except Exception:
        log.exception("watch_upkeep_failed")


def add_watch_jobs(scheduler: BaseScheduler, settings: Settings, engine: Engine) -> None:
    """Register the watch jobs on a scheduler that is not started yet."""
    scheduler.add_job(
        upkeep_job,
        "interval",
        seconds=UPKEEP_SECONDS,
        args=(engine, settings),
        id=UPKEEP_JOB_ID,
        name="evaluate due watches",
    )
