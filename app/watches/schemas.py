"""Request and response bodies of the watch endpoints and the watch-events feed."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator
from pydantic_core import PydanticCustomError

from app.checks import examples as ex
from app.checks.schemas import CheckResult, ItemError
from app.schemas import RequestBody

MAX_WATCH_BATCH = 1000
EXAMPLE_WATCH: dict[str, JsonValue] = {
    "id": 41,
    "name": "Severn NHS FT",
    "setting": "cqc",
    "reference": "case-4411",
    "certificate_number": "ACT7325",
    "website": None,
    "created_at": "2026-12-02T09:15:00Z",
    "verdict": "certified",
    "current": ex.RESULT,
}
EXAMPLE_EVENT: dict[str, JsonValue] = {
    "id": "msg_1db3dba9b33e4d2e84e815295090008d",
    "type": "watch.changed",
    "timestamp": "2026-12-03T03:01:12Z",
    "data": {
        "watch": {"id": 41, "name": "Severn NHS FT", "reference": "case-4411"},
        "reasons": ["status_changed"],
        "previous": {
            "verdict": "working_towards",
            "meets_cqc_expectation": False,
            "organisation": {
                "id": 8,
                "name": "Severn NHS Foundation Trust",
                "status": "working_towards",
                "parent_status": None,
            },
        },
        "current": ex.RESULT,
    },
}
EXAMPLE_WATCH_IN: dict[str, JsonValue] = {
    "name": "Severn NHS FT",
    "setting": "cqc",
    "reference": "case-4411",
}


class Reason(StrEnum):
    """Why a watch's answer changed (the order in which reasons are listed)."""

    LISTED = "listed"
    REMOVED = "removed"
    STATUS_CHANGED = "status_changed"
    PARENT_STATUS_CHANGED = "parent_status_changed"
    RENAMED = "renamed"
    MATCH_CHANGED = "match_changed"
    CERTIFICATE_EXPIRING = "certificate_expiring"
    CERTIFICATE_EXPIRED = "certificate_expired"
    STALE = "stale"
    FRESH = "fresh"


class WatchIn(RequestBody):
    """A standing question: a provider name (and optionally the setting and your reference)."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_WATCH_IN]})
    # Bad text is checked by the endpoint, so that a batch item gets its own error.
    text_checked_by_endpoint = frozenset(
        {"name", "setting", "reference", "certificate_number", "website"}
    )

    name: str | None = Field(None, description="The provider name, as written (1-300 chars).")
    setting: str | None = Field(None, description="cqc (default) or ofsted_only.")
    reference: str | None = Field(
        None, description="Your own reference for it, e.g. a case number (at most 200 chars)."
    )
    certificate_number: str | None = Field(
        None, description="The provider's Bild ACT certificate number, if you know it."
    )
    website: str | None = Field(None, description="The provider's website, if you know it.")


class WatchBatchIn(RequestBody):
    """Up to 1,000 watches to create in one call."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"watches": [EXAMPLE_WATCH_IN, {"name": "Acme Ltd"}]}]},
    )

    watches: list[WatchIn] = Field(description="Up to 1,000 watches, created in order.")

    @field_validator("watches", mode="before")
    @classmethod
    def _at_most_max_batch(cls, value: object) -> object:
        # Before the items are validated, so that a huge body costs little.
        if isinstance(value, list) and len(value) > MAX_WATCH_BATCH:
            raise PydanticCustomError(
                "batch_too_large",
                "a batch holds at most {limit} watches, got {count}",
                {"limit": MAX_WATCH_BATCH, "count": len(value)},
            )
        return value


