"""Scratch PostgreSQL databases for tests and benchmarks, on the server at 127.0.0.1:5432."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.config import Settings
from app.db import upgrade_database
from app.models import Base

POSTGRES_ADMIN_URL = os.environ.get(
    "CERTLOOKUP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def scratch_postgres(prefix: str) -> Iterator[str]:
    """A new database migrated to head; dropped, with its connections, afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        try:
            upgrade_database(Settings(_env_file=None, DATABASE_URL=url))  # type: ignore[call-arg]
            yield url
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def reset_postgres(url: str) -> None:
    """Empty every table and put back the rows the first migration creates."""
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(text("INSERT INTO registry_state (id, version) VALUES (1, 0)"))
        conn.execute(text("INSERT INTO sync_leases (name) VALUES ('sync')"))
    engine.dispose()
