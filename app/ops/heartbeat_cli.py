"""`certlookup heartbeat`: is the scheduler alive? (The scheduler container's healthcheck.)"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from app.config import get_settings
from app.db import engine_for
from app.ops.heartbeat import MISSED_BEATS_ALLOWED, newest_beat, this_host

EXIT_OLD, EXIT_NONE, EXIT_UNREADABLE = 1, 2, 3


def heartbeat(
    max_age: Annotated[
        float | None,
        typer.Option(
            help="Seconds a heartbeat may be old "
            f"[default: {MISSED_BEATS_ALLOWED} x CERTLOOKUP_HEARTBEAT_SECONDS].",
            min=1,
        ),
    ] = None,
    this_host_only: Annotated[
        bool,
        typer.Option(
            "--this-host", help="Only a scheduler on this host counts (container healthchecks)."
        ),
    ] = False,
) -> None:
    """Exit 0 when the scheduler wrote its heartbeat recently; 1 too old, 2 none, 3 no database."""
    settings = get_settings()
    limit = max_age if max_age is not None else MISSED_BEATS_ALLOWED * settings.heartbeat_seconds
    host = this_host() if this_host_only else None
    console = Console()
    try:
        beat = newest_beat(engine_for(settings.sqlalchemy_url), host)
    except Exception as exc:
        console.print(f"[red]cannot read the heartbeat:[/] {type(exc).__name__}: {exc}")
        raise typer.Exit(EXIT_UNREADABLE) from None
    where = f" on {host}" if host else ""
    if beat is None:
        console.print(f"[red]no scheduler heartbeat{where}[/] (has the scheduler ever run?)")
        raise typer.Exit(EXIT_NONE)
    age = beat.age_seconds()
    line = (
        f"scheduler heartbeat {age:.0f} s ago (host {beat.host}, pid {beat.pid}; limit {limit:g} s)"
    )
    if age > limit:
        console.print(f"[red]stale:[/] {line}")
        raise typer.Exit(EXIT_OLD)
    next_sync = beat.next_sync_at.isoformat() if beat.next_sync_at else "unknown"
    console.print(f"[green]alive:[/] {line}; next sync {next_sync}")
