"""The change feed: a window over observed time, kinds, one organisation, and cursors."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.models import Organisation, OrganisationEvent
from app.register.queries import event_out
from app.register.schemas import ChangeOut

_OFFSET_WITHOUT_PLUS = re.compile(r"(T.*\d) (\d{2}(:?\d{2})?)$")


def parse_instant(raw: str, name: str) -> dt.datetime:
    """A tz-aware UTC datetime from an ISO date (midnight UTC) or datetime with an offset."""
    text = raw.strip()
    # An unencoded "+" in a query string arrives as a space: "...T10:00:00 01:00".
    text = _OFFSET_WITHOUT_PLUS.sub(r"\1+\2", text)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), tzinfo=dt.UTC)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ].+", text):
            raise ValueError(text)
        value = dt.datetime.fromisoformat(text)
        if value.tzinfo is None:
            raise InvalidInput(
                f"{name} must say its time zone, e.g. {text}Z or {text}+00:00",
                code="invalid_date",
            )
        return value.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise InvalidInput(
            f"{name} {raw!r} is not a real ISO 8601 date (YYYY-MM-DD) or date-time "
            "with a time zone",
            code="invalid_date",
        ) from None


@dataclass(frozen=True, slots=True)
class ChangeWindow:
    """[since, until) over observed_at; either end may be open."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None

    @classmethod
    def parse(cls, since: str | None, until: str | None) -> ChangeWindow:
        """The window from raw query values, or InvalidInput."""
        start = parse_instant(since, "since") if since else None
        end = parse_instant(until, "until") if until else None
        if start is not None and end is not None and end <= start:
            raise InvalidInput(
                f"until ({end.isoformat()}) must be after since ({start.isoformat()})",
                code="invalid_date_range",
            )
        return cls(start, end)


def encode_cursor(event: ChangeOut) -> str:
    """An opaque cursor pointing just after this event."""
    raw = f"{event.observed_at.isoformat()}|{event.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    """The (observed_at, id) a cursor points after, or InvalidInput."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        moment, event_id = base64.urlsafe_b64decode(padded).decode().split("|")
        when = dt.datetime.fromisoformat(moment)
        if when.tzinfo is None:
            raise ValueError(moment)
        return when.astimezone(dt.UTC), int(event_id)
    except (ValueError, UnicodeDecodeError, binascii.Error, OverflowError):
        raise InvalidInput(
            "cursor is not one this API returned; start again without it",
            code="invalid_cursor",
        ) from None


@dataclass(frozen=True, slots=True)
class ChangeFilter:
    """Which changes a feed or export holds: a window, and optionally kinds and one
    organisation."""

    window: ChangeWindow = ChangeWindow()
    kinds: frozenset[str] = frozenset()
    organisation_id: int | None = None


def changes_query(chosen: ChangeFilter, after: tuple[dt.datetime, int] | None = None) -> Select:
    """(event, organisation name) rows passing the filter (after the cursor), oldest first."""
    query = select(OrganisationEvent, Organisation.name).join(
        Organisation, Organisation.id == OrganisationEvent.organisation_id
    )
    window = chosen.window
    if window.since is not None:
        query = query.where(OrganisationEvent.observed_at >= window.since)
    if window.until is not None:
        query = query.where(OrganisationEvent.observed_at < window.until)
    if chosen.kinds:
        query = query.where(OrganisationEvent.kind.in_(sorted(chosen.kinds)))
    if chosen.organisation_id is not None:
        query = query.where(OrganisationEvent.organisation_id == chosen.organisation_id)
    if after is not None:
        moment, event_id = after
        query = query.where(
            or_(
                OrganisationEvent.observed_at > moment,
                and_(OrganisationEvent.observed_at == moment, OrganisationEvent.id > event_id),
            )
        )
    return query.order_by(OrganisationEvent.observed_at, OrganisationEvent.id)


def change_out(event: OrganisationEvent, name: str) -> ChangeOut:
    """One change as the feed shows it."""
    return ChangeOut(
        **event_out(event).model_dump(),
        organisation_id=event.organisation_id,
        organisation_name=name,
    )


def list_changes(
    session: Session, chosen: ChangeFilter, after: tuple[dt.datetime, int] | None, limit: int
) -> list[ChangeOut]:
    """Up to `limit` changes passing the filter (after the cursor), oldest first."""
    query = changes_query(chosen, after).limit(limit)
    return [change_out(event, name) for event, name in session.execute(query)]
