"""An organisation's timeline: what the register said about it from each change to the
next, rebuilt from its current record and its events (each event keeps the fields it
changed as [before, after], so walking back from now restores every earlier state)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.models import Organisation, OrganisationEvent

# The fields a timeline follows: names, status, parent and certificate dates.
TIMELINE_FIELDS = (
    "name",
    "listed_name",
    "parent_name",
    "certificate_number",
    "certified_on",
    "valid_until",
    "approved_on",
)


@dataclass(frozen=True, slots=True)
class Span:
    """One stretch of time over which the register said the same about the organisation."""

    since: dt.datetime
    until: dt.datetime | None
    effective_on: dt.date | None
    event_kind: str
    status: str
    values: dict[str, Any]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def build_timeline(org: Organisation, events: Sequence[OrganisationEvent]) -> list[Span]:
    """The spans of `events` (oldest first), each with the values that held during it."""
    values = {name: _plain(getattr(org, name)) for name in TIMELINE_FIELDS}
    status = org.status
    spans: list[Span] = []
    until: dt.datetime | None = None
    for event in reversed(events):
        spans.append(
            Span(event.observed_at, until, event.effective_on, event.kind, status, dict(values))
        )
        for name, (before, _after) in event.changes.items():
            if name in values:
                values[name] = before
        status = event.status_before or status
        until = event.observed_at
    spans.reverse()
    return spans
