"""Syncs started over the API: run on a worker thread, answered as soon as the run is recorded."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import structlog
from sqlalchemy import Engine

from app.checks.snapshot import SnapshotHolder
from app.config import Settings
from app.models import SyncOutcome
from app.ops.metrics import record_sync
from app.register.locks import SyncAlreadyRunning
from app.register.sync import SyncReport, SyncRequest, run_sync

log = structlog.get_logger(__name__)


@dataclasses.dataclass(slots=True)
class _Launch:
    """What a request waits for: the run id once recorded, or the end of a sync that never was."""

    ready: threading.Event = dataclasses.field(default_factory=threading.Event)
    run_id: int | None = None

    def started(self, run_id: int) -> None:
        self.run_id = run_id
        self.ready.set()


class BackgroundSyncs:
    """One API-started sync at a time in this process; the sync lock covers other processes.

    Create it in the app's lifespan and call `shutdown()` when the app stops.
    """

    def __init__(self, engine: Engine, settings: Settings, holder: SnapshotHolder) -> None:
        self._engine = engine
        self._settings = settings
        self._holder = holder
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="api-sync")
        self._guard = threading.Lock()
        self._current: Future[None] | None = None

    def start(self, request: SyncRequest) -> int:
        """Start a (real, not dry) sync; return its run id as soon as the run is recorded.

        Raises what stopped it from starting: SyncAlreadyRunning when a sync started here is
        still running or another process holds the lock; a database error otherwise.
        """
        launch = _Launch()
        request = dataclasses.replace(request, on_started=launch.started)
        with self._guard:
            if self._current is not None and not self._current.done():
                raise SyncAlreadyRunning("a sync started over the API is still running")
            job = self._current = self._executor.submit(self._run, request, launch)
        # Wakes the request if the sync ends (or is cancelled at shutdown) without starting.
        job.add_done_callback(lambda _: launch.ready.set())
        launch.ready.wait()
        if launch.run_id is not None:
            return launch.run_id
        job.result()  # raises what stopped it
        raise RuntimeError("the sync ended without recording a run")

    def shutdown(self) -> None:
        """Let a running sync finish (so it records its outcome), then stop the worker."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _run(self, request: SyncRequest, launch: _Launch) -> None:
        try:
            report = run_sync(self._engine, self._settings, request)
        except Exception:
            if launch.run_id is None:
                raise  # it never started: the request waiting for it raises this
            # Nobody waits for this future: log here rather than raise into nowhere.
            log.exception("api_sync_failed", run_id=launch.run_id)
            record_sync(SyncOutcome.FAILED.value)
            return
        self._finished(report)

    def _finished(self, report: SyncReport) -> None:
        record_sync(report.outcome.value)
        try:
            self._holder.refresh()
        except Exception:  # the run stands; the poller swaps the index in on its next pass
            log.warning("index_refresh_failed", run_id=report.run_id, exc_info=True)
