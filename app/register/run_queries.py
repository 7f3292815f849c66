"""Reading sync runs for the API. Never commits: the caller owns the transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import SyncRun
from app.register.queries import consistent_read
from app.register.schemas import SyncRunOut


def sync_run_out(run: SyncRun) -> SyncRunOut:
    """The public view of a recorded run."""
    return SyncRunOut.model_validate(run, from_attributes=True)


@dataclass(frozen=True, slots=True)
class SyncRunsSummary:
    """What the ETag of the run list depends on."""

    total: int
    newest_id: int | None
    last_finished_at: dt.datetime | None


def sync_runs_summary(session: Session) -> SyncRunsSummary:
    """Start a consistent read; how many runs there are, the newest id, the latest finish."""
    consistent_read(session)
    total, newest, finished = session.execute(
        select(func.count(SyncRun.id), func.max(SyncRun.id), func.max(SyncRun.finished_at))
    ).one()
    return SyncRunsSummary(total, newest, finished)


def list_sync_runs(session: Session, offset: int, limit: int) -> Sequence[SyncRunOut]:
    """One page of runs, newest first."""
    runs = session.scalars(select(SyncRun).order_by(SyncRun.id.desc()).offset(offset).limit(limit))
    return [sync_run_out(run) for run in runs]


def get_sync_run(session: Session, run_id: int) -> SyncRunOut | None:
    """One recorded run as it is now, or None when no run has this id."""
    run = session.get(SyncRun, run_id)
    return sync_run_out(run) if run is not None else None
