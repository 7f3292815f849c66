"""A sync process killed (SIGKILL) in the middle of its apply leaves no partial data behind."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.config import Settings
from app.models import SyncOutcome
from tests.register import (
    CERTIFIED,
    WORKING_TOWARDS,
    advisory_locks_held,
    edited,
    lease,
    mirror_dump,
    runs,
    sample_routes,
    sync,
)
from tests.support.httpserver import LocalServer, serve, status

ROOT = Path(__file__).resolve().parents[2]
HELPER = Path(__file__).with_name("killed_sync.py")


@pytest.fixture
def sample_server() -> Iterator[LocalServer]:
    with serve(sample_routes()) as server:
        yield server


@dataclass(frozen=True)
class Killed:
    pid: int
    stdout: str

    def written_before_death(self) -> int:
        """How many organisations the killed process's open transaction could see."""
        prefix = "organisations in the open transaction: "
        [line] = [line for line in self.stdout.splitlines() if line.startswith(prefix)]
        return int(line.removeprefix(prefix))


def killed_sync(database_url: str, source_url: str, step: str) -> Killed:
    """Run a sync in a child process that SIGKILLs itself right after `step` wrote its rows."""
    command = [sys.executable, str(HELPER), database_url, source_url, step]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        stdout, stderr = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL, stdout + stderr
    return Killed(child.pid, stdout)


def assert_lock_left_only_by_the_dead(engine: Engine, killed: Killed) -> None:
    if engine.dialect.name == "postgresql":
        # The server ended the dead connection's transaction, and its advisory lock with it.
        assert advisory_locks_held(engine) == 0
        return
    # The lease still names the dead process and is far from expiry: only its death frees it.
    left = lease(engine)
    assert left.holder is not None
    assert left.holder.split(":")[-2] == str(killed.pid)
    assert left.expires_at is not None
    assert left.expires_at > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)


def test_a_first_sync_killed_mid_apply_leaves_an_empty_mirror_and_the_next_sync_recovers(
    engine: Engine, settings: Settings, database_url: str, sample_server: LocalServer
) -> None:
    before = mirror_dump(engine)

    killed = killed_sync(database_url, sample_server.url, "apply_diff")

    assert killed.written_before_death() == 98  # the inserts had reached the database
    assert mirror_dump(engine) == before
    assert before["organisations"] == []
    assert before["version"] == 0
    [run] = runs(engine)
    assert (run.outcome, run.finished_at) == ("running", None)
    assert_lock_left_only_by_the_dead(engine, killed)

    # The next sync neither waits for the lease to expire nor trips over the dead run.
    report = sync(engine, settings, sample_server.url, lock_wait_seconds=2.0)

    assert report.outcome is SyncOutcome.APPLIED
    assert mirror_dump(engine)["version"] == 1
    killed_run, applied = runs(engine)
    assert killed_run.outcome == "failed"
    assert killed_run.reason is not None
    assert killed_run.reason.startswith("interrupted")
    assert killed_run.finished_at is not None
    assert applied.outcome == "applied"


def test_a_later_sync_killed_mid_apply_leaves_the_previous_version_intact(
    engine: Engine, settings: Settings, database_url: str, sample_server: LocalServer
) -> None:
    sync(engine, settings, sample_server.url)
    before = mirror_dump(engine)
    sample_server.routes[WORKING_TOWARDS] = edited(
        WORKING_TOWARDS,
        lambda page: page.replace(
            "</ul>", "<li><strong>Fresh Start Consulting Ltd</strong> – new</li>\n</ul>"
        ),
    )

    killed = killed_sync(database_url, sample_server.url, "link_affiliates")

    assert killed.written_before_death() == 99
    assert mirror_dump(engine) == before
    assert before["version"] == 1
    assert [r.outcome for r in runs(engine)] == ["applied", "running"]
    assert_lock_left_only_by_the_dead(engine, killed)

    # Even a sync that fails to fetch closes the killed run.
    sample_server.routes[CERTIFIED] = status(404)
    report = sync(engine, settings, sample_server.url, lock_wait_seconds=2.0)

    assert report.outcome is SyncOutcome.FAILED
    _, killed_run, failed = runs(engine)
    assert killed_run.outcome == "failed"
    assert killed_run.reason is not None
    assert killed_run.reason.startswith("interrupted")
    assert failed.reason is not None
    assert "404" in failed.reason
    assert mirror_dump(engine) == before
