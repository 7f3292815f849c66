"""The scheduler's heartbeat: a row per host, rewritten every CERTLOOKUP_HEARTBEAT_SECONDS.

If the scheduler process dies or hangs, the data silently ages; its heartbeat's age, on
/readyz, /metrics and `certlookup heartbeat` (the scheduler container's healthcheck), says so
long before the data turns stale.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass

import structlog
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import SchedulerHeartbeat, utcnow

log = structlog.get_logger(__name__)
HEARTBEAT_JOB_ID = "heartbeat"
MISSED_BEATS_ALLOWED = 4
"""`certlookup heartbeat` fails once the newest beat is older than this many intervals."""
FORGET_AFTER = dt.timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Beat:
    """The newest heartbeat, as read."""

    host: str
    pid: int
    started_at: dt.datetime
    beat_at: dt.datetime
    next_sync_at: dt.datetime | None

    def age_seconds(self, now: dt.datetime | None = None) -> float:
        """Seconds since this beat (never negative: hosts' clocks differ a little)."""
        return max(0.0, ((now or utcnow()) - self.beat_at).total_seconds())


class Heartbeat:
    """Writes this process's beat; the scheduler's heartbeat job calls `beat()`."""

    def __init__(self, engine: Engine, scheduler: BaseScheduler, sync_job_id: str) -> None:
        self.engine = engine
        self.scheduler = scheduler
        self.sync_job_id = sync_job_id
        self.host = this_host()
        self.pid = os.getpid()
        self.started_at = utcnow()

    def beat(self) -> None:
        """Write the beat; never raises (a database outage is logged, the next beat retries)."""
        try:
            self._write()
        except Exception:
            log.warning("scheduler_heartbeat_failed", exc_info=True)

    def _next_sync_at(self) -> dt.datetime | None:
        job = self.scheduler.get_job(self.sync_job_id)
        next_run: dt.datetime | None = job.next_run_time if job is not None else None
        return next_run.astimezone(dt.UTC) if next_run is not None else None

    def _write(self) -> None:
        now = utcnow()
        values = {
            "pid": self.pid,
            "started_at": self.started_at,
            "beat_at": now,
            "next_sync_at": self._next_sync_at(),
        }
        forgotten = now - FORGET_AFTER
        try:
            with Session(self.engine) as session, session.begin():
                # Hosts that stopped beating long ago (containers replaced by a deploy).
                session.execute(
                    delete(SchedulerHeartbeat).where(SchedulerHeartbeat.beat_at < forgotten)
                )
                row = session.get(SchedulerHeartbeat, self.host)
                if row is None:
                    session.add(SchedulerHeartbeat(host=self.host, **values))
                else:
                    for name, value in values.items():
                        setattr(row, name, value)
        except IntegrityError:  # another process on this host wrote the first row meanwhile
            log.info("scheduler_heartbeat_raced", host=self.host)


def add_heartbeat_job(
    scheduler: BaseScheduler, settings: Settings, engine: Engine, sync_job_id: str
) -> Heartbeat:
    """Beat at start and every CERTLOOKUP_HEARTBEAT_SECONDS on a scheduler not yet started."""
    heartbeat = Heartbeat(engine, scheduler, sync_job_id)
    scheduler.add_job(
        heartbeat.beat,
        "interval",
        seconds=settings.heartbeat_seconds,
        next_run_time=utcnow(),
        id=HEARTBEAT_JOB_ID,
        name="write the scheduler heartbeat",
    )
    return heartbeat


def newest_beat(bind: Engine | Connection, host: str | None = None) -> Beat | None:
    """The newest heartbeat (of one host, if given); None when none was ever written."""
    query = select(SchedulerHeartbeat).order_by(SchedulerHeartbeat.beat_at.desc()).limit(1)
    if host is not None:
        query = query.where(SchedulerHeartbeat.host == host)
    with Session(bind) as session:
        row = session.scalars(query).first()
        if row is None:
            return None
        return Beat(row.host, row.pid, row.started_at, row.beat_at, row.next_sync_at)


def this_host() -> str:
    """The host name heartbeats are written under."""
    return socket.gethostname()[:255]