class WatchOut(BaseModel):
    """A watch, with the answer to its question now."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_WATCH]})

    id: int = Field(description="The watch's id.")
    name: str = Field(description="The provider name watched.")
    setting: str = Field(description="cqc or ofsted_only.")
    reference: str | None = Field(description="Your reference, as given.")
    certificate_number: str | None = Field(
        description="The certificate number watched with the name, in the form compared."
    )
    website: str | None = Field(
        description="The website watched with the name, in the form compared."
    )
    created_at: dt.datetime = Field(description="When it was created (UTC).")
    verdict: str = Field(
        description="The verdict in the last answer sent (at creation or by the latest "
        "event); `GET /v1/watches?verdict=` filters on it."
    )
    current: CheckResult = Field(description="The full check result now, as /v1/check gives it.")


class WatchBatchItem(BaseModel):
    """One item of a batch: the watch created, or why not."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"index": 0, "watch": EXAMPLE_WATCH, "error": None}]}
    )

    index: int = Field(description="Position in the request.")
    watch: WatchOut | None = Field(description="The watch created; null when the item failed.")
    error: ItemError | None = Field(description="Why the item was not created.")


class WatchBatchResult(BaseModel):
    """Per-item results, in request order."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"results": [{"index": 0, "watch": EXAMPLE_WATCH, "error": None}], "created": 1}
            ]
        }
    )

    results: list[WatchBatchItem] = Field(description="One per item, in the same order.")
    created: int = Field(description="How many watches were created.")


class WatchPage(BaseModel):
    """One page of the client's watches, oldest first."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [EXAMPLE_WATCH], "next_cursor": "d2F0Y2g6NDE"}]}
    )

    items: list[WatchOut] = Field(description="The watches on this page.")
    next_cursor: str | None = Field(
        description="Pass as `after` for the next page; null on the last page."
    )


class WatchRef(BaseModel):
    """The watch an event is about."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": 41, "name": "Severn NHS FT", "reference": "case-4411"}]
        }
    )

    id: int = Field(description="The watch's id.")
    name: str = Field(description="The provider name watched.")
    reference: str | None = Field(description="Your reference for it.")


class OrganisationBrief(BaseModel):
    """The matched organisation in the previous answer."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 8,
                    "name": "Severn NHS Foundation Trust",
                    "status": "certified",
                    "parent_status": None,
                }
            ]
        }
    )

    id: int = Field(description="Organisation id.")
    name: str = Field(description="Its name at the time.")
    status: str = Field(description="Its status at the time.")
    parent_status: str | None = Field(description="Affiliates: the parent's status then.")


class PreviousAnswer(BaseModel):
    """The answer the client had before this event."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"verdict": "working_towards", "meets_cqc_expectation": False, "organisation": None}
            ]
        }
    )

    verdict: str = Field(description="The previous verdict.")
    meets_cqc_expectation: bool | None = Field(description="The previous CQC answer.")
    organisation: OrganisationBrief | None = Field(description="The organisation matched then.")


class WatchChangedData(BaseModel):
    """What changed for one watch."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_EVENT["data"]]})

    watch: WatchRef = Field(description="The watch.")
    reasons: list[Reason] = Field(description="Why the answer changed, one or more.")
    previous: PreviousAnswer = Field(description="The answer before.")
    current: CheckResult = Field(description="The full check result now.")


class WatchEventOut(BaseModel):
    """One event: the body a webhook carries, with its id (the webhook-id header)."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_EVENT]})

    id: str = Field(description="Event id; the `webhook-id` header of its deliveries.")
    type: str = Field(description="`watch.changed`.")
    timestamp: dt.datetime = Field(description="When the change was seen (UTC).")
    data: dict[str, Any] = Field(description="A WatchChangedData object (see the schema).")


class WatchEventPage(BaseModel):
    """The client's events, oldest first."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [EXAMPLE_EVENT], "next_cursor": "ZXZlbnQ6Mg"}]}
    )

    items: list[WatchEventOut] = Field(description="The events on this page.")
    next_cursor: str | None = Field(
        description="Pass as `after` for what follows; on the last page, the cursor to poll "
        "with next (null only when there are no events at all)."
    )
