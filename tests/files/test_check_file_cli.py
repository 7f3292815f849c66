"""`certlookup check --file`: the same answer file as POST /v1/check/file, made locally
against the mirror; a progress bar on a terminal and none otherwise."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from typer.testing import CliRunner

import app.files.cli as file_cli
from app.files.service import ANSWER_COLUMNS
from app.register.sync import SyncReport
from tests.files import XLSX, csv_bytes, csv_rows, xlsx_bytes, xlsx_rows
from tests.support.cli import cli_runner, run

ROWS = [
    ["Bidder ref", "Training provider", "Certificate number"],
    ["B-01", "Severn NHS FT", "ACT7325"],
    [],
    ["B-02", "Kind Homes Limited", ""],
    ["B-03", '=HYPERLINK("http://evil.invalid")', ""],
    ["B-04", "", ""],
]
CHECKED_AT = 3 + ANSWER_COLUMNS.index("checked_at")


@pytest.fixture
def certlookup(
    database_url: str, sample_synced: SyncReport, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    """The real CLI, configured through the environment, on the synced sample register."""
    with cli_runner(database_url, monkeypatch) as runner:
        yield runner


def _without_time(rows: list[list[Any]]) -> list[list[Any]]:
    return [row[:CHECKED_AT] + row[CHECKED_AT + 1 :] for row in rows]


def test_a_csv_is_answered_locally_exactly_as_the_api_answers_it(
    certlookup: CliRunner, synced_client: TestClient, tmp_path: Path
) -> None:
    source = tmp_path / "tenders.csv"
    source.write_bytes(csv_bytes(ROWS))
    result = run(certlookup, "check", "--file", str(source))
    assert result.exit_code == 0, result.output
    local = csv_rows((tmp_path / "tenders-checked.csv").read_bytes())
    api = synced_client.post(
        "/v1/check/file", content=source.read_bytes(), headers={"Content-Type": "text/csv"}
    )
    assert _without_time(local) == _without_time(csv_rows(api.content))
    assert local[1][3] == "certified"
    assert local[4][1].startswith("'="), "formulas neutralised as by the API"
    assert "5 data rows: 3 checked, 1 could not be" in result.output
    assert "━" not in result.output, "no progress bar when not on a terminal"


def test_an_xlsx_with_named_columns_can_be_answered_as_csv(
    certlookup: CliRunner, synced_client: TestClient, tmp_path: Path
) -> None:
    source = tmp_path / "tenders.xlsx"
    source.write_bytes(xlsx_bytes({"Bids": ROWS}))
    target = tmp_path / "answer.xlsx"
    args = ["--column", "2", "--certificate-column", "Certificate number", "-o", str(target)]
    result = run(certlookup, "check", "--file", str(source), *args)
    assert result.exit_code == 0, result.output
    local = xlsx_rows(target.read_bytes())
    api = synced_client.post(
        "/v1/check/file",
        params={"column": "2", "certificate_column": "Certificate number"},
        content=source.read_bytes(),
        headers={"Content-Type": XLSX},
    )
    assert _without_time(local) == _without_time(xlsx_rows(api.content))
    as_csv = tmp_path / "answer.csv"
    assert run(certlookup, "check", "-f", str(source), "-o", str(as_csv)).exit_code == 0
    assert csv_rows(as_csv.read_bytes())[1][3] == "certified"


def test_a_terminal_gets_a_progress_bar(
    certlookup: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100)
    real = file_cli.row_progress
    monkeypatch.setattr(file_cli, "row_progress", lambda console: real(terminal))
    source = tmp_path / "tenders.csv"
    source.write_bytes(csv_bytes(ROWS))
    assert run(certlookup, "check", "--file", str(source)).exit_code == 0
    assert "6/6" in screen.getvalue()
    assert "rows" in screen.getvalue()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--as-of", "2999-01-01"], "date_in_future"),
        (["--column", "Nope"], "column"),
        (["--sheet", "Missing"], "sheet"),
    ],
)
def test_bad_options_and_files_are_a_clear_message_and_exit_2(
    certlookup: CliRunner, tmp_path: Path, args: list[str], expected: str
) -> None:
    source = tmp_path / "tenders.xlsx"
    source.write_bytes(xlsx_bytes({"Bids": ROWS}))
    result = run(certlookup, "check", "--file", str(source), *args)
    assert result.exit_code == 2
    assert expected in result.output


def test_files_that_are_not_spreadsheets_or_not_there_are_refused(
    certlookup: CliRunner, tmp_path: Path
) -> None:
    text = tmp_path / "notes.docx"
    text.write_bytes(b"x")
    assert run(certlookup, "check", "--file", str(text)).exit_code == 2
    assert run(certlookup, "check", "--file", str(tmp_path / "missing.csv")).exit_code == 2
    assert run(certlookup, "check", "Acme", "--file", str(text)).exit_code == 2
