"""The README's configuration reference names every setting the service reads."""

from __future__ import annotations

from pathlib import Path

from app.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def _variable(field: str) -> str:
    return "DATABASE_URL" if field == "database_url" else f"CERTLOOKUP_{field.upper()}"


def test_readme_configuration_table_lists_every_setting() -> None:
    text = README.read_text()
    missing = [_variable(f) for f in Settings.model_fields if f"`{_variable(f)}`" not in text]
    assert missing == []


def test_readme_gives_one_command_to_run_and_one_to_test() -> None:
    text = README.read_text()
    assert "```sh\nscripts/run\n```" in text
    assert "```sh\nscripts/test\n```" in text
    assert "scripts/test" in (README.parent / ".ci" / "run").read_text()
