"""Response bodies of GET /v1/register/history."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from app.checks.schemas import RegisterStamp


class HistoryPeriod(BaseModel):
    """How many organisations held each status at the end of one period."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "start": "2026-01-01",
                    "end": "2026-02-01",
                    "counted_at": "2026-02-01T00:00:00Z",
                    "counts": {
                        "certified": 46,
                        "affiliate": 38,
                        "working_towards": 14,
                        "removed": 0,
                    },
                    "listed_total": 98,
                }
            ]
        }
    )

    start: dt.date = Field(description="First day of the period (UTC; weeks start on Monday).")
    end: dt.date = Field(description="First day of the next period (exclusive).")
    counted_at: dt.datetime = Field(
        description="The moment counted: the period's end, or the last sync for the last period."
    )
    counts: dict[str, int] = Field(
        description="Organisations per status then: certified, affiliate, working_towards, "
        "removed (removed: seen by the mirror, then gone)."
    )
    listed_total: int = Field(description="Organisations on the register then.")


class RegisterHistory(BaseModel):
    """Counts per status over time, from the mirror's own history."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "interval": "month",
                    "regions": ["London"],
                    "settings": [],
                    "memory_begins": "2026-01-10T03:00:05Z",
                    "memory_ends": "2026-02-15T03:00:04Z",
                    "items": [
                        {
                            "start": "2026-01-01",
                            "end": "2026-02-01",
                            "counted_at": "2026-02-01T00:00:00Z",
                            "counts": {
                                "certified": 7,
                                "affiliate": 0,
                                "working_towards": 0,
                                "removed": 0,
                            },
                            "listed_total": 7,
                        },
                        {
                            "start": "2026-02-01",
                            "end": "2026-03-01",
                            "counted_at": "2026-02-15T03:00:04Z",
                            "counts": {
                                "certified": 8,
                                "affiliate": 0,
                                "working_towards": 0,
                                "removed": 0,
                            },
                            "listed_total": 8,
                        },
                    ],
                    "register": {
                        "version": 2,
                        "last_synced_at": "2026-02-15T03:00:04Z",
                        "source_url": "https://bildact.org.uk",
                        "stale": False,
                    },
                }
            ]
        },
    )

    interval: str = Field(description="The length of each period: month, week or day.")
    regions: list[str] = Field(description="The region filter, as sent (empty: every region).")
    settings: list[str] = Field(description="The setting filter, as sent (empty: every setting).")
    memory_begins: dt.datetime | None = Field(
        description="The mirror's first successful sync: nothing is known before it, so "
        "the first period is the one holding it. Null before any sync."
    )
    memory_ends: dt.datetime | None = Field(
        description="The mirror's last successful sync, where the last period is counted."
    )
    items: list[HistoryPeriod] = Field(description="One entry per period, oldest first.")
    register_: RegisterStamp = Field(
        alias="register", description="Registry version and freshness of this answer."
    )
