"""The mirror: organisations, their history, sync runs and the registry version."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base


class OrganisationStatus(StrEnum):
    """Where an organisation stands on the register (or that it has left it)."""

    CERTIFIED = "certified"
    AFFILIATE = "affiliate"
    WORKING_TOWARDS = "working_towards"
    REMOVED = "removed"


class EventKind(StrEnum):
    """What changed about an organisation in one sync."""

    ADDED = "added"
    STATUS_CHANGED = "status_changed"
    RENAMED = "renamed"
    DETAILS_CHANGED = "details_changed"
    REMOVED = "removed"


class SyncOutcome(StrEnum):
    """How a sync run ended."""

    RUNNING = "running"
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"
    FAILED = "failed"
    DRY_RUN = "dry_run"


class Organisation(Base):
    """One organisation on the register; its id survives renames and status changes."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    listed_name: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(32), index=True)
    names: Mapped[list[Any]] = mapped_column(
        doc="Every known name: [{'name': ..., 'kind': name|listed|trading|former}]"
    )
    certificate_number: Mapped[str | None] = mapped_column(String(100), index=True)
    certified_on: Mapped[dt.date | None] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    settings: Mapped[list[Any]] = mapped_column(default=list)
    regions: Mapped[list[Any]] = mapped_column(default=list)
    website: Mapped[str | None] = mapped_column(String(1000))
    parent_name: Mapped[str | None] = mapped_column(String(1000))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    approved_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source_url: Mapped[str | None] = mapped_column(String(1000))
    first_seen_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    removed_at: Mapped[dt.datetime | None]

    parent: Mapped[Organisation | None] = relationship(
        remote_side=[id], lazy="raise", back_populates="affiliates"
    )
    affiliates: Mapped[list[Organisation]] = relationship(lazy="raise", back_populates="parent")


class OrganisationEvent(Base):
    """One observed change to one organisation: the register's history."""

    __tablename__ = "organisation_events"
    __table_args__ = (Index("ix_organisation_events_observed_at_id", "observed_at", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    observed_at: Mapped[dt.datetime]
    effective_on: Mapped[dt.date | None] = mapped_column(
        Date, doc="The register's own date for the change, where it states one."
    )
    registry_version: Mapped[int] = mapped_column(Integer)
    sync_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id", ondelete="SET NULL"))
    status_before: Mapped[str | None] = mapped_column(String(32))
    status_after: Mapped[str | None] = mapped_column(String(32))
    changes: Mapped[dict[str, Any]] = mapped_column(
        default=dict, doc="Changed fields: {field: [before, after]}."
    )


class SyncRun(Base):
    """One attempt to sync the mirror, whatever its outcome."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(32))
    source_url: Mapped[str] = mapped_column(String(1000))
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    outcome: Mapped[str] = mapped_column(String(32), index=True)
    forced: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    added: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    removed: Mapped[int] = mapped_column(default=0)
    rows_seen: Mapped[int] = mapped_column(default=0)
    pages_fetched: Mapped[int] = mapped_column(default=0)
    duration_ms: Mapped[int | None]
    registry_version: Mapped[int | None]
    warnings: Mapped[list[Any]] = mapped_column(
        default=list, doc="What was dropped from entries that were kept, one line each."
    )
    attempt: Mapped[int] = mapped_column(
        default=1, doc="1 for a first try; 2 and up for retries after a failed scheduled sync."
    )
    retry_at: Mapped[dt.datetime | None] = mapped_column(
        doc="When the scheduler retries after this failed or rejected run (null: no retry)."
    )


class SyncArtifact(Base):
    """A raw page kept from a rejected or failed run, for diagnosis (bounded retention)."""

    __tablename__ = "sync_artifacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sync_run_id: Mapped[int] = mapped_column(
        ForeignKey("sync_runs.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    status_code: Mapped[int | None]
    content_type: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class RegistryState(Base):
    """A single row: the registry version and sync times every process compares against."""

    __tablename__ = "registry_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
    source_url: Mapped[str | None] = mapped_column(String(1000))
    first_synced_at: Mapped[dt.datetime | None]
    last_synced_at: Mapped[dt.datetime | None]
    last_attempted_at: Mapped[dt.datetime | None]
    last_changed_at: Mapped[dt.datetime | None]


class SyncLease(Base):
    """The SQLite stand-in for an advisory lock: who holds the sync, until when."""

    __tablename__ = "sync_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime | None]
