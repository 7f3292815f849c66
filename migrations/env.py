"""Alembic environment: one set of migrations for Postgres and SQLite."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool

from app.models import Base

config = context.config
target_metadata = Base.metadata
if not config.get_main_option("sqlalchemy.url"):
    # Plain `alembic` on the command line: use the service's own settings.
    from app.config import get_settings

    config.set_main_option("sqlalchemy.url", get_settings().sqlalchemy_url.replace("%", "%%"))


def run_offline() -> None:
    """Emit SQL without a connection."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run on the connection the service passes in, or on one made from the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
