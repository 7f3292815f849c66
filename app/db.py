"""Engine, sessions and schema migrations for Postgres and the embedded SQLite default."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings

T = TypeVar("T")
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def _sqlite_setup(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def configure(dbapi_connection: Any, _record: Any) -> None:
        # Foreign keys are off by default in SQLite; WAL lets readers run during a sync.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return configure


def make_engine(url: str, *, busy_timeout_ms: int = 15_000) -> Engine:
    """Create an engine with the per-dialect settings this service relies on.

    `busy_timeout_ms` is how long a SQLite statement waits for another connection's lock.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_setup(busy_timeout_ms))
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


class LoopReader:
    """Small reads awaited on the event loop, with no worker thread.

    A worker thread and a busy event loop hand the GIL back and forth, and each time the
    thread wants it the loop stalls for up to the switch interval (5 ms). A poll of the
    registry version through the threadpool every 2 s set the p99 of a loaded server that
    way (benchmarks/reports/check.md). So the periodic reads come here instead:

    - PostgreSQL: SQLAlchemy's asyncio engine on psycopg's async connection. `work` runs
      through `run_sync`, and the loop awaits the socket.
    - SQLite: the embedded file answers in microseconds, so `work` runs inline on the loop,
      on its own engine whose busy timeout is 50 ms (WAL readers rarely wait at all).
    """

    def __init__(self, url: str) -> None:
        self._sync: Engine | None = None
        self._async: AsyncEngine | None = None
        if make_url(url).get_backend_name() == "sqlite":
            self._sync = make_engine(url, busy_timeout_ms=50)
        else:
            self._async = create_async_engine(url, pool_pre_ping=True, pool_size=2)

    async def read(self, work: Callable[[Connection], T]) -> T:
        """`work(connection)`'s result, read in a transaction that is then rolled back."""
        if self._async is not None:
            async with self._async.connect() as connection:
                return await connection.run_sync(work)
        assert self._sync is not None
        with self._sync.connect() as connection:
            return work(connection)

    async def dispose(self) -> None:
        """Close the pooled connections."""
        if self._async is not None:
            await self._async.dispose()
        if self._sync is not None:
            self._sync.dispose()


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One engine per URL per process."""
    return make_engine(url)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session committed on success and rolled back on any error."""
    with session_factory(engine)() as session, session.begin():
        yield session


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Session]:
    """`transaction`, but on SQLite the write lock is taken up front (BEGIN IMMEDIATE): a
    transaction that reads, then writes, cannot fail half-way on another writer's commit."""
    if engine.dialect.name != "sqlite":
        with transaction(engine) as session:
            yield session
        return
    with session_factory(engine)() as session:
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str) -> AlembicConfig:
    """An Alembic config pointing at this package's migrations and the given database."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade_database(settings: Settings, revision: str = "head") -> None:
    """Bring the schema up to date; migrations are the only way it is created."""
    config = alembic_config(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()  # on SQLite this also checkpoints the WAL into the main file
