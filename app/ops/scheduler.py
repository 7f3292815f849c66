"""The sync scheduler (APScheduler 3.x)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from app.checks.snapshot import SnapshotHolder
from app.config import Settings


def start_scheduler(settings: Settings, engine: Engine, holder: SnapshotHolder) -> Any:
    """Start the in-process scheduler."""
    return None
