"""`certlookup import`: the export read back through the sync's validation, diff guard,
history and lock, recorded as a run whose source is the file."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from app import cli as cli_module
from app.config import Settings
from app.db import make_engine
from app.register.export import ORGANISATION_COLUMNS
from tests.register import mirror_dump, runs
from tests.support.cli import cli_runner


@pytest.fixture
def certlookup(api_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The real CLI on the test's database, configured through the environment."""
    with cli_runner(api_settings.sqlalchemy_url, monkeypatch) as runner:
        yield runner


@pytest.fixture
def mirror(api_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(api_settings.sqlalchemy_url)
    yield engine
    engine.dispose()


def _import(runner: CliRunner, path: Path, *options: str) -> Result:
    return runner.invoke(cli_module.cli, ["import", str(path), *options], catch_exceptions=False)


def _export_csv(client: TestClient, path: Path) -> list[dict[str, str]]:
    response = client.get("/v1/organisations", params={"format": "csv"})
    assert response.status_code == 200
    path.write_bytes(response.content)
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.DictWriter(out, ORGANISATION_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)


def test_exported_csv_imports_back_with_no_changes(
    synced_client: TestClient, certlookup: CliRunner, mirror: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "organisations.csv"
    _export_csv(synced_client, path)
    before = mirror_dump(mirror)

    result = _import(certlookup, path)

    assert result.exit_code == 0, result.output
    assert "unchanged (run 2" in result.stdout
    assert "added 0, changed 0, removed 0, unchanged 98" in result.stdout
    assert mirror_dump(mirror) == before
    newest = runs(mirror)[-1]
    assert (newest.trigger, newest.outcome, newest.source_url) == (
        "import",
        "unchanged",
        path.resolve().as_uri(),
    )
    # A file read is not a page the register answered: nothing was fetched.
    assert (newest.rows_seen, newest.pages_fetched) == (98, 0)


def test_exported_json_imports_back_with_no_changes(
    synced_client: TestClient, certlookup: CliRunner, mirror: Engine, tmp_path: Path
) -> None:
    page = synced_client.get("/v1/organisations", params={"page_size": 200}).json()
    path = tmp_path / "organisations.json"
    path.write_text(json.dumps(page), encoding="utf-8")

    result = _import(certlookup, path)

    assert result.exit_code == 0, result.output
    assert "added 0, changed 0, removed 0, unchanged 98" in result.stdout


def test_dry_run_shows_the_diff_and_writes_nothing_then_the_import_applies_it(
    synced_client: TestClient, certlookup: CliRunner, mirror: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "edited.csv"
    rows = _export_csv(synced_client, path)
    target = next(r for r in rows if r["valid_until"])
    target["valid_until"] = "2031-01-31"
    _write_csv(path, rows)
    before = mirror_dump(mirror)
    run_count = len(runs(mirror))

    dry = _import(certlookup, path, "--dry-run")

    assert dry.exit_code == 0, dry.output
    assert "dry_run (not recorded" in dry.stdout
    assert "added 0, changed 1, removed 0, unchanged 97" in dry.stdout
    assert target["name"] in dry.stdout
    assert "valid_until" in dry.stdout
    assert mirror_dump(mirror) == before
    assert len(runs(mirror)) == run_count

    applied = _import(certlookup, path)

    assert applied.exit_code == 0, applied.output
    assert "applied (run 2" in applied.stdout
    detail = synced_client.get(f"/v1/organisations/{target['id']}").json()
    assert detail["valid_until"] == "2031-01-31"
    change = detail["history"][-1]
    assert change["kind"] == "details_changed"
    assert change["changes"]["valid_until"][1] == "2031-01-31"
    assert change["registry_version"] == 2


def test_a_file_that_would_remove_too_much_is_rejected_like_a_sync(
    synced_client: TestClient, certlookup: CliRunner, mirror: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "half.csv"
    rows = _export_csv(synced_client, path)
    _write_csv(path, rows[:50])
    before = mirror_dump(mirror)

    result = _import(certlookup, path)

    assert result.exit_code == 2, result.output
    assert "rejected (run 2" in result.stdout
    assert "48 of 98 organisations (49%) would be removed" in result.stdout
    assert mirror_dump(mirror) == before
    newest = runs(mirror)[-1]
    assert (newest.trigger, newest.outcome) == ("import", "rejected")


def test_entries_the_sync_would_refuse_reject_the_import(
    synced_client: TestClient, certlookup: CliRunner, mirror: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    rows = _export_csv(synced_client, path)
    rows[0]["status"] = "lapsed"
    rows[1]["valid_until"] = "2026-02-30"
    _write_csv(path, rows)

    result = _import(certlookup, path)

    assert result.exit_code == 2, result.output
    assert "2 entries are incomplete or malformed" in result.stdout


def test_a_file_that_cannot_be_read_fails_the_run(
    certlookup: CliRunner, mirror: Engine, tmp_path: Path
) -> None:
    wrong = tmp_path / "listing.txt"
    wrong.write_text("name,status\n", encoding="utf-8")
    no_status = tmp_path / "names.csv"
    no_status.write_text("id,name\n1,Acme Ltd\n", encoding="utf-8")

    for path, reason in (
        (wrong, "only .csv and .json files can be imported"),
        (no_status, "lacks the column(s) status"),
        (tmp_path / "missing.csv", "cannot read"),
    ):
        result = _import(certlookup, path)
        assert result.exit_code == 1, result.output
        assert reason in result.stdout
