"""`certlookup receipts keygen` and `certlookup receipts verify FILE --jwks URL_OR_FILE`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app import cli as cli_module
from app.receipts.keys import kid_of, load_key_ring, parse_key
from tests.conftest import make_settings
from tests.receipts import CERTIFIED_NAME, issue, read_key, tampered
from tests.support.httpserver import serve_site

runner = CliRunner()


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_module, "configure_logging", lambda settings: None)


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli_module.cli, ["receipts", *args])
    return result.exit_code, result.output


@pytest.fixture
def saved(synced_client: TestClient, app: FastAPI, tmp_path: Path) -> tuple[Path, Path, dict]:  # type: ignore[type-arg]
    """A receipt saved as the API returned it, and the JWKS saved beside it."""
    receipt = issue(synced_client, read_key(app), name=CERTIFIED_NAME)
    receipt_file, jwks_file = tmp_path / "receipt.json", tmp_path / "jwks.json"
    receipt_file.write_text(json.dumps(receipt))
    jwks_file.write_text(synced_client.get("/.well-known/jwks.json").text)
    return receipt_file, jwks_file, receipt


def test_keygen_writes_a_private_key_only_its_owner_reads_and_the_service_loads_it(
    tmp_path: Path,
) -> None:
    key_file, public_file = tmp_path / "signing.pem", tmp_path / "signing.pub.pem"
    code, output = _run("keygen", "-o", str(key_file), "--public", str(public_file))
    assert code == 0, output
    assert key_file.stat().st_mode & 0o077 == 0
    settings = make_settings(
        f"sqlite:///{tmp_path}/x.sqlite3",
        receipt_signing_key=str(key_file),
        receipt_retired_keys=str(public_file),
    )
    ring = load_key_ring(settings)
    assert ring.kid in output
    assert kid_of(parse_key(public_file.read_text(), private=False)) == ring.kid
    assert _run("keygen", "-o", str(key_file))[0] == 2, "an existing key is never overwritten"


def test_a_saved_receipt_verifies_offline_against_a_saved_jwks(saved: tuple) -> None:  # type: ignore[type-arg]
    receipt_file, jwks_file, receipt = saved
    code, output = _run("verify", str(receipt_file), "--jwks", str(jwks_file))
    assert code == 0, output
    assert "valid" in output
    assert receipt["id"] in output
    jws_only = receipt_file.with_suffix(".jws")
    jws_only.write_text(receipt["jws"] + "\n")
    assert _run("verify", str(jws_only), "--jwks", str(jwks_file))[0] == 0


def test_one_changed_character_in_the_jws_fails_verification(saved: tuple) -> None:  # type: ignore[type-arg]
    receipt_file, jwks_file, receipt = saved
    receipt_file.write_text(json.dumps({**receipt, "jws": tampered(receipt["jws"])}))
    code, output = _run("verify", str(receipt_file), "--jwks", str(jwks_file))
    assert code == 1
    assert "bad_signature" in output


def test_an_edited_receipt_with_its_original_jws_fails_verification(saved: tuple) -> None:  # type: ignore[type-arg]
    receipt_file, jwks_file, receipt = saved
    edited = json.loads(json.dumps(receipt))
    edited["result"]["verdict"] = (
        "certified" if receipt["result"]["verdict"] != "certified" else "affiliate"
    )
    receipt_file.write_text(json.dumps(edited))
    code, output = _run("verify", str(receipt_file), "--jwks", str(jwks_file))
    assert code == 1
    assert "edited" in output


def test_a_jwks_without_the_key_says_unknown_key(saved: tuple, tmp_path: Path) -> None:  # type: ignore[type-arg]
    receipt_file, _, _ = saved
    other = tmp_path / "other.json"
    other.write_text(json.dumps(load_key_ring(make_settings("sqlite://")).jwks()))
    code, output = _run("verify", str(receipt_file), "--jwks", str(other))
    assert code == 1
    assert "unknown_key" in output


def test_the_jwks_can_be_fetched_from_a_url(saved: tuple) -> None:  # type: ignore[type-arg]
    receipt_file, jwks_file, _ = saved
    with serve_site({"/.well-known/jwks.json": jwks_file.read_bytes()}) as server:
        code, output = _run(
            "verify", str(receipt_file), "--jwks", f"{server.url}/.well-known/jwks.json"
        )
    assert code == 0, output


@pytest.mark.parametrize("content", ["", "{}", "[1]", "not json and not a jws"])
def test_unusable_input_is_a_clear_answer_not_a_traceback(
    tmp_path: Path,
    content: str,
    saved: tuple,  # type: ignore[type-arg]
) -> None:
    _, jwks_file, _ = saved
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    code, output = _run("verify", str(bad), "--jwks", str(jwks_file))
    assert code in (1, 2)
    assert "Traceback" not in output
    missing = _run("verify", str(tmp_path / "missing"), "--jwks", str(jwks_file))
    assert missing[0] == 2
    assert _run("verify", str(bad), "--jwks", str(tmp_path / "missing.json"))[0] == 2
