"""A webhook delivery process for the multi-process tests (test_delivery_processes.py).

    PYTHONPATH=<repo> python tests/webhooks/delivery_process.py DATABASE_URL MODE [START_AT]

MODE `die-before-send`: claim one batch (the lease is committed), then SIGKILL this process
before anything is sent. MODE `drain`: deliver until nothing is pending, then print how many
attempts this process made; with START_AT (a Unix time) it waits until then, so that two
processes start delivering together. Run as a script (not ``-m``) for a faster start.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import make_engine
from app.models import DeliveryStatus, WebhookDelivery
from app.webhooks import delivery


def settings_for(database_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        DATABASE_URL=database_url,
        environment="test",
        webhook_allow_private=True,
        log_level="WARNING",
    )


def die_before_send(*_: Any) -> Any:
    print("claimed; dying before the send", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


def pending(engine: Any) -> int:
    with Session(engine) as session:
        query = select(func.count()).where(WebhookDelivery.status == DeliveryStatus.PENDING.value)
        return session.scalar(query.select_from(WebhookDelivery)) or 0


def main(database_url: str, mode: str, start_at: float = 0.0) -> None:
    engine = make_engine(database_url)
    worker = delivery.DeliveryWorker(engine, settings_for(database_url))
    if mode == "die-before-send":
        delivery.send_event = die_before_send  # type: ignore[assignment]
        worker.run_once()
        print("the delivery was sent", flush=True)
        return
    time.sleep(max(0.0, start_at - time.time()))
    made, deadline = 0, time.monotonic() + 60
    while pending(engine) and time.monotonic() < deadline:
        made += worker.run_once()
    worker.close()
    print(f"attempts={made}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 0.0)
