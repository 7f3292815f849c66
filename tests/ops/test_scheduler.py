"""The sync scheduler: trigger and job defaults, catch-up at start, skips, failures, holder."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from app.checks.snapshot import RegisterInfo, SnapshotHolder
from app.config import Settings
from app.models import RegistryState, SyncRun, utcnow
from app.ops import scheduler as scheduler_module
from app.ops.scheduler import (
    CATCH_UP_JOB_ID,
    MISFIRE_GRACE_SECONDS,
    SYNC_JOB_ID,
    TIMEZONE,
    ScheduledSync,
    SyncScheduler,
    build_scheduler,
    cron_trigger,
    dedupe_window,
    needs_catch_up,
    run_until_stopped,
    start_scheduler,
)
from app.register.locks import SyncAlreadyRunning, sync_lock
from app.register.sync import SyncRequest, run_sync
from tests.conftest import SAMPLE_SITE, make_settings
from tests.support.httpserver import LocalServer, serve, serve_directory
from tests.support.processes import wait_until

LONDON_SUMMER = dt.datetime(2026, 7, 1, 12, 0, tzinfo=TIMEZONE)
LONDON_WINTER = dt.datetime(2026, 1, 10, 12, 0, tzinfo=TIMEZONE)
FAR_AWAY_CRON = "0 3 1 1 *"  # once a year: only the catch-up job can run during a test


@pytest.fixture
def site() -> Iterator[LocalServer]:
    """The sample register, served on 127.0.0.1."""
    with serve_directory(SAMPLE_SITE) as server:
        yield server


@pytest.fixture
def site_settings(database_url: str, site: LocalServer) -> Settings:
    """Test settings syncing from the local sample site."""
    return make_settings(database_url, source_url=site.url, sync_cron=FAR_AWAY_CRON)


@pytest.fixture
def stopped() -> Iterator[list[SyncScheduler]]:
    """Schedulers a test started; shut down (waiting for jobs) even if the test fails."""
    schedulers: list[SyncScheduler] = []
    yield schedulers
    for scheduler in schedulers:
        if scheduler.running:
            scheduler.shutdown(wait=True)


def fire_times(trigger: CronTrigger, start: dt.datetime, count: int) -> list[dt.datetime]:
    """The next `count` fire times of a trigger after `start`."""
    times: list[dt.datetime] = []
    previous: dt.datetime | None = None
    now = start
    for _ in range(count):
        previous = trigger.get_next_fire_time(previous, now)
        assert previous is not None
        times.append(previous)
        now = previous + dt.timedelta(seconds=1)
    return times


def scheduler_runs(engine: Engine) -> list[SyncRun]:
    """Sync runs the scheduler started, in id order."""
    with Session(engine) as session:
        return list(
            session.query(SyncRun).filter(SyncRun.trigger == "scheduler").order_by(SyncRun.id)
        )


def all_runs(engine: Engine) -> list[SyncRun]:
    """Every sync run, in id order."""
    with Session(engine) as session:
        return list(session.query(SyncRun).order_by(SyncRun.id))


def sync_now(engine: Engine, settings: Settings) -> None:
    """A successful sync by "someone else" (trigger test), so the data is fresh."""
    report = run_sync(engine, settings, SyncRequest(trigger="test", lock_wait_seconds=1))
    assert report.ok, report.reason


def age_data(engine: Engine, hours: float) -> None:
    """Pretend the last successful sync was `hours` ago."""
    with Session(engine) as session, session.begin():
        session.execute(
            update(RegistryState).values(last_synced_at=utcnow() - dt.timedelta(hours=hours))
        )


# --- the trigger ----------------------------------------------------------------------------


def test_default_sync_is_daily_at_three_london_time_in_summer_and_winter() -> None:
    trigger = cron_trigger(Settings(_env_file=None).sync_cron)  # type: ignore[call-arg]

    summer = fire_times(trigger, LONDON_SUMMER, 2)
    winter = fire_times(trigger, LONDON_WINTER, 1)

    assert [t.astimezone(dt.UTC).hour for t in summer] == [2, 2]  # 03:00 BST
    assert summer[1] - summer[0] == dt.timedelta(days=1)
    assert winter[0].astimezone(dt.UTC).hour == 3  # 03:00 GMT
    assert str(trigger.timezone) == "Europe/London"


def test_six_field_cron_has_a_seconds_field() -> None:
    times = fire_times(cron_trigger("*/5 * * * * *"), LONDON_SUMMER, 4)

    assert [(b - a).total_seconds() for a, b in itertools.pairwise(times)] == [5.0] * 3
    assert all(t.second % 5 == 0 for t in times)


@pytest.mark.parametrize(
    ("weekday_field", "expected_weekdays"),
    [
        ("1", {"Monday"}),
        ("0", {"Sunday"}),
        ("7", {"Sunday"}),
        ("1-5", {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}),
        ("5-7", {"Friday", "Saturday", "Sunday"}),
        ("*/2", {"Sunday", "Tuesday", "Thursday", "Saturday"}),
        ("sat,sun", {"Saturday", "Sunday"}),
    ],
)
def test_crontab_weekday_numbers_mean_what_crontab_means(
    weekday_field: str, expected_weekdays: set[str]
) -> None:
    # APScheduler 3 numbers Monday 0 (crontab: Sunday 0); an operator writes crontab.
    times = fire_times(cron_trigger(f"0 3 * * {weekday_field}"), LONDON_SUMMER, 14)

    assert {t.strftime("%A") for t in times} == expected_weekdays
    assert all((t.hour, t.minute) == (3, 0) for t in times)


@pytest.mark.parametrize("expression", ["", "* * *", "0 3 * * 8", "61 * * * *", "0 3 * * 5-1"])
def test_invalid_sync_cron_is_refused(expression: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        cron_trigger(expression)


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [("0 3 * * *", 60.0), ("*/5 * * * * *", 2.5), ("0,1 * * * *", 30.0)],
)
def test_dedupe_window_is_under_half_the_shortest_gap_between_ticks(
    expression: str, seconds: float
) -> None:
    assert dedupe_window(cron_trigger(expression), LONDON_SUMMER) == seconds


@pytest.mark.parametrize(("value", "enabled"), [("off", False), ("false", False), ("on", True)])
def test_scheduler_setting_accepts_on_and_off(
    monkeypatch: pytest.MonkeyPatch, value: str, enabled: bool
) -> None:
    monkeypatch.setenv("CERTLOOKUP_SCHEDULER", value)

    assert Settings(_env_file=None).scheduler is enabled  # type: ignore[call-arg]


def _info(last_synced_at: dt.datetime | None) -> RegisterInfo:
    return RegisterInfo(1, None, last_synced_at, last_synced_at, last_synced_at, None)


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        (None, True),  # registry state unreadable
        (_info(None), True),  # never synced
        (_info(utcnow() - dt.timedelta(hours=73)), True),
        (_info(utcnow() - dt.timedelta(hours=71)), False),
    ],
)
def test_catch_up_is_needed_when_never_synced_or_older_than_max_age(
    info: RegisterInfo | None, expected: bool
) -> None:
    assert needs_catch_up(info, 72.0, utcnow()) is expected


# --- the configured scheduler ---------------------------------------------------------------


def test_scheduler_has_cron_job_from_settings_with_coalesce_one_instance_and_long_grace(
    engine: Engine, database_url: str, stopped: list[SyncScheduler]
) -> None:
    settings = make_settings(database_url, sync_cron="15 4 * * 1-5")
    scheduler = build_scheduler(settings, engine)
    stopped.append(scheduler)
    scheduler.start(paused=True)  # job defaults are applied when jobs are added at start

    job = scheduler.get_job(SYNC_JOB_ID)
    assert job is not None
    assert isinstance(job.trigger, CronTrigger)
    assert str(job.trigger.timezone) == "Europe/London"
    fields = {f.name: str(f) for f in job.trigger.fields}
    assert (fields["hour"], fields["minute"], fields["day_of_week"]) == (
        "4",
        "15",
        "mon,tue,wed,thu,fri",
    )
    assert job.coalesce is True
    assert job.max_instances == 1
    assert job.misfire_grace_time == MISFIRE_GRACE_SECONDS >= 6 * 3600


def test_catch_up_sync_runs_at_start_when_never_synced_and_refreshes_holder(
    engine: Engine, site_settings: Settings, stopped: list[SyncScheduler]
) -> None:
    holder = SnapshotHolder(engine)
    holder.refresh(force=True)
    assert holder.snapshot is not None
    assert holder.snapshot.info.version == 0

    stopped.append(start_scheduler(site_settings, engine, holder))

    wait_until(lambda: holder.snapshot and holder.snapshot.info.version == 1, timeout=20, what="v1")
    [run] = scheduler_runs(engine)
    assert run.outcome == "applied"
    assert run.registry_version == 1


def test_catch_up_sync_runs_at_start_when_data_older_than_max_age(
    engine: Engine, site_settings: Settings, stopped: list[SyncScheduler]
) -> None:
    sync_now(engine, site_settings)
    age_data(engine, site_settings.max_age_hours + 1)

    stopped.append(start_scheduler(site_settings, engine))

    runs = wait_until(
        lambda: [r for r in scheduler_runs(engine) if r.finished_at], timeout=20, what="catch-up"
    )
    assert [r.outcome for r in runs] == ["unchanged"]
    assert [r.trigger for r in all_runs(engine)] == ["test", "scheduler"]


def test_no_catch_up_sync_when_data_is_fresh(
    engine: Engine, site_settings: Settings, stopped: list[SyncScheduler]
) -> None:
    sync_now(engine, site_settings)
    age_data(engine, site_settings.max_age_hours - 1)

    scheduler = build_scheduler(site_settings, engine)
    stopped.append(scheduler)

    assert scheduler.get_job(CATCH_UP_JOB_ID) is None
    assert scheduler.catch_up_at_start is False
    assert scheduler.get_job(SYNC_JOB_ID) is not None
    # The catch-up job re-checks when it runs: another process may have synced meanwhile.
    assert ScheduledSync(engine, site_settings).catch_up() == "skipped"
    assert [r.trigger for r in all_runs(engine)] == ["test"]


# --- the jobs -------------------------------------------------------------------------------


def test_sync_job_refreshes_holder_and_counts_the_outcome(
    engine: Engine, site_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded: list[str] = []
    monkeypatch.setattr(scheduler_module, "record_sync", recorded.append)
    holder = SnapshotHolder(engine)
    holder.refresh(force=True)

    outcome = ScheduledSync(engine, site_settings, holder).tick()

    assert outcome == "applied"
    assert recorded == ["applied"]
    assert holder.snapshot is not None
    assert holder.snapshot.info.version == 1
    assert [r.trigger for r in scheduler_runs(engine)] == ["scheduler"]


def test_sync_job_skips_when_another_process_holds_the_sync_lock(
    engine: Engine, site_settings: Settings
) -> None:
    with sync_lock(engine, wait_seconds=1):
        outcome = ScheduledSync(engine, site_settings).tick()

    assert outcome == "skipped"
    assert all_runs(engine) == []


def test_tick_skips_when_a_sync_started_within_the_dedupe_window(
    engine: Engine, site_settings: Settings
) -> None:
    sync_now(engine, site_settings)

    assert ScheduledSync(engine, site_settings, dedupe_seconds=60).tick() == "skipped"
    assert ScheduledSync(engine, site_settings, dedupe_seconds=0).tick() == "unchanged"
    assert [r.trigger for r in all_runs(engine)] == ["test", "scheduler"]


def test_failed_fetch_is_recorded_and_returned_not_raised(
    engine: Engine, database_url: str
) -> None:
    with serve({}) as empty_site:  # every page answers 404
        settings = make_settings(database_url, source_url=empty_site.url)
        outcome = ScheduledSync(engine, settings).tick()

    assert outcome == "failed"
    [run] = scheduler_runs(engine)
    assert run.outcome == "failed"
    assert run.reason


def test_exception_in_sync_is_logged_and_scheduler_keeps_running(
    engine: Engine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    stopped: list[SyncScheduler],
) -> None:
    calls: list[str] = []

    def broken_sync(*_args: Any, **_kwargs: Any) -> None:
        calls.append("called")
        raise RuntimeError("database on fire")

    monkeypatch.setattr(scheduler_module, "run_sync", broken_sync)
    settings = make_settings(database_url, sync_cron="* * * * * *")  # every second
    scheduler = start_scheduler(settings, engine)
    stopped.append(scheduler)

    wait_until(lambda: len(calls) >= 3, timeout=10, what="three failing jobs")
    assert scheduler.running
    job = scheduler.get_job(SYNC_JOB_ID)
    assert job is not None
    assert job.next_run_time is not None
    assert ScheduledSync(engine, settings).tick() == "error"


def test_blocking_entry_returns_when_asked_to_stop(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def busy(*_args: Any, **_kwargs: Any) -> None:
        raise SyncAlreadyRunning("busy")

    monkeypatch.setattr(scheduler_module, "run_sync", busy)  # the catch-up job finds it busy
    settings = make_settings(database_url, sync_cron=FAR_AWAY_CRON)
    stop = threading.Event()
    thread = threading.Thread(
        target=run_until_stopped, args=(settings, engine, stop.is_set, 0.05), daemon=True
    )

    thread.start()
    thread.join(0.5)
    assert thread.is_alive()
    stop.set()
    thread.join(5)

    assert not thread.is_alive()
