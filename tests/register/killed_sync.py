"""Run one sync and SIGKILL this process in the middle of its apply (for test_sync_crash.py).

    PYTHONPATH=<repo> python tests/register/killed_sync.py DATABASE_URL SOURCE_URL STEP

STEP is apply_diff or link_affiliates. Run as a script (not ``-m``), so the child does not
import the test packages: a faster start.

The named step of app.register.repository runs for real; then its writes are flushed, the
process prints how many organisations its open transaction can see, and kills itself.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import make_engine
from app.models import Organisation
from app.register import repository
from app.register.sync import SyncRequest, run_sync


def die_after(step: str) -> None:
    """Wrap a repository step so the process dies once that step's writes are flushed."""
    original = getattr(repository, step)

    def step_then_die(session: Session, *args: Any, **kwargs: Any) -> Any:
        original(session, *args, **kwargs)
        session.flush()
        seen = session.scalar(select(func.count()).select_from(Organisation))
        print(f"organisations in the open transaction: {seen}", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    setattr(repository, step, step_then_die)


def main(database_url: str, source_url: str, step: str) -> None:
    die_after(step)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, DATABASE_URL=database_url, environment="test", fetch_pause_seconds=0
    )
    run_sync(make_engine(database_url), settings, SyncRequest(source_url=source_url))
    print("the sync finished without being killed", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
