"""The scheduler's heartbeat: written at start and periodically, shown on /readyz and /metrics,
checked by `certlookup heartbeat` (the scheduler container's healthcheck)."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from app.main import create_app
from app.models import RegistryState, SchedulerHeartbeat, utcnow
from app.ops.heartbeat import HEARTBEAT_JOB_ID, newest_beat
from app.ops.scheduler import SYNC_JOB_ID, SyncScheduler, start_scheduler
from tests.conftest import make_settings
from tests.register import fast_fetching
from tests.support.processes import certlookup_env, run_certlookup, wait_until

FAR_AWAY_CRON = "0 3 1 1 *"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def scheduler(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SyncScheduler]:
    """A running scheduler (heartbeat every second) whose catch-up sync fails fast."""
    fast_fetching(monkeypatch, max_retries=0)
    settings = make_settings(
        database_url,
        source_url="http://127.0.0.1:9",  # nothing listens: the catch-up sync fails
        sync_cron=FAR_AWAY_CRON,
        heartbeat_seconds=1,
    )
    started = start_scheduler(settings, engine)
    yield started
    if started.running:
        started.shutdown(wait=True)


def age_heartbeat(engine: Engine, seconds: float) -> None:
    with Session(engine) as session, session.begin():
        session.execute(
            update(SchedulerHeartbeat).values(beat_at=utcnow() - dt.timedelta(seconds=seconds))
        )


def gauges(client: TestClient) -> dict[str, float]:
    text = client.get("/metrics").text
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.labels
    }


def test_the_scheduler_beats_at_start_and_then_every_interval(
    engine: Engine, scheduler: SyncScheduler
) -> None:
    first = wait_until(lambda: newest_beat(engine), timeout=10, what="the first beat")
    later = wait_until(
        lambda: (beat := newest_beat(engine)) and beat.beat_at > first.beat_at and beat,
        timeout=10,
        what="a second beat",
    )

    assert first.host == socket.gethostname()
    assert first.started_at == later.started_at
    job = scheduler.get_job(SYNC_JOB_ID)
    assert job is not None
    assert later.next_sync_at == job.next_run_time
    assert scheduler.get_job(HEARTBEAT_JOB_ID) is not None


def test_a_host_that_stopped_beating_a_week_ago_is_forgotten(
    engine: Engine, scheduler: SyncScheduler
) -> None:
    wait_until(lambda: newest_beat(engine), timeout=10, what="the first beat")
    long_ago = utcnow() - dt.timedelta(days=8)
    with Session(engine) as session, session.begin():
        session.add(
            SchedulerHeartbeat(
                host="replaced-container", pid=7, started_at=long_ago, beat_at=long_ago
            )
        )
    assert scheduler.heartbeat is not None

    scheduler.heartbeat.beat()

    assert newest_beat(engine, "replaced-container") is None
    assert newest_beat(engine, socket.gethostname()) is not None


def test_readyz_and_metrics_show_the_heartbeat_age(
    engine: Engine, database_url: str, scheduler: SyncScheduler
) -> None:
    wait_until(lambda: newest_beat(engine), timeout=10, what="the first beat")
    scheduler.shutdown(wait=True)  # no more beats: the age below stays put
    age_heartbeat(engine, 600)
    app: FastAPI = create_app(make_settings(database_url, scheduler=False))
    with TestClient(app) as client:
        ready = client.get("/readyz")
        metrics = gauges(client)

    assert ready.status_code == 503  # never synced (the catch-up failed)
    body = ready.json()
    assert body["checks"]["sync"] == "never_synced"
    assert 600 <= body["scheduler"]["heartbeat_age_seconds"] < 660  # said even when not ready
    assert 600 <= metrics["certlookup_scheduler_heartbeat_age_seconds"] < 660
    assert metrics["certlookup_sync_consecutive_failures"] >= 1


def test_readyz_reports_the_scheduler_when_ready_and_null_without_one(
    engine: Engine, database_url: str
) -> None:
    app: FastAPI = create_app(make_settings(database_url, scheduler=False))
    with TestClient(app) as client:
        mark_synced(app)
        without = client.get("/readyz").json()
        metrics_without = gauges(client)
        now = utcnow()
        with Session(engine) as session, session.begin():
            session.add(
                SchedulerHeartbeat(
                    host="sched-1",
                    pid=42,
                    started_at=now - dt.timedelta(hours=1),
                    beat_at=now - dt.timedelta(seconds=20),
                    next_sync_at=now + dt.timedelta(hours=5),
                )
            )
        with_beat = client.get("/readyz").json()

    assert without["scheduler"] is None
    assert "certlookup_scheduler_heartbeat_age_seconds" not in metrics_without
    scheduler = with_beat["scheduler"]
    assert (scheduler["host"], with_beat["checks"]["sync"]) == ("sched-1", "ok")
    assert 20 <= scheduler["heartbeat_age_seconds"] < 80
    assert dt.datetime.fromisoformat(scheduler["next_sync_at"]) > now


def mark_synced(app: FastAPI) -> None:
    """Pretend the mirror synced just now, and load that into the app's index."""
    with Session(app.state.engine) as session, session.begin():
        session.execute(
            update(RegistryState).values(first_synced_at=utcnow(), last_synced_at=utcnow())
        )
    app.state.holder.refresh(force=True)


def test_heartbeat_command_exits_non_zero_without_a_recent_beat(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    env = certlookup_env(database_url, CERTLOOKUP_HEARTBEAT_SECONDS="30")
    none = run_certlookup(["heartbeat"], env=env, cwd=tmp_path)
    now = utcnow()
    with Session(engine) as session, session.begin():
        session.add(
            SchedulerHeartbeat(
                host=socket.gethostname(), pid=1, started_at=now, beat_at=now, next_sync_at=None
            )
        )
    fresh = run_certlookup(["heartbeat", "--this-host"], env=env, cwd=tmp_path)
    age_heartbeat(engine, 200)
    old = run_certlookup(["heartbeat"], env=env, cwd=tmp_path)  # default limit: 4 x 30 s
    lenient = run_certlookup(["heartbeat", "--max-age", "300"], env=env, cwd=tmp_path)

    assert none.returncode == 2, none.stdout + none.stderr
    assert "no scheduler heartbeat" in none.stdout
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "alive" in fresh.stdout
    assert old.returncode == 1, old.stdout + old.stderr
    assert "stale" in old.stdout
    assert "limit 120 s" in old.stdout
    assert lenient.returncode == 0, lenient.stdout + lenient.stderr


def test_compose_checks_the_scheduler_by_its_heartbeat() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    check = compose["services"]["scheduler"]["healthcheck"]

    assert check["test"] == ["CMD", "certlookup", "heartbeat", "--this-host"]
    assert not check.get("disable", False)
