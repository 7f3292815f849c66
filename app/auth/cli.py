"""`certlookup keys create|list|revoke`: manage API keys for machine clients."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from app.auth.keys import CACHE_SECONDS, Scope, create_key, list_keys, revoke_key
from app.config import get_settings
from app.db import engine_for, transaction, upgrade_database
from app.errors import NotFound

keys_cli = typer.Typer(help="API keys for machine clients.", no_args_is_help=True)
err = Console(stderr=True)
MAX_NAME = 200


def _engine() -> Engine:
    settings = get_settings()
    upgrade_database(settings)
    return engine_for(settings.sqlalchemy_url)


@keys_cli.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Who the key is for, e.g. 'Kent CC case system'.")],
    scope: Annotated[
        Scope,
        typer.Option(help="read; watch (watches and webhooks; implies read); admin (implies all)."),
    ] = Scope.READ,
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise typer.BadParameter(f"name must be 1-{MAX_NAME} characters", param_hint="NAME")
    settings = get_settings()
    with transaction(_engine()) as session:
        created = create_key(session, name, scope, settings.key_pepper)
    err.print(
        f"[green]Created key {created.id}[/] for {created.name!r} "
        f"(prefix {created.prefix}, scopes {', '.join(created.scopes)}).\n"
        "[bold]Store it now: it cannot be shown again.[/]"
    )
    typer.echo(created.key)


def _when(moment: dt.datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


@keys_cli.command("list")
def list_() -> None:
    """Show every key: id, name, prefix, scopes, created, last used, revoked."""
    with transaction(_engine()) as session:
        rows = list_keys(session)
    table = Table(title="API keys (times in UTC; last used is approximate)", box=box.SIMPLE_HEAD)
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("name", min_width=8, overflow="fold")
    table.add_column("prefix", no_wrap=True)
    table.add_column("scopes", no_wrap=True)
    for column in ("created", "last used", "revoked"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.id),
            row.name,
            row.prefix,
            ", ".join(row.scopes),
            _when(row.created_at),
            _when(row.last_used_at),
            _when(row.revoked_at) if row.revoked_at else "",
            style="dim" if row.revoked_at else None,
        )
    Console().print(table)


@keys_cli.command("revoke")
def revoke(key_id: Annotated[int, typer.Argument(metavar="ID", help="The key's id.")]) -> None:
    """Revoke a key; running servers stop accepting it within seconds."""
    try:
        with transaction(_engine()) as session:
            row = revoke_key(session, key_id)
    except NotFound as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    err.print(
        f"Revoked key {row.id} ({row.name}, {row.prefix}) at {_when(row.revoked_at)} UTC; "
        f"servers stop accepting it within {CACHE_SECONDS:g} s."
    )
