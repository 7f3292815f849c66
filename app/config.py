"""Service settings: one validated pydantic-settings class, read from the environment."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from app.ops.ratelimit import parse_rate_limit

# Standard Webhooks' suggestion, shortened: about three days in all (plus jitter).
DEFAULT_RETRY_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0, 36000.0)
# After a failed scheduled sync: 5, 15 and 45 minutes, then hourly until the next scheduled run.
DEFAULT_SYNC_RETRY_SCHEDULE = (300.0, 900.0, 2700.0, 3600.0)
PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "dev", "development", "secret"}


class Environment(StrEnum):
    """Where the service runs; production refuses placeholder secrets."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every setting the service reads. Prefix `CERTLOOKUP_`, plus a plain `DATABASE_URL`."""

    model_config = SettingsConfigDict(
        env_prefix="CERTLOOKUP_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    environment: Environment = Field(
        Environment.DEVELOPMENT, description="development, test or production."
    )
    data_dir: Path = Field(Path("var"), description="Directory for the embedded SQLite database.")
    database_url: str | None = Field(
        None,
        validation_alias=AliasChoices("DATABASE_URL", "CERTLOOKUP_DATABASE_URL"),
        description="SQLAlchemy URL; unset means a SQLite file in data_dir. "
        "Postgres: postgresql+psycopg://user@host/db",
    )
    source_url: str = Field(
        "https://bildact.org.uk", description="Base URL of the Bild ACT register."
    )
    contact: str = Field(
        "ops@example.invalid",
        description="Contact (email or URL) sent in the scraper's User-Agent.",
    )
    fetch_pause_seconds: float = Field(1.0, ge=0, description="Pause between page fetches.")
    fetch_deadline_seconds: float = Field(
        300.0, gt=0, description="Overall deadline for one scrape."
    )
    fetch_max_pages: int = Field(200, gt=0, description="Most pages one scrape may follow.")
    fetch_max_page_bytes: int = Field(5_000_000, gt=0, description="Largest page accepted.")
    max_removed_share: float = Field(
        0.2,
        ge=0,
        le=1,
        description="A sync that would remove more than this share of organisations is rejected.",
    )
    artifact_runs_kept: int = Field(
        20, ge=0, description="Rejected/failed runs whose raw pages are kept for diagnosis."
    )
    max_age_hours: float = Field(
        72.0,
        gt=0,
        description="Register data older than this is stale: verdicts then carry a warning "
        "and meets_cqc_expectation is null.",
    )
    scheduler: bool = Field(
        True, description="Run the sync scheduler inside `serve` (turn off on API replicas)."
    )
    sync_cron: str = Field(
        "0 3 * * *", description="When the scheduler syncs (crontab, Europe/London)."
    )
    sync_retry_schedule: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_SYNC_RETRY_SCHEDULE),
        description="Seconds to wait before each retry after a failed or rejected scheduled "
        "sync, comma-separated like CERTLOOKUP_WEBHOOK_RETRY_SCHEDULE; the last step repeats "
        "until the next scheduled run (which starts the steps again).",
    )
    heartbeat_seconds: float = Field(
        30.0,
        ge=1,
        le=3600,
        description="How often the scheduler writes its heartbeat to the database "
        "(`certlookup heartbeat` fails when it is older than four of these).",
    )
    index_poll_seconds: float = Field(
        2.0, gt=0, description="How often each API process checks for a new registry version."
    )
    public_read: bool = Field(False, description="Allow read endpoints without an API key.")
    rate_limit: str = Field(
        "600/minute", description="Per key (or per address for public reads); 0 turns it off."
    )
    auth_failure_limit: str = Field(
        "20/minute",
        description="Failed authentications (wrong keys) allowed per client address before "
        "it gets 429s; `N/second|minute|hour`, 0 turns it off.",
    )
    max_body_bytes: int = Field(
        2_000_000,
        gt=0,
        description="Largest request body (bytes) an endpoint accepts unless it declares "
        "its own limit (max_body_size on the route).",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated addresses or networks (CIDR) of the reverse proxies "
        "whose X-Forwarded-For and X-Forwarded-Proto are believed; the client is the "
        "right-most address in X-Forwarded-For that is not one of them. Empty: none, the "
        "connecting peer is the client.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated origins allowed by CORS; empty: off."
    )
    key_pepper: str = Field(
        "dev",
        description="Server-side secret mixed into API-key hashes. Must be set in production.",
    )
    opentelemetry: bool = Field(
        False,
        description="FastAPI's OpenTelemetry spans, metrics and logs, sent to the providers "
        "configured globally (e.g. by opentelemetry-instrument). Off: Prometheus /metrics only.",
    )
    watch_limit: int = Field(10_000, ge=1, description="Most watches one client may hold.")
    expiry_notice_days: int = Field(
        60,
        ge=0,
        description="A watch's certificate_expiring event is sent once, this many days (or "
        "fewer) before the certificate's valid-until date.",
    )
    webhook_retry_schedule: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_RETRY_SCHEDULE),
        description="Seconds to wait before each retry of a failed webhook delivery, "
        "comma-separated; after the last one the event is marked failed.",
    )
    webhook_disable_after: int = Field(
        5, ge=1, description="Disable a webhook after this many failed events in a row."
    )
    webhook_allow_private: bool = Field(
        False,
        description="Allow http:// and loopback/private webhook targets (development and "
        "tests only; refused in production).",
    )
    receipt_signing_key: SecretStr | None = Field(
        None,
        description="The Ed25519 private key that signs receipts: PEM text, or the path of a "
        "PEM file. Required in production (the service refuses to start without it); in "
        "development one is generated once as data_dir/receipt-signing-key.pem and reused; "
        "in test, a new one for each app. Make one with `certlookup receipts keygen`.",
    )
    receipt_retired_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated paths of PEM files (or PEM text) of keys that signed "
        "receipts before a rotation. Only their public halves are used: they stay in "
        "/.well-known/jwks.json so that receipts they signed still verify.",
    )
    log_json: bool | None = Field(
        None,
        description="JSON log lines (true), readable console lines (false), or unset: console "
        "lines when stderr is a terminal (a person running a command), JSON otherwise.",
    )
    log_level: str = Field("INFO", description="Log level.")

    @field_validator("cors_origins", "trusted_proxies", "receipt_retired_keys", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("webhook_retry_schedule", "sync_retry_schedule", mode="before")
    @classmethod
    def _split_schedule(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                delays = [float(part) for part in value.split(",") if part.strip()]
            except ValueError:
                raise ValueError("comma-separated seconds, e.g. 5,300,1800") from None
            if not delays or any(not 0 <= d <= 7 * 86400 for d in delays):
                raise ValueError("one or more delays, each 0 to 604800 seconds")
            return delays
        return value

    @field_validator("sync_retry_schedule")
    @classmethod
    def _sync_retries_wait(cls, value: list[float]) -> list[float]:
        if not value or any(delay < 1 for delay in value):
            raise ValueError("one or more delays, each at least 1 second")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            if entry == "*":
                raise ValueError(
                    "name the proxies' addresses or networks, not '*': with '*' any client "
                    "chooses its own address by sending X-Forwarded-For"
                )
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network") from None
        return value

    @field_validator("rate_limit", "auth_failure_limit")
    @classmethod
    def _rate_spec(cls, value: str) -> str:
        parse_rate_limit(value)  # raises ValueError with the reason
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_on_psycopg(cls, value: str | None) -> str | None:
        """PostgreSQL runs on psycopg 3, the driver installed (and async-capable, which the
        registry poll needs): a URL without a driver gets it, another driver is refused."""
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL: {exc}") from exc
        if url.drivername in ("postgres", "postgresql"):
            return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        if url.get_backend_name() == "postgresql" and url.get_driver_name() != "psycopg":
            raise ValueError(
                f"PostgreSQL driver {url.get_driver_name()!r} is not supported: "
                "use postgresql+psycopg://user:password@host/db"
            )
        return value

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if (
            self.environment is Environment.PRODUCTION
            and self.key_pepper.lower() in PLACEHOLDER_SECRETS
        ):
            raise ValueError("CERTLOOKUP_KEY_PEPPER must be set to a real secret in production")
        if self.environment is Environment.PRODUCTION and self.webhook_allow_private:
            raise ValueError(
                "CERTLOOKUP_WEBHOOK_ALLOW_PRIVATE lets webhooks reach internal addresses: "
                "it is refused in production"
            )
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL actually used: DATABASE_URL or the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'certlookup.sqlite3').as_posix()}"

    @property
    def is_sqlite(self) -> bool:
        """True when the embedded SQLite database is in use."""
        return self.sqlalchemy_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
