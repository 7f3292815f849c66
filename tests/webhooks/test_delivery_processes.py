"""Delivery across processes: a worker killed after claiming, and two workers on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.conftest import SyncSite
from tests.support.httpserver import unused_port
from tests.support.receiver import Receiver
from tests.support.sitegen import generate_site
from tests.watches import create_watch, watch_key
from tests.watches.test_evaluation import PROMOTED, _changed_register
from tests.webhooks import attempts, deliver, deliveries, fast_forward, register

ROOT = Path(__file__).resolve().parents[2]
HELPER = Path(__file__).with_name("delivery_process.py")


def _start(database_url: str, mode: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(HELPER), database_url, mode, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _queue_tests(client: TestClient, headers: dict[str, str], hook_id: int, count: int) -> None:
    for _ in range(count):
        response = client.post(f"/v1/webhooks/{hook_id}/test", headers=headers)
        assert response.status_code == 202


def test_a_worker_killed_after_claiming_delivers_after_restart(
    synced_client: TestClient, app: FastAPI, receiver: Receiver, database_url: str
) -> None:
    headers = watch_key(app)
    hook = register(synced_client, headers, receiver.url)
    receiver.secret = hook["secret"]
    _queue_tests(synced_client, headers, hook["id"], 1)
    killed = _start(database_url, "die-before-send")
    out, err = killed.communicate(timeout=120)
    assert killed.returncode == -9, err
    assert "claimed; dying before the send" in out
    (leased,) = deliveries(app)
    assert (leased.status, leased.attempts) == ("pending", 1)
    assert leased.locked_by is not None
    assert receiver.received == []
    assert deliver(app) == 1  # the restarted worker takes over the dead worker's lease
    (got,) = receiver.received
    assert got.verified
    assert deliveries(app)[0].status == "delivered"


@pytest.mark.postgres_only
def test_two_delivery_processes_on_postgres_never_send_one_event_twice(
    synced_client: TestClient, app: FastAPI, receiver: Receiver, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("FOR UPDATE SKIP LOCKED: several workers share the outbox on PostgreSQL")
    headers = watch_key(app)
    hook = register(synced_client, headers, receiver.url)
    receiver.secret = hook["secret"]
    receiver.delay = 0.05
    _queue_tests(synced_client, headers, hook["id"], 120)
    start_at = str(time.time() + 3)  # both processes begin together
    workers = [_start(database_url, "drain", start_at) for _ in range(2)]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [err for _, err in outputs]
    made = [int(out.strip().rsplit("=", 1)[1]) for out, _ in outputs]
    ids = [r.webhook_id for r in receiver.received]
    assert len(ids) == 120
    assert len(set(ids)) == 120
    assert receiver.in_flight_twice == []
    assert sum(made) == 120, made
    assert all(r.verified for r in receiver.received)
    assert {d.status for d in deliveries(app)} == {"delivered"}


def test_the_readme_receiver_verifies_and_reads_a_real_delivery(
    synced_client: TestClient, app: FastAPI, sync_site: SyncSite, tmp_path: Path
) -> None:
    headers = watch_key(app)
    port = unused_port()
    hook = register(synced_client, headers, f"http://127.0.0.1:{port}/")
    env = {**os.environ, "CERTLOOKUP_WEBHOOK_SECRET": hook["secret"], "PORT": str(port)}
    receiver = subprocess.Popen(
        [sys.executable, str(ROOT / "docs" / "webhook_receiver.py")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        create_watch(synced_client, headers, name=PROMOTED, reference="case-4411")
        sync_site(generate_site(_changed_register()))
        deadline = time.monotonic() + 30
        while not any(a.status_code == 204 for a in attempts(app)):
            assert time.monotonic() < deadline, [a.error for a in attempts(app)]
            deliver(app)
            fast_forward(app)  # the receiver may still be starting: retry at once
            time.sleep(0.2)
    finally:
        receiver.terminate()
        out, _ = receiver.communicate(timeout=10)
    assert "case-4411 ['status_changed'] certified" in out
