"""Terminal output for `certlookup sync`: progress while fetching, then a readable summary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.table import Table

from app.models import EventKind
from app.register.sync import SyncReport

MAX_ROWS_SHOWN = 50
_COLOURS = {
    "applied": "green",
    "unchanged": "green",
    "dry_run": "cyan",
    "rejected": "yellow",
    "failed": "red",
}


@contextmanager
def sync_progress(console: Console) -> Iterator[Callable[[str], None]]:
    """A spinner that names each page as it is fetched."""
    count = 0
    with console.status("Fetching the register...") as status:

        def on_page(url: str) -> None:
            nonlocal count
            count += 1
            status.update(f"Fetched {count} page(s): {url}")

        yield on_page


def _changes_table(report: SyncReport) -> Table:
    table = Table(title="Changes", show_lines=False)
    for column in ("change", "organisation", "status", "fields"):
        table.add_column(column)
    for change in report.diff.changes[:MAX_ROWS_SHOWN]:
        before = change.status_before or ""
        status = f"{before} -> {change.status_after}" if before else str(change.status_after)
        fields = "" if change.kind is EventKind.ADDED else ", ".join(sorted(change.changes))
        table.add_row(change.kind.value, change.name, status, fields)
    hidden = len(report.diff.changes) - MAX_ROWS_SHOWN
    if hidden > 0:
        table.caption = f"... and {hidden} more"
    return table


def print_sync_report(console: Console, report: SyncReport) -> None:
    """Summarise a sync: outcome, counts, reason, and the changes themselves."""
    colour = _COLOURS.get(report.outcome.value, "white")
    run = f"run {report.run_id}" if report.run_id else "not recorded"
    console.print(
        f"[bold {colour}]{report.outcome.value}[/] ({run}, "
        f"{report.pages_fetched} pages, {report.rows_seen} rows, "
        f"{report.duration_ms} ms, registry version {report.registry_version})"
    )
    diff = report.diff
    console.print(
        f"added {diff.added}, changed {diff.changed}, removed {diff.removed}, "
        f"unchanged {diff.unchanged}"
    )
    if report.reason:
        console.print(f"[{colour}]reason:[/] {report.reason}")
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    if diff.changes:
        console.print(_changes_table(report))
