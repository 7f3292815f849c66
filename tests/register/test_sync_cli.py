"""`certlookup sync`: exit codes, the printed summary, --dry-run and --force."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from app import cli as cli_module
from tests.register import (
    AFFILIATES,
    CERTIFIED,
    CERTIFIED_2,
    CERTIFIED_3,
    WORKING_TOWARDS,
    edited,
    mirror_dump,
    organisations,
    runs,
    sample_routes,
)
from tests.support.cli import cli_runner
from tests.support.httpserver import LocalServer, serve, status, unused_port


@pytest.fixture
def sample_server() -> Iterator[LocalServer]:
    with serve(sample_routes()) as server:
        yield server


@pytest.fixture
def certlookup(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """A runner for the real CLI, configured through the environment like an operator would."""
    pause = {"CERTLOOKUP_FETCH_PAUSE_SECONDS": "0"}
    with cli_runner(database_url, monkeypatch, pause) as runner:
        yield runner


def run_sync_command(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(cli_module.cli, ["sync", *args], catch_exceptions=False)


def test_sync_command_mirrors_the_register_and_prints_a_summary(
    certlookup: CliRunner, engine: Engine, sample_server: LocalServer
) -> None:
    result = run_sync_command(certlookup, "--source-url", sample_server.url)

    assert result.exit_code == 0, result.output
    assert re.search(
        r"applied \(run 1, 6 pages, 98 rows, \d+ ms, registry version 1\)", result.stdout
    )
    assert "added 98, changed 0, removed 0, unchanged 0" in result.stdout
    assert len(organisations(engine)) == 98
    [run] = runs(engine)
    assert (run.trigger, run.outcome, run.source_url) == ("cli", "applied", sample_server.url)

    again = run_sync_command(certlookup, "--source-url", sample_server.url)

    assert again.exit_code == 0, again.output
    assert "unchanged (run 2" in again.stdout
    assert "added 0, changed 0, removed 0, unchanged 98" in again.stdout


def test_sync_prints_what_it_dropped_from_kept_entries(
    certlookup: CliRunner, sample_server: LocalServer
) -> None:
    sample_server.routes[CERTIFIED] = edited(
        CERTIFIED,
        lambda page: page.replace(
            'href="https://www.oconnellreesassociatesll.example.org.uk/"',
            'href="javascript:alert(1)"',
        ),
    )

    result = run_sync_command(certlookup, "--source-url", sample_server.url)

    assert result.exit_code == 0, result.output
    assert (
        "warning: " + sample_server.url + CERTIFIED + ': "O\'Connell & Rees Associates LLP": '
        "website 'javascript:alert(1)' dropped: not an http(s) address"
    ) in result.stdout


def test_sync_dry_run_prints_the_changes_and_writes_nothing(
    certlookup: CliRunner, engine: Engine, sample_server: LocalServer
) -> None:
    before = mirror_dump(engine)

    result = run_sync_command(certlookup, "--source-url", sample_server.url, "--dry-run")

    assert result.exit_code == 0, result.output
    assert "dry_run (not recorded" in result.stdout
    assert "added 98, changed 0, removed 0" in result.stdout
    assert "Beacon‑Path Consultancy" in result.stdout  # the changes table lists them
    assert "... and 48 more" in result.stdout  # 50 shown
    assert mirror_dump(engine) == before
    assert runs(engine) == []


def test_a_rejected_sync_exits_2_and_prints_the_reason(
    certlookup: CliRunner, engine: Engine, sample_server: LocalServer
) -> None:
    run_sync_command(certlookup, "--source-url", sample_server.url)
    before = mirror_dump(engine)
    sample_server.routes[WORKING_TOWARDS] = edited(
        WORKING_TOWARDS, lambda page: page.replace('"working-towards"', '"applicants"')
    )

    result = run_sync_command(certlookup, "--source-url", sample_server.url)

    assert result.exit_code == 2, result.output
    assert "rejected (run 2" in result.stdout
    assert "reason: the working towards list came back empty (the mirror has 14)" in result.stdout
    assert mirror_dump(engine) == before

    forced = run_sync_command(certlookup, "--source-url", sample_server.url, "--force")

    assert forced.exit_code == 0, forced.output
    assert "applied (run 3" in forced.stdout
    assert "reason: forced past: the working towards list came back empty" in forced.stdout
    assert mirror_dump(engine)["version"] == 2


def test_a_failed_sync_exits_1_and_prints_the_reason(
    certlookup: CliRunner, engine: Engine, sample_server: LocalServer
) -> None:
    sample_server.routes[AFFILIATES] = status(404)

    result = run_sync_command(certlookup, "--source-url", sample_server.url)

    assert result.exit_code == 1, result.output
    assert "failed (run 1" in result.stdout
    assert f"reason: HTTP 404 Not Found from {sample_server.url}{AFFILIATES}" in result.stdout
    assert organisations(engine) == []
    # The certified pages had been fetched; the failing one is among the kept pages.
    assert {CERTIFIED, CERTIFIED_2, CERTIFIED_3, AFFILIATES} <= set(sample_server.paths_requested())


def test_a_sync_that_cannot_reach_robots_txt_fetched_no_pages(
    certlookup: CliRunner, engine: Engine
) -> None:
    nothing_there = f"http://127.0.0.1:{unused_port()}"

    result = run_sync_command(certlookup, "--source-url", nothing_there)

    assert result.exit_code == 1, result.output
    assert "failed (run 1, 0 pages, 0 rows" in result.stdout
    assert "reason: cannot read robots.txt" in result.stdout
    [run] = runs(engine)
    assert (run.outcome, run.pages_fetched) == ("failed", 0)
