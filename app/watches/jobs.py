"""The scheduler's watch jobs: upkeep evaluation every minute, webhook delivery every second.

Each job catches and logs its own errors: a failure waits for the next run. On PostgreSQL any
number of schedulers may deliver side by side (the outbox is claimed FOR UPDATE SKIP LOCKED);
on SQLite one delivers at a time (a lease).
"""

from __future__ import annotations

import structlog
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import Engine

from app.config import Settings
from app.watches.upkeep import UPKEEP_SECONDS, run_upkeep
from app.webhooks.delivery import DeliveryWorker

log = structlog.get_logger(__name__)
UPKEEP_JOB_ID = "watch-upkeep"
DELIVERY_JOB_ID = "webhook-delivery"
DELIVERY_POLL_SECONDS = 1
DELIVERY_RUN_SECONDS = 30.0


def upkeep_job(engine: Engine, settings: Settings) -> None:
    """Evaluate due watches; never raises."""
    try:
        run_upkeep(engine, settings)
    except Exception:
        log.exception("watch_upkeep_failed")


def delivery_job(worker: DeliveryWorker) -> None:
    """Deliver what is due (for up to 30 s; the next run goes on); never raises."""
    try:
        worker.drain(DELIVERY_RUN_SECONDS)
    except Exception:
        log.exception("webhook_delivery_failed")


def add_watch_jobs(scheduler: BaseScheduler, settings: Settings, engine: Engine) -> DeliveryWorker:
    """Register the watch jobs on a scheduler that is not started yet; the delivery worker
    is returned so that its owner can close it when the scheduler stops."""
    scheduler.add_job(
        upkeep_job,
        "interval",
        seconds=UPKEEP_SECONDS,
        args=(engine, settings),
        id=UPKEEP_JOB_ID,
        name="evaluate due watches",
    )
    worker = DeliveryWorker(engine, settings)
    scheduler.add_job(
        delivery_job,
        "interval",
        seconds=DELIVERY_POLL_SECONDS,
        args=(worker,),
        id=DELIVERY_JOB_ID,
        name="deliver webhooks",
    )
    return worker
