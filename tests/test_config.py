"""Settings: the database URL rules and the production guard."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import Settings


def _settings(**env: str) -> Settings:
    return Settings(_env_file=None, **env)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p%40ss@db:5432/rrn", "postgresql+psycopg://u:p%40ss@db:5432/rrn"),
        ("postgres://u@db/rrn", "postgresql+psycopg://u@db/rrn"),
        (
            "postgresql+psycopg://u@db/rrn?sslmode=require",
            "postgresql+psycopg://u@db/rrn?sslmode=require",
        ),
        ("sqlite:///var/other.sqlite3", "sqlite:///var/other.sqlite3"),
    ],
)
def test_postgres_urls_run_on_psycopg_and_others_are_kept(given: str, used: str) -> None:
    assert _settings(database_url=given).sqlalchemy_url == used


@pytest.mark.parametrize(
    "given", ["postgresql+psycopg2://u@db/rrn", "postgresql+asyncpg://u@db/rrn"]
)
def test_another_postgres_driver_is_refused_with_the_url_to_use(given: str) -> None:
    with pytest.raises(ValidationError, match=r"postgresql\+psycopg://"):
        _settings(database_url=given)


def test_a_malformed_database_url_is_refused() -> None:
    with pytest.raises(ValidationError, match="not a database URL"):
        _settings(database_url="not a url")


def test_unset_database_url_means_the_embedded_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DATABASE_URL", "CERTLOOKUP_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = _settings(data_dir=str(tmp_path))
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path}/certlookup.sqlite3"
    assert settings.is_sqlite


def test_production_refuses_a_placeholder_pepper() -> None:
    with pytest.raises(ValidationError, match="CERTLOOKUP_KEY_PEPPER"):
        _settings(environment="production", key_pepper="changeme")
    assert _settings(environment="production", key_pepper="a-real-secret").key_pepper


def test_production_refuses_private_webhook_targets() -> None:
    with pytest.raises(ValidationError, match="CERTLOOKUP_WEBHOOK_ALLOW_PRIVATE"):
        _settings(environment="production", key_pepper="a-real-secret", webhook_allow_private="1")
    assert _settings(environment="test", webhook_allow_private="true").webhook_allow_private


def test_webhook_retry_schedule_is_comma_separated_seconds() -> None:
    assert _settings(webhook_retry_schedule="1,2,4").webhook_retry_schedule == [1, 2, 4]
    assert len(_settings().webhook_retry_schedule) == 8
    for bad in ("", "a,b", "5,-1", "1,9999999"):
        with pytest.raises(ValidationError, match="webhook_retry_schedule"):
            _settings(webhook_retry_schedule=bad)
