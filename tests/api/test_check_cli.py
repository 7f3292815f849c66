"""`certlookup check` with identifiers, and `certlookup eval` on both eval sets (scored
against the app itself, as against a running service), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import app.checks.cli as check_cli
from app.register.sync import SyncReport
from tests.conftest import SHARED
from tests.support.cli import cli_runner, run

EVAL_DIR = SHARED / "eval"


@pytest.fixture
def certlookup(
    database_url: str, sample_synced: SyncReport, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    """The real CLI, configured through the environment, on the synced sample register."""
    with cli_runner(database_url, monkeypatch) as runner:
        yield runner


def test_check_takes_a_certificate_number_or_website_without_a_name(
    certlookup: CliRunner,
) -> None:
    result = run(certlookup, "check", "--certificate-number", "act-5819", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert (body["verdict"], body["match"]["method"]) == ("certified", "certificate_number")
    named = run(certlookup, "check", "Kind Homes Ltd", "--certificate-number", "ACT5819")
    assert "affiliate" in named.output
    assert "confirmed by certificate number ACT5819 (parent)" in named.output
    bad = run(certlookup, "check", "--website", "javascript:alert(1)")
    assert bad.exit_code == 2
    assert "website_invalid" in bad.output


def test_eval_reports_both_sets_and_sends_each_present_field(
    certlookup: CliRunner, app: FastAPI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sent: list[dict[str, Any]] = []

    def client(**options: Any) -> httpx.Client:
        test_client = TestClient(app, headers=options.get("headers"))
        post = test_client.post

        def recording_post(url: str, **kw: Any) -> httpx.Response:
            sent.extend(kw["json"]["queries"])
            return post(url, **kw)

        test_client.post = recording_post  # type: ignore[method-assign]
        return test_client

    monkeypatch.setattr(check_cli.httpx, "Client", client)
    with TestClient(app):
        app.state.holder.refresh(force=True)
        result = run(certlookup, "eval", "--eval-dir", str(EVAL_DIR))
    assert result.exit_code == 0, result.output
    assert "queries-dev.jsonl: queries 670" in result.output
    assert "queries-v2-dev.jsonl: queries 582" in result.output
    assert "false matches 0" in result.output
    assert {"certificate_number"} in [set(item) for item in sent]
    assert {"website"} in [set(item) for item in sent]
    assert {"name", "certificate_number"} in [set(item) for item in sent]
    assert all(item.get("name") != "" or len(item) == 1 for item in sent)
    empty = tmp_path / "none"
    empty.mkdir()
    assert run(certlookup, "eval", "--eval-dir", str(empty)).exit_code == 2


def test_eval_says_plainly_when_the_service_cannot_be_reached_or_refuses(
    certlookup: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It printed a traceback (httpx.ConnectError) when no service was running.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"  # nothing listens once closed
    result = run(certlookup, "eval", "--eval-dir", str(EVAL_DIR), "--base-url", closed)
    assert result.exit_code == 2
    assert f"cannot reach the service at {closed}" in result.output
    assert "Traceback" not in result.output

    def refuse(request: httpx.Request) -> httpx.Response:
        problem = {"status": 401, "code": "missing_api_key", "detail": "An API key is required."}
        return httpx.Response(
            401, json=problem, headers={"content-type": "application/problem+json"}
        )

    real_client = httpx.Client
    monkeypatch.setattr(
        check_cli.httpx,
        "Client",
        lambda **options: real_client(transport=httpx.MockTransport(refuse), **options),
    )
    refused = run(certlookup, "eval", "--eval-dir", str(EVAL_DIR))
    assert refused.exit_code == 2
    assert "answered 401: An API key is required." in refused.output
    assert "--api-key" in refused.output
