"""The real command line in tests, configured through the environment as an operator would."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest
from click.testing import Result
from typer.testing import CliRunner

from app import cli as cli_module
from app.config import get_settings
from app.db import engine_for


@contextmanager
def cli_runner(
    database_url: str, monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str] | None = None
) -> Iterator[CliRunner]:
    """A runner for `certlookup` on this database; `env` adds or overrides settings."""
    for name, value in {
        "DATABASE_URL": database_url,
        "CERTLOOKUP_ENVIRONMENT": "test",
        "CERTLOOKUP_SCHEDULER": "false",
        "COLUMNS": "250",  # so rich does not wrap a reason mid-phrase
        **(env or {}),
    }.items():
        monkeypatch.setenv(name, value)
    # configure_logging would leave the root handler on CliRunner's temporary stderr.
    monkeypatch.setattr(cli_module, "configure_logging", lambda settings: None)
    get_settings.cache_clear()
    try:
        yield CliRunner()
    finally:
        get_settings.cache_clear()
        engine_for(database_url).dispose()


def run(runner: CliRunner, *args: str) -> Result:
    """`certlookup ARGS...`, letting an unexpected exception fail the test as itself."""
    return runner.invoke(cli_module.cli, list(args), catch_exceptions=False)
