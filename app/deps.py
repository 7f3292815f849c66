"""Request dependencies shared by the routers, as Annotated aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.checks.snapshot import Snapshot, SnapshotHolder
from app.config import Settings
from app.db import transaction
from app.errors import Unavailable
from app.register.background import BackgroundSyncs


async def get_settings_dep(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    """The app's database engine."""
    engine: Engine = request.app.state.engine
    return engine


async def get_holder(request: Request) -> SnapshotHolder:
    """The holder of this process's current snapshot."""
    holder: SnapshotHolder = request.app.state.holder
    return holder


async def get_background_syncs(request: Request) -> BackgroundSyncs:
    """The runner of API-started syncs (created by the app's lifespan)."""
    syncs: BackgroundSyncs = request.app.state.syncs
    return syncs


def current_snapshot(request: Request) -> Snapshot:
    """The snapshot answering this request; one object, so one registry version throughout."""
    snapshot: Snapshot | None = request.app.state.holder.snapshot
    if snapshot is None:
        raise Unavailable(
            "the register index is not loaded yet",
            code="index_not_ready",
            headers={"Retry-After": "5"},
        )
    return snapshot


async def get_snapshot(request: Request) -> Snapshot:
    """The snapshot answering this request (the dependency form of current_snapshot)."""
    return current_snapshot(request)


def get_db_session(request: Request) -> Iterator[Session]:
    """One session per request, committed on success and rolled back on error."""
    with transaction(request.app.state.engine) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
EngineDep = Annotated[Engine, Depends(get_engine)]
HolderDep = Annotated[SnapshotHolder, Depends(get_holder)]
SyncsDep = Annotated[BackgroundSyncs, Depends(get_background_syncs)]
SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]
SessionDep = Annotated[Session, Depends(get_db_session)]
