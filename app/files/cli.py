"""`certlookup check --file tenders.xlsx`: POST /v1/check/file, locally, against the mirror."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from app.checks.inputs import validate_as_of, validate_setting
from app.checks.snapshot import load_snapshot
from app.checks.verdicts import Clock
from app.config import Settings
from app.db import engine_for
from app.errors import ServiceError
from app.files.service import FileOptions, check_upload
from app.files.upload import MAX_FILE_BYTES, FileKind, Upload, kind_of, too_large

_BY_NAME = "application/octet-stream"  # a kind from the file name's extension only


@dataclass
class RowProgress:
    """What check_upload tells a progress bar: the rows there are, then each chunk done."""

    on_total: Callable[[int], None]
    on_rows: Callable[[int], None]


@contextmanager
def row_progress(console: Console) -> Iterator[RowProgress | None]:
    """A progress bar of rows checked on a terminal; nothing at all otherwise."""
    if not console.is_terminal:
        yield None
        return
    columns = (
        TextColumn("checking"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("rows", total=None)
        yield RowProgress(
            lambda total: progress.update(task, total=total),
            lambda rows: progress.advance(task, rows),
        )


def _upload(path: Path) -> Upload:
    kind = kind_of(_BY_NAME, path.name)
    if kind is None:
        raise ServiceError(
            f"{path.name}: a .csv, .tsv, .txt or .xlsx file, please",
            code="unsupported_media_type",
        )
    if path.stat().st_size > MAX_FILE_BYTES:
        raise too_large(MAX_FILE_BYTES)
    return Upload(path.read_bytes(), kind, path.name)


def _output(path: Path, output: Path | None, uploaded: FileKind) -> tuple[Path, FileKind]:
    if output is None:
        return path.with_name(f"{path.stem}-checked.{uploaded.value}"), uploaded
    return output, kind_of(_BY_NAME, output.name) or uploaded


def check_file(
    settings: Settings,
    path: Path,
    output: Path | None,
    options: FileOptions,
    sheet: str | None,
    console: Console,
) -> None:
    """Check every row of a local spreadsheet; write the answer file; print what it held."""
    clock = Clock.for_settings(settings)
    try:
        validate_as_of(options.as_of, clock.now.date())
        validate_setting(options.setting)
        upload = _upload(path)
    except (ServiceError, OSError) as exc:
        _fail(console, exc)
    target, out_kind = _output(path, output, upload.kind)
    with Session(engine_for(settings.sqlalchemy_url)) as session:
        snapshot = load_snapshot(session)
    try:
        with row_progress(console) as bar:
            checked = check_upload(
                upload,
                sheet,
                out_kind,
                options,
                snapshot,
                clock,
                on_total=bar.on_total if bar else None,
                on_rows=bar.on_rows if bar else None,
            )
    except ServiceError as exc:
        _fail(console, exc)
    target.write_bytes(checked.data)
    report = checked.report
    console.print(
        f"{report.rows} data rows: {report.checked} checked, {report.errors} could not be "
        f"(reason in the error column), {report.blank} blank -> [bold]{target}[/]"
    )


def _fail(console: Console, exc: Exception) -> NoReturn:
    code = exc.code if isinstance(exc, ServiceError) else "unreadable"
    detail = exc.detail if isinstance(exc, ServiceError) else str(exc)
    console.print(f"[red]{code}[/]: {detail}")
    raise typer.Exit(2)
