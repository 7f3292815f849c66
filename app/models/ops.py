"""Operations: the scheduler's heartbeat."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class SchedulerHeartbeat(Base):
    """The last sign of life of the scheduler on one host (one row per host, overwritten)."""

    __tablename__ = "scheduler_heartbeats"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime]
    beat_at: Mapped[dt.datetime] = mapped_column(index=True)
    next_sync_at: Mapped[dt.datetime | None] = mapped_column(
        doc="When the scheduled sync runs next, as the scheduler saw it at its last beat."
    )
