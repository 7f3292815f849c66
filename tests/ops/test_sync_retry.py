"""Retries after a failed or rejected scheduled sync: backoff until the next scheduled run."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import SyncRun, utcnow
from app.ops.cron import cron_trigger
from app.ops.scheduler import ScheduledSync, SyncScheduler, start_scheduler
from app.ops.sync_retry import RETRY_JOB_ID, SyncRetries, plan_retry, retry_delay
from app.register.locks import sync_lock
from app.register.run_queries import sync_run_out
from tests.conftest import SAMPLE_SITE, make_settings
from tests.register import WORKING_TOWARDS, edited, fast_fetching, sample_routes
from tests.support.httpserver import LocalServer, routes_from_directory, serve, status
from tests.support.processes import wait_until

FAR_AWAY_CRON = "0 3 1 1 *"  # once a year: only catch-up and retries run during a test
DEFAULT = (300.0, 900.0, 2700.0, 3600.0)
NOON = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)


def runs(engine: Engine) -> list[SyncRun]:
    with Session(engine) as session:
        return list(session.query(SyncRun).order_by(SyncRun.id))


@pytest.fixture
def down_site(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    """A register that answers 503 to everything until a test gives it the sample pages
    (each sync gives up at once: no retries within the crawl)."""
    fast_fetching(monkeypatch, max_retries=0)
    with serve({"/robots.txt": status(503)}) as server:
        yield server


def bring_up(site: LocalServer) -> None:
    site.routes.clear()
    site.routes.update(routes_from_directory(SAMPLE_SITE))


class Clock:
    """Real time, plus whatever a test has skipped ahead."""

    def __init__(self) -> None:
        self.skipped = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return utcnow() + self.skipped

    def advance(self, seconds: float) -> None:
        self.skipped += dt.timedelta(seconds=seconds)


def retrying_jobs(engine: Engine, settings: Settings, clock: Clock) -> ScheduledSync:
    trigger = cron_trigger(settings.sync_cron)
    retries = SyncRetries(settings.sync_retry_schedule, trigger, clock=clock)
    return ScheduledSync(engine, settings, retries=retries)


def planned(jobs: ScheduledSync) -> tuple[int, dt.datetime] | None:
    plan = jobs.retries.pending if jobs.retries is not None else None
    return (plan.attempt, plan.at) if plan is not None else None


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def jobs(engine: Engine, database_url: str, down_site: LocalServer, clock: Clock) -> ScheduledSync:
    """Scheduled syncs of the down register (next cron run far away), retried on `clock`."""
    settings = make_settings(database_url, source_url=down_site.url, sync_cron=FAR_AWAY_CRON)
    return retrying_jobs(engine, settings, clock)


# --- the plan -------------------------------------------------------------------------------


def test_default_steps_are_5_15_45_minutes_then_hourly() -> None:
    settings = make_settings("sqlite://")

    assert tuple(settings.sync_retry_schedule) == DEFAULT
    delays = [retry_delay(DEFAULT, failed) for failed in range(1, 8)]
    assert delays == [300, 900, 2700, 3600, 3600, 3600, 3600]


def test_no_retry_is_planned_past_the_next_scheduled_run() -> None:
    next_run = NOON + dt.timedelta(minutes=50)

    first = plan_retry(DEFAULT, 1, NOON, next_run)
    third = plan_retry(DEFAULT, 3, NOON, next_run)
    fourth = plan_retry(DEFAULT, 4, NOON, next_run)

    assert first is not None
    assert (first.attempt, first.at) == (2, NOON + dt.timedelta(minutes=5))
    assert third is not None
    assert (third.attempt, third.at) == (4, NOON + dt.timedelta(minutes=45))
    assert fourth is None  # an hour from now is after the next scheduled run


@pytest.mark.parametrize(
    ("value", "schedule"), [("60", (60.0,)), ("10, 20,3600", (10.0, 20.0, 3600.0))]
)
def test_the_schedule_is_comma_separated_seconds_like_the_webhook_one(
    monkeypatch: pytest.MonkeyPatch, value: str, schedule: tuple[float, ...]
) -> None:
    monkeypatch.setenv("CERTLOOKUP_SYNC_RETRY_SCHEDULE", value)
    monkeypatch.setenv("CERTLOOKUP_WEBHOOK_RETRY_SCHEDULE", value)

    settings = Settings()

    assert tuple(settings.sync_retry_schedule) == schedule
    assert tuple(settings.webhook_retry_schedule) == schedule


@pytest.mark.parametrize("value", ["", "0", "5,0.5", "soon", "-60", "700000"])
def test_a_schedule_that_would_hammer_the_register_or_cannot_be_read_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CERTLOOKUP_SYNC_RETRY_SCHEDULE", value)

    with pytest.raises(ValidationError, match="sync_retry_schedule"):
        Settings()


# --- the jobs -------------------------------------------------------------------------------


def test_a_failed_scheduled_sync_plans_retries_with_growing_waits_until_one_succeeds(
    engine: Engine, down_site: LocalServer, jobs: ScheduledSync, clock: Clock
) -> None:
    started = clock()
    assert jobs.tick() == "failed"
    second = planned(jobs)
    clock.advance(290)
    not_yet = jobs.retry_if_due()
    clock.advance(15)
    assert jobs.retry_if_due() == "failed"
    third = planned(jobs)
    bring_up(down_site)
    clock.advance(900)
    assert jobs.retry_if_due() == "applied"

    assert not_yet is None
    assert second is not None
    assert third is not None
    assert second[0] == 2
    assert 300 <= (second[1] - started).total_seconds() <= 330
    assert third[0] == 3
    assert 305 + 900 <= (third[1] - started).total_seconds() <= 305 + 930
    assert planned(jobs) is None  # the success cancelled further retries
    first, retried, succeeded = (sync_run_out(run) for run in runs(engine))
    assert [(r.trigger, r.attempt, r.outcome) for r in (first, retried, succeeded)] == [
        ("scheduler", 1, "failed"),
        ("scheduler", 2, "failed"),
        ("scheduler", 3, "applied"),
    ]
    assert first.retry_at == second[1]
    assert retried.retry_at == third[1]
    assert succeeded.retry_at is None


def test_a_rejected_sync_is_retried_too(engine: Engine, database_url: str) -> None:
    with serve(sample_routes()) as site:
        settings = make_settings(database_url, source_url=site.url, sync_cron=FAR_AWAY_CRON)
        jobs = retrying_jobs(engine, settings, Clock())
        assert jobs.tick() == "applied"
        site.routes[WORKING_TOWARDS] = edited(
            WORKING_TOWARDS,
            lambda page: re.sub(
                r'<ul class="working-towards">.*?</ul>',
                '<ul class="working-towards"></ul>',
                page,
                flags=re.S,
            ),
        )
        assert jobs.tick() == "rejected"

    plan = planned(jobs)
    assert plan is not None
    assert plan[0] == 2
    assert runs(engine)[-1].retry_at == plan[1]


def test_a_retry_is_skipped_when_another_sync_succeeded_since_the_failure(
    engine: Engine, down_site: LocalServer, jobs: ScheduledSync, clock: Clock
) -> None:
    assert jobs.tick() == "failed"
    bring_up(down_site)
    other = ScheduledSync(engine, jobs.settings)  # say, an operator's sync from the API
    assert other.tick() == "applied"
    clock.advance(301)

    assert jobs.retry_if_due() == "skipped"
    assert planned(jobs) is None
    assert [r.attempt for r in runs(engine)] == [1, 1]


def test_a_retry_that_finds_another_sync_running_is_planned_again(
    engine: Engine, jobs: ScheduledSync, clock: Clock
) -> None:
    assert jobs.tick() == "failed"
    clock.advance(301)

    with sync_lock(engine, wait_seconds=1):
        assert jobs.retry_if_due() == "skipped"

    plan = planned(jobs)
    assert plan is not None
    assert plan[0] == 2  # the same attempt, after the same wait
    assert len(runs(engine)) == 1


def test_a_success_cancels_the_pending_retry(
    engine: Engine, down_site: LocalServer, jobs: ScheduledSync, clock: Clock
) -> None:
    assert jobs.tick() == "failed"
    bring_up(down_site)

    assert jobs.tick() == "applied"  # the next scheduled run comes first and succeeds
    clock.advance(3600)
    assert jobs.retry_if_due() is None
    assert [r.attempt for r in runs(engine)] == [1, 1]


def test_a_fresh_install_that_cannot_reach_the_register_retries_until_it_can(
    engine: Engine, database_url: str, down_site: LocalServer
) -> None:
    settings = make_settings(
        database_url,
        source_url=down_site.url,
        sync_cron=FAR_AWAY_CRON,
        sync_retry_schedule=[1, 1.5],
    )
    scheduler: SyncScheduler = start_scheduler(settings, engine)
    try:
        wait_until(
            lambda: [r.outcome for r in runs(engine)][:2] == ["failed", "failed"],
            timeout=20,
            what="a failed retry",
        )
        bring_up(down_site)
        wait_until(
            lambda: any(r.outcome == "applied" for r in runs(engine)),
            timeout=20,
            what="a successful retry",
        )
        assert scheduler.get_job(RETRY_JOB_ID) is not None
    finally:
        scheduler.shutdown(wait=True)

    done = runs(engine)
    assert [r.outcome for r in done[:2]] == ["failed", "failed"]
    assert done[-1].outcome == "applied"
    assert [r.attempt for r in done] == list(range(1, len(done) + 1))
    assert all(r.trigger == "scheduler" for r in done)
    assert scheduler.sync_jobs.retries is not None
    assert scheduler.sync_jobs.retries.pending is None
