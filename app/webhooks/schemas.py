"""Request and response bodies of the webhook endpoints."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from app.schemas import RequestBody

EXAMPLE_URL = "https://cases.kent.example.gov.uk/hooks/certlookup"
EXAMPLE_WEBHOOK: dict[str, JsonValue] = {
    "id": 1,
    "url": EXAMPLE_URL,
    "description": "Kent case system",
    "enabled": True,
    "disabled_reason": None,
    "disabled_at": None,
    "created_at": "2026-12-02T09:20:00Z",
}
EXAMPLE_ATTEMPT: dict[str, JsonValue] = {
    "id": 7,
    "event_id": "msg_7b8c0b3062494321908998c0e7fab8a0",
    "event_type": "watch.changed",
    "attempt": 2,
    "attempted_at": "2026-12-03T03:01:18Z",
    "duration_ms": 84,
    "status_code": 200,
    "error": None,
    "response_body": "ok",
    "outcome": "delivered",
    "next_attempt_at": None,
}


class WebhookIn(RequestBody):
    """Where to send your watch events."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"url": EXAMPLE_URL, "description": "case system"}]}
    )

    url: str = Field(
        description="https:// URL of a public server (at most 2,000 characters).",
        max_length=2000,
    )
    description: str | None = Field(
        None, description="Your note about it (at most 500 characters).", max_length=500
    )


class WebhookOut(BaseModel):
    """A webhook endpoint of your key."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_WEBHOOK]})

    id: int = Field(description="The webhook's id.")
    url: str = Field(description="Where events are POSTed.")
    description: str | None = Field(description="Your note about it.")
    enabled: bool = Field(description="False once disabled after failures (or a 410 Gone).")
    disabled_reason: str | None = Field(description="Why it was disabled; null while enabled.")
    disabled_at: dt.datetime | None = Field(description="When it was disabled (UTC).")
    created_at: dt.datetime = Field(description="When it was registered (UTC).")


class WebhookCreated(WebhookOut):
    """A new webhook, with its signing secret: shown this once."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {**EXAMPLE_WEBHOOK, "secret": "whsec_kQH5/QLtQL0Kd8k8l4QVpLIg5SWyeMz5d3ztFFjB3hU="}
            ]
        }
    )

    secret: str = Field(
        description="whsec_... signing secret for Standard Webhooks verification. Store it "
        "now: it is never shown again."
    )


class WebhookList(BaseModel):
    """Every webhook of your key."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [EXAMPLE_WEBHOOK]}]})

    items: list[WebhookOut] = Field(description="Your webhooks, oldest first.")


class TestEventOut(BaseModel):
    """A webhook.test event queued for delivery to one webhook."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": "msg_472288f9d372454187a0ba7da0f9f8f0", "type": "webhook.test"}]
        }
    )

    id: str = Field(description="The event id: the webhook-id header it is sent with.")
    type: str = Field(description="`webhook.test`.")


class AttemptOut(BaseModel):
    """One attempt to deliver one event."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_ATTEMPT]})

    id: int = Field(description="The attempt's id.")
    event_id: str = Field(description="The event (its webhook-id).")
    event_type: str = Field(description="watch.changed or webhook.test.")
    attempt: int = Field(description="1 for the first attempt, 2 for the first retry, ...")
    attempted_at: dt.datetime = Field(description="When it was made (UTC).")
    duration_ms: int = Field(description="How long it took, in milliseconds.")
    status_code: int | None = Field(description="The receiver's HTTP status; null if none.")
    error: str | None = Field(description="Why it failed without a status (or with a bad one).")
    response_body: str | None = Field(description="The first 1 KB of the receiver's answer.")
    outcome: str = Field(description="delivered, retrying or failed (no more retries).")
    next_attempt_at: dt.datetime | None = Field(description="When it is retried; null if not.")


class AttemptPage(BaseModel):
    """Delivery attempts of one webhook, newest first."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [EXAMPLE_ATTEMPT], "next_cursor": None}]}
    )

    items: list[AttemptOut] = Field(description="The attempts on this page.")
    next_cursor: str | None = Field(
        description="Pass as `after` for older attempts; null on the last page."
    )
