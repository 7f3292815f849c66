"""One sync at a time across processes: a Postgres advisory lock, or a lease row on SQLite."""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import structlog
from sqlalchemy import Engine, or_, select, text, update
from sqlalchemy.orm import Session

from app.models import SyncLease, utcnow

# Arbitrary but fixed: every process must agree on it ("RRNS" in ASCII).
ADVISORY_LOCK_KEY = 0x52524E53
LEASE_NAME = "sync"

log = structlog.get_logger(__name__)


class SyncAlreadyRunning(Exception):
    """Another process holds the sync lock."""


def _wait_for(attempt: Callable[[], bool], wait_seconds: float, poll: float = 0.2) -> None:
    deadline = time.monotonic() + wait_seconds
    while not attempt():
        if time.monotonic() >= deadline:
            raise SyncAlreadyRunning("another sync is already running")
        time.sleep(poll)


class SyncLock:
    """Held for a whole sync; `apply()` is the single transaction that writes the mirror."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.session: Session | None = None

    @contextmanager
    def apply(self) -> Iterator[Session]:
        """The transaction that applies a sync; committed on success, rolled back on error."""
        if self.session is not None:
            # Postgres: the transaction holding the advisory lock; commit releases it.
            try:
                yield self.session
                self.session.commit()
            except BaseException:
                self.session.rollback()
                raise
            return
        with Session(self.engine, expire_on_commit=False) as session:
            # SQLite: take the write lock up front so a reader turned writer cannot fail.
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise


@contextmanager
def _postgres_lock(engine: Engine, wait_seconds: float) -> Iterator[SyncLock]:
    lock = SyncLock(engine)
    with Session(engine, expire_on_commit=False) as session:
        query = text("SELECT pg_try_advisory_xact_lock(:key)")

        def attempt() -> bool:
            taken = bool(session.scalar(query, {"key": ADVISORY_LOCK_KEY}))
            if not taken:
                session.rollback()  # a fresh transaction per attempt
            return taken

        _wait_for(attempt, wait_seconds)
        lock.session = session
        try:
            yield lock
        finally:
            session.rollback()  # no-op after apply() committed; releases the lock otherwise


def lease_holder() -> str:
    """A lease holder id: host and pid (to spot a holder that died), plus a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_is_dead(holder: str) -> bool:
    """True only when the holder was a process on this host that no longer exists."""
    parts = holder.rsplit(":", 2)
    # os.kill(pid, 0) would terminate the process on Windows: only ask on POSIX.
    if os.name != "posix" or len(parts) != 3 or not parts[1].isdigit():
        return False
    host, pid = parts[0], int(parts[1])
    if host != socket.gethostname() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists but is not ours (EPERM), or we cannot tell: assume alive
    return False


def take_lease(engine: Engine, holder: str, lease_seconds: float, name: str = LEASE_NAME) -> bool:
    """Take (or renew) the named lease row for `holder`; False while another live holder has it."""
    now = utcnow()
    with Session(engine) as session:
        current = session.scalar(select(SyncLease.holder).where(SyncLease.name == name))
    free = or_(SyncLease.holder.is_(None), SyncLease.expires_at < now)
    if current is not None and holder_is_dead(current):
        # A sync killed mid-way (SIGKILL, OOM, power loss) never releases its lease; waiting
        # for it to expire would block every sync for the whole lease.
        free = or_(free, SyncLease.holder == current)
    with Session(engine) as session, session.begin():
        result = session.execute(
            update(SyncLease)
            .where(SyncLease.name == name)
            .where(or_(free, SyncLease.holder == holder))
            .values(holder=holder, expires_at=now + dt.timedelta(seconds=lease_seconds))
        )
        taken = bool(getattr(result, "rowcount", 0))
    if taken and current is not None and current != holder:
        log.warning("lease_taken_over", lease=name, previous_holder=current, holder=holder)
    return taken


def release_lease(engine: Engine, holder: str, name: str = LEASE_NAME) -> None:
    """Give the named lease up, if `holder` has it."""
    with Session(engine) as session, session.begin():
        session.execute(
            update(SyncLease)
            .where(SyncLease.name == name, SyncLease.holder == holder)
            .values(holder=None, expires_at=None)
        )


@contextmanager
def _sqlite_lease(engine: Engine, wait_seconds: float, lease_seconds: float) -> Iterator[SyncLock]:
    holder = lease_holder()
    _wait_for(lambda: take_lease(engine, holder, lease_seconds), wait_seconds)
    try:
        yield SyncLock(engine)
    finally:
        release_lease(engine, holder)


@contextmanager
def sync_lock(
    engine: Engine, *, wait_seconds: float = 5.0, lease_seconds: float = 900.0
) -> Iterator[SyncLock]:
    """Hold the database-wide sync lock, or raise SyncAlreadyRunning after waiting briefly."""
    if engine.dialect.name == "postgresql":
        with _postgres_lock(engine, wait_seconds) as lock:
            yield lock
    else:
        with _sqlite_lease(engine, wait_seconds, lease_seconds) as lock:
            yield lock
