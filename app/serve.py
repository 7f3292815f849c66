"""The `serve` and `scheduler` commands: the API under uvicorn, and the standalone scheduler.

Exactly one scheduler per deployment:
- `serve --workers 1` (default): the scheduler runs inside the one API process (its lifespan).
- `serve --workers N`: the workers start with CERTLOOKUP_SCHEDULER=false and the scheduler runs
  once, in the supervising parent process.
- replicas: `serve` with CERTLOOKUP_SCHEDULER=off everywhere, plus one `certlookup scheduler`.
"""

from __future__ import annotations

import inspect
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import structlog
import uvicorn

from app.config import Settings
from app.db import make_engine, upgrade_database
from app.ops.scheduler import run_until_stopped, start_scheduler, stop_scheduler

log = structlog.get_logger(__name__)
APP_FACTORY = "app.main:create_app"
SCHEDULER_ENV = "CERTLOOKUP_SCHEDULER"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# uvicorn's supervisor kills a worker that does not answer its ping within 5 s by default; a
# worker still importing on a busy host takes longer, and would be killed over and over.
WORKER_HEALTHCHECK_SECONDS = 30


class StopRequest:
    """Set by SIGTERM/SIGINT; a second signal exits at once instead of waiting for a sync."""

    def __init__(self) -> None:
        self.signals: list[int] = []

    def __call__(self) -> bool:
        return bool(self.signals)

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        """Signal handler: only records (no locks), so it is safe at any point."""
        if self.signals:
            os._exit(128 + signum)
        self.signals.append(signum)


@contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """Route SIGTERM and SIGINT to a StopRequest for the duration of the block."""
    request = StopRequest()
    previous = {sig: signal.signal(sig, request.handle) for sig in STOP_SIGNALS}
    try:
        yield request
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Run the API under uvicorn, with at most one scheduler however many workers."""
    if settings.is_sqlite:
        # Once, before any worker starts: workers migrating one new file at once would race.
        upgrade_database(settings)
    if workers > 1:
        # Workers are spawned (not forked) and read the environment afresh.
        os.environ[SCHEDULER_ENV] = "false"
    log.info(
        "serve_starting",
        host=host,
        port=port,
        workers=workers,
        scheduler=_where_scheduler_runs(settings, workers),
    )
    with _supervisor_scheduler(settings, enabled=workers > 1 and settings.scheduler):
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,  # the app logs each request itself
            # uvicorn's own lines (start-up, shutdown, errors) go through the app's logging
            # (app/logging.configure_logging), as JSON in production, not in uvicorn's format.
            log_config=None,
            # The app decides whom to believe about the client (CERTLOOKUP_TRUSTED_PROXIES);
            # uvicorn's own default trusts X-Forwarded-For from any loopback peer.
            proxy_headers=False,
            server_header=False,  # no "server: uvicorn" banner
            **_worker_options(workers),
        )


@contextmanager
def _supervisor_scheduler(settings: Settings, *, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    engine = make_engine(settings.sqlalchemy_url)
    scheduler = start_scheduler(settings, engine)
    try:
        yield
    finally:
        with stop_on_signals():  # uvicorn has returned: a second signal now exits at once
            stop_scheduler(scheduler)
        engine.dispose()


def _worker_options(workers: int) -> dict[str, Any]:
    if workers > 1 and "timeout_worker_healthcheck" in inspect.signature(uvicorn.run).parameters:
        return {"timeout_worker_healthcheck": WORKER_HEALTHCHECK_SECONDS}
    return {}


def _where_scheduler_runs(settings: Settings, workers: int) -> str:
    if not settings.scheduler:
        return "off"
    return "in-process" if workers == 1 else "supervisor"


def run_scheduler(settings: Settings) -> None:
    """Run only the scheduler, until SIGTERM or SIGINT (a running sync is allowed to finish)."""
    if settings.is_sqlite:
        upgrade_database(settings)
    if not settings.scheduler:
        log.info("scheduler_setting_ignored", reason="`certlookup scheduler` always schedules")
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with stop_on_signals() as stop:
            run_until_stopped(settings, engine, stop)
    finally:
        engine.dispose()
