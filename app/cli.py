"""The `certlookup` command: serve, sync, import, scheduler, heartbeat, check, db, keys,
receipts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from app.auth.cli import keys_cli
from app.checks.cli import check, evaluate
from app.config import get_settings
from app.db import engine_for, upgrade_database
from app.logging import configure_logging
from app.ops.heartbeat_cli import heartbeat
from app.receipts.cli import receipts_cli
from app.register.importing import file_source
from app.register.locks import SyncAlreadyRunning
from app.register.sync import SyncRequest, run_sync
from app.sync_output import print_sync_report, sync_progress

cli = typer.Typer(
    help="RRN certification lookup: mirror the Bild ACT register and answer checks.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(receipts_cli, name="receipts")
console = Console(stderr=True)
cli.command()(check)
cli.command("eval")(evaluate)
cli.command()(heartbeat)

EXIT_FAILED, EXIT_REJECTED, EXIT_BUSY = 1, 2, 3


@cli.callback()
def _setup() -> None:
    configure_logging(get_settings())


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the schema migrations (creates the embedded database if missing)."""
    settings = get_settings()
    upgrade_database(settings, revision)
    console.print(f"[green]Database is at {revision}[/] ({_describe_db(settings.sqlalchemy_url)})")


def _describe_db(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


DryRun = Annotated[bool, typer.Option("--dry-run", help="Show changes; write nothing.")]
Force = Annotated[bool, typer.Option("--force", help="Apply even if rejected.")]


@cli.command()
def sync(
    source_url: Annotated[str | None, typer.Option(help="Register base URL.")] = None,
    dry_run: DryRun = False,
    force: Force = False,
) -> None:
    """Fetch the register and bring the mirror up to date."""
    request = SyncRequest(trigger="cli", source_url=source_url, dry_run=dry_run, force=force)
    _run(request, progress=True)


@cli.command("import")
def import_file(
    path: Annotated[
        Path,
        typer.Argument(
            help="A .csv or .json file with the columns of GET /v1/organisations?format=csv "
            "(or that endpoint's JSON).",
            dir_okay=False,
        ),
    ],
    dry_run: DryRun = False,
    force: Force = False,
) -> None:
    """Load the register from a file, as a sync would (validation, diff guard, history, lock).

    For when the live pages cannot be read: a saved export, or a spreadsheet from Bild ACT
    in the export's columns. Recorded as a sync run whose source is the file.
    """
    request = SyncRequest(
        trigger="import",
        source_url=path.resolve().as_uri(),
        dry_run=dry_run,
        force=force,
        source=file_source(path),
    )
    _run(request)


def _run(request: SyncRequest, progress: bool = False) -> None:
    """Run a sync (with a spinner on a terminal when `progress`), print its report once the
    spinner is gone, and exit with its code."""
    settings = get_settings()
    upgrade_database(settings)
    engine = engine_for(settings.sqlalchemy_url)
    try:
        if progress:
            with sync_progress(console) as on_page:
                request.on_page = on_page
                report = run_sync(engine, settings, request)
        else:
            report = run_sync(engine, settings, request)
    except SyncAlreadyRunning as exc:
        console.print(f"[yellow]{exc}[/]")
        raise typer.Exit(EXIT_BUSY) from None
    print_sync_report(Console(), report)
    if report.outcome == "rejected":
        raise typer.Exit(EXIT_REJECTED)
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes (the scheduler still runs only once).", min=1)
    ] = 1,
) -> None:
    """Run the API, with the sync scheduler unless CERTLOOKUP_SCHEDULER=off."""
    from app.serve import serve as serve_api  # uvicorn: only for this command

    serve_api(get_settings(), host=host, port=port, workers=workers)


@cli.command()
def scheduler() -> None:
    """Run only the sync scheduler: one per deployment, beside API replicas set to off."""
    from app.serve import run_scheduler

    run_scheduler(get_settings())


def main() -> None:
    """Entry point of the console script."""
    cli()
