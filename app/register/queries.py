"""Read queries behind the register endpoints. Never commits: the request owns the session.

Search runs over the in-memory snapshot (one registry version, no database round trip);
detail, changes and sync runs read the database inside one consistent read transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.checks.normalise import compact_key, fold_text, normalise_name
from app.checks.schemas import ParentOut, RegisterStamp, organisation_fields
from app.checks.snapshot import OrganisationView, Snapshot
from app.checks.verdicts import Clock
from app.errors import InvalidInput
from app.models import Organisation, OrganisationEvent
from app.register import repository
from app.register.schemas import (
    EventOut,
    OrganisationDetail,
    OrganisationRef,
    TimelineSpan,
)
from app.register.timeline import build_timeline

MAX_QUERY_LENGTH = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Separates the searchable forms of one organisation's names; no needle can contain it.
_SEPARATOR = "|"


# --- search over the snapshot -------------------------------------------------------------


def _forms(text: str) -> Iterable[str]:
    normalised = normalise_name(text)
    return (normalised, compact_key(normalised), fold_text(text))


@dataclass(frozen=True, slots=True)
class SearchIndex:
    """Every organisation of one snapshot in name order, with its searchable text."""

    organisations: Mapping[int, OrganisationView]
    entries: tuple[tuple[OrganisationView, str], ...]

    @classmethod
    def build(cls, snapshot: Snapshot) -> SearchIndex:
        views = sorted(snapshot.organisations.values(), key=lambda v: (fold_text(v.name), v.id))
        entries = []
        for view in views:
            forms = {form for name in view.all_names for form in _forms(name) if form}
            entries.append((view, _SEPARATOR.join(sorted(forms))))
        return cls(snapshot.organisations, tuple(entries))


_index_cache: list[SearchIndex] = []


def search_index(snapshot: Snapshot) -> SearchIndex:
    """The search index of this snapshot's organisations, built once for them."""
    cached = _index_cache[0] if _index_cache else None
    # A snapshot refreshed only for new sync times shares its organisations: reuse the index.
    if cached is not None and cached.organisations is snapshot.organisations:
        return cached
    index = SearchIndex.build(snapshot)
    _index_cache[:] = [index]  # one entry: an old snapshot is never asked again
    return index


def validate_search(q: str | None) -> str | None:
    """The search text stripped (None for no search), or InvalidInput."""
    if q is None or not q.strip():
        return None
    if len(q) > MAX_QUERY_LENGTH:
        raise InvalidInput(f"q is longer than {MAX_QUERY_LENGTH} characters", code="invalid_query")
    if _CONTROL.search(q):
        raise InvalidInput("q contains control characters", code="invalid_query")
    return q.strip()


def search_organisations(
    snapshot: Snapshot, q: str | None, statuses: frozenset[str]
) -> list[OrganisationView]:
    """Organisations with one of `statuses` whose names contain `q`, case- and accent-blind."""
    entries = search_index(snapshot).entries
    chosen = [(view, text) for view, text in entries if view.status in statuses]
    if q is None:
        return [view for view, _ in chosen]
    needles = {form for form in _forms(q) if form}
    return [view for view, text in chosen if any(needle in text for needle in needles)]


# --- register stamp from the database ------------------------------------------------------


def consistent_read(session: Session) -> None:
    """Make the rest of this session's reads see one snapshot of the database.

    The registry state, organisations, events and runs then all belong to one moment, so an
    ETag computed from the first read always describes the body. A session some dependency
    has already used keeps its own transaction.
    """
    if session.in_transaction():
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    elif dialect == "sqlite":
        # pysqlite opens no transaction for reads: each SELECT would see the latest data.
        session.connection().exec_driver_sql("BEGIN")


def read_stamp(session: Session, clock: Clock) -> RegisterStamp:
    """Start a consistent read; the version and freshness of the registry state it sees."""
    consistent_read(session)
    state = repository.registry_state(session)
    last = state.last_synced_at
    return RegisterStamp(
        version=state.version,
        last_synced_at=last,
        source_url=state.source_url,
        stale=last is None or (clock.now - last).total_seconds() > clock.max_age_seconds,
    )


# --- organisation detail ------------------------------------------------------------------


def _ref(org: Organisation) -> OrganisationRef:
    return OrganisationRef(id=org.id, name=org.name, status=org.status)


def event_out(event: OrganisationEvent) -> EventOut:
    return EventOut(
        id=event.id,
        kind=event.kind,
        observed_at=event.observed_at,
        effective_on=event.effective_on,
        status_before=event.status_before,
        status_after=event.status_after,
        changes=event.changes,
        registry_version=event.registry_version,
    )


def organisation_detail(
    session: Session, organisation_id: int, stamp: RegisterStamp
) -> OrganisationDetail | None:
    """Every field, the parent, affiliates and history of one organisation; None if unknown."""
    org = session.get(Organisation, organisation_id)
    if org is None:
        return None
    parent = session.get(Organisation, org.parent_id) if org.parent_id else None
    affiliates = session.scalars(
        select(Organisation)
        .where(Organisation.parent_id == org.id)
        .order_by(Organisation.name, Organisation.id)
    )
    events = session.scalars(
        select(OrganisationEvent)
        .where(OrganisationEvent.organisation_id == org.id)
        .order_by(OrganisationEvent.observed_at, OrganisationEvent.id)
    ).all()
    names = [(entry["name"], entry["kind"]) for entry in org.names]
    return OrganisationDetail(
        **organisation_fields(org, names),
        parent=ParentOut(id=parent.id, name=parent.name, status=parent.status) if parent else None,
        extra=dict(org.extra),
        source_url=org.source_url,
        first_seen_at=org.first_seen_at,
        updated_at=org.updated_at,
        removed_at=org.removed_at,
        affiliates=[_ref(a) for a in affiliates],
        history=[event_out(e) for e in events],
        timeline=[
            TimelineSpan(
                since=span.since,
                until=span.until,
                effective_on=span.effective_on,
                event_kind=span.event_kind,
                status=span.status,
                **span.values,
            )
            for span in build_timeline(org, events)
        ],
        register_=stamp,
    )
