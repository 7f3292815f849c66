"""The immutable, in-memory view of one registry version that every lookup reads."""

from __future__ import annotations

import datetime as dt
import threading
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection, Engine, Row, select
from sqlalchemy.orm import Session

from app.checks.identifier_index import IDENTIFIER_FIELDS, IdentifierChange, IdentifierIndex
from app.checks.matching import IndexEntry, IndexName, MatchIndex
from app.checks.normalise import normalise_name
from app.gc_pause import collector_paused
from app.models import Organisation, OrganisationEvent, OrganisationStatus, RegistryState, utcnow

MAX_MEMO_ENTRIES = 50_000
_MISSING = object()
# Statuses that mean "on the register".
LISTED = frozenset(s.value for s in OrganisationStatus) - {OrganisationStatus.REMOVED.value}


@dataclass(frozen=True, slots=True)
class OrganisationView:
    """One organisation as lookups see it, with its status history for `as_of`."""

    id: int
    name: str
    listed_name: str
    status: str
    names: tuple[tuple[str, str], ...]
    certificate_number: str | None
    certified_on: dt.date | None
    valid_until: dt.date | None
    settings: tuple[str, ...]
    regions: tuple[str, ...]
    website: str | None
    parent_id: int | None
    parent_name: str | None
    approved_on: dt.date | None
    note: str | None
    first_seen_at: dt.datetime
    removed_at: dt.datetime | None
    transitions: tuple[dt.datetime, ...] = ()
    """When each status in `statuses` began; sorted."""
    statuses: tuple[str, ...] = ()

    @property
    def all_names(self) -> set[str]:
        """Every name it is or was listed under: its name, the listed text, aliases."""
        return {self.name, self.listed_name, *(text for text, _ in self.names)}

    def status_at(self, moment: dt.datetime) -> str | None:
        """The status that held at `moment`; None before the mirror first saw it."""
        position = bisect_right(self.transitions, moment)
        return self.statuses[position - 1] if position else None


@dataclass(frozen=True, slots=True)
class RegisterInfo:
    """Registry version and sync times, as of the snapshot."""

    version: int
    source_url: str | None
    first_synced_at: dt.datetime | None
    last_synced_at: dt.datetime | None
    last_attempted_at: dt.datetime | None
    last_changed_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a lookup needs for one registry version; never mutated after build."""

    info: RegisterInfo
    organisations: Mapping[int, OrganisationView]
    listed: MatchIndex
    """Organisations on the register now."""
    ever_listed: MatchIndex
    """Every organisation the mirror has seen, for `as_of` questions."""
    counts: Mapping[str, int]
    identifiers: IdentifierIndex = field(default_factory=IdentifierIndex)
    """Certificate numbers and websites of every organisation the mirror has seen."""
    departed: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    """Normalised names of organisations no longer on the register: their ids (see
    `departed_names`)."""
    built_at: dt.datetime = field(default_factory=utcnow)
    rendered: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)
    """Answers already computed from this snapshot; keys must include everything they
    depend on besides the snapshot's organisations (sync times, staleness, the date)."""

    def memo(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """A cached answer, computed once per key; the cache is bounded and per snapshot."""
        try:
            return self.rendered[key]
        except KeyError:
            pass
        value = compute()
        self._store(key, value)
        return value

    def memo_many(
        self, keys: Sequence[Hashable], compute: Callable[[list[Hashable]], Sequence[Any]]
    ) -> list[Any]:
        """`memo` for many keys: the ones not cached yet are computed together, each once."""
        rendered = self.rendered  # another thread may clear it meanwhile: read each once
        found = {
            key: value for key in keys if (value := rendered.get(key, _MISSING)) is not _MISSING
        }
        missing = [key for key in dict.fromkeys(keys) if key not in found]
        if missing:
            for key, value in zip(missing, compute(missing), strict=True):
                found[key] = value
                self._store(key, value)
        return [found[key] for key in keys]

    def _store(self, key: Hashable, value: Any) -> None:
        if len(self.rendered) >= MAX_MEMO_ENTRIES:
            self.rendered.clear()  # crude but bounded; a new snapshot starts empty anyway
        self.rendered[key] = value

    def age_seconds(self, now: dt.datetime | None = None) -> float | None:
        """Seconds since the last successful sync; None if there never was one."""
        if self.info.last_synced_at is None:
            return None
        return ((now or utcnow()) - self.info.last_synced_at).total_seconds()


def _transition_time(event: Row[Any], first_synced: dt.datetime | None) -> dt.datetime:
    # The register's own date wins when it falls inside our observation window: it is
    # when the change really happened, and we only saw it at the next sync.
    if event.effective_on and first_synced:
        effective = dt.datetime.combine(event.effective_on, dt.time(), tzinfo=dt.UTC)
        if first_synced <= effective < event.observed_at:
            return effective
    return event.observed_at


def _history(
    session: Session, first_synced: dt.datetime | None
) -> tuple[dict[int, list[tuple[dt.datetime, str]]], list[IdentifierChange]]:
    """Each organisation's status timeline, and every change of an identifier field."""
    # Columns, not ORM objects, here and in load_snapshot: the snapshot copies every value
    # out anyway, and building (and identity-mapping) an object per row was most of the load.
    query = (
        select(
            OrganisationEvent.organisation_id,
            OrganisationEvent.observed_at,
            OrganisationEvent.effective_on,
            OrganisationEvent.status_before,
            OrganisationEvent.status_after,
            OrganisationEvent.changes,
        )
        .where(OrganisationEvent.status_after.is_not(None))
        .order_by(OrganisationEvent.observed_at, OrganisationEvent.id)
    )
    timelines: dict[int, list[tuple[dt.datetime, str]]] = {}
    identifier_changes: list[IdentifierChange] = []
    for event in session.execute(query):
        for name in IDENTIFIER_FIELDS:
            if name in event.changes:
                before, after = event.changes[name]
                identifier_changes.append(
                    IdentifierChange(event.organisation_id, event.observed_at, name, before, after)
                )
        if event.status_after is None or event.status_before == event.status_after:
            continue
        moment = _transition_time(event, first_synced)
        timelines.setdefault(event.organisation_id, []).append((moment, event.status_after))
    return timelines, identifier_changes


# The columns a view is made of: its fields, but for the status history (see _history).
_VIEW_COLUMNS = tuple(
    getattr(Organisation, f.name)
    for f in fields(OrganisationView)
    if f.name not in ("transitions", "statuses")
)


def _view(org: Row[Any], timeline: list[tuple[dt.datetime, str]]) -> OrganisationView:
    timeline.sort(key=lambda item: item[0])
    return OrganisationView(
        id=org.id,
        name=org.name,
        listed_name=org.listed_name,
        status=org.status,
        names=tuple((entry["name"], entry["kind"]) for entry in org.names),
        certificate_number=org.certificate_number,
        certified_on=org.certified_on,
        valid_until=org.valid_until,
        settings=tuple(org.settings),
        regions=tuple(org.regions),
        website=org.website,
        parent_id=org.parent_id,
        parent_name=org.parent_name,
        approved_on=org.approved_on,
        note=org.note,
        first_seen_at=org.first_seen_at,
        removed_at=org.removed_at,
        transitions=tuple(t for t, _ in timeline),
        statuses=tuple(s for _, s in timeline),
    )


def _entry(view: OrganisationView) -> IndexEntry:
    names = tuple(IndexName(text, kind) for text, kind in view.names)
    return IndexEntry(view.id, view.name, view.status, names)


def load_snapshot(session: Session) -> Snapshot:
    """Read one consistent registry version from the database and index it."""
    with collector_paused():
        return _load_snapshot(session)


def _load_snapshot(session: Session) -> Snapshot:
    info = _info(session.execute(select(RegistryState)).scalar_one())
    timelines, identifier_changes = _history(session, info.first_synced_at)
    views = {
        org.id: _view(org, timelines.get(org.id, []))
        for org in session.execute(select(*_VIEW_COLUMNS).order_by(Organisation.id))
    }
    listed = [v for v in views.values() if v.status in LISTED]
    listed_index = MatchIndex.build(map(_entry, listed))
    # Until something is removed, everyone ever listed is everyone listed: build once.
    if len(listed) == len(views):
        ever_index = listed_index
    else:
        ever_index = MatchIndex.build(map(_entry, views.values()))
    return Snapshot(
        info=info,
        organisations=MappingProxyType(views),
        listed=listed_index,
        ever_listed=ever_index,
        counts=MappingProxyType(dict(Counter(v.status for v in views.values()))),
        identifiers=identifier_index(views.values(), identifier_changes),
        departed=departed_names(views.values()),
    )


def departed_names(views: Iterable[OrganisationView]) -> Mapping[str, tuple[int, ...]]:
    """Every name, normalised, of the organisations no longer on the register, with their
    ids: a current question that may name one of them is not answered by a listed
    organisation whose name only normalises the same (app/checks/verdicts.py)."""
    found: dict[str, set[int]] = {}
    for view in views:
        if view.status not in LISTED:
            for text in view.all_names:
                if key := normalise_name(text):
                    found.setdefault(key, set()).add(view.id)
    return MappingProxyType({key: tuple(sorted(ids)) for key, ids in found.items()})


def identifier_index(
    views: Iterable[OrganisationView], changes: Iterable[IdentifierChange] = ()
) -> IdentifierIndex:
    """The identifier index of these organisations, with their identifiers' history."""
    current = ((v.id, v.certificate_number, v.website) for v in views)
    return IdentifierIndex.build(current, changes)


def _info(state: RegistryState) -> RegisterInfo:
    return RegisterInfo(
        state.version,
        state.source_url,
        state.first_synced_at,
        state.last_synced_at,
        state.last_attempted_at,
        state.last_changed_at,
    )


def read_info(bind: Engine | Connection) -> RegisterInfo:
    """Registry version and sync times: the cheap check every process polls."""
    with Session(bind) as session:
        return _info(session.execute(select(RegistryState)).scalar_one())


class SnapshotHolder:
    """Holds the current snapshot; a rebuild replaces it in one reference assignment."""

    def __init__(self, engine: Engine, on_swap: Callable[[], None] | None = None) -> None:
        """`on_swap` runs after each rebuilt snapshot is installed (not for new sync times)."""
        self._engine = engine
        self._lock = threading.Lock()
        self._on_swap = on_swap
        self.snapshot: Snapshot | None = None

    def needs_rebuild(self, info: RegisterInfo) -> bool:
        """True when `info` names a registry version other than the one loaded."""
        current = self.snapshot
        return current is None or current.info.version != info.version

    def update_info(self, info: RegisterInfo) -> None:
        """Take new sync times for the loaded version. Never waits: while a rebuild holds
        the lock (in another thread) it does nothing, and the rebuild brings them anyway."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._replace_info(info)
        finally:
            self._lock.release()

    def _replace_info(self, info: RegisterInfo) -> None:
        current = self.snapshot
        if current is not None and current.info.version == info.version and current.info != info:
            self.snapshot = replace(current, info=info)

    def refresh(self, *, force: bool = False, info: RegisterInfo | None = None) -> bool:
        """Rebuild on a new registry version (or just new sync times); True if rebuilt.

        `info` is the registry state the caller has just read (the poller reads it on the
        event loop), so that it is not read a second time.
        """
        with self._lock:
            if not force and self.snapshot is not None:
                info = info or read_info(self._engine)
                if not self.needs_rebuild(info):
                    self._replace_info(info)
                    return False
            self.snapshot = self._build()
            if self._on_swap is not None:
                self._on_swap()
            return True

    def _build(self) -> Snapshot:
        # REPEATABLE READ on Postgres (a SQLite transaction is a snapshot anyway), so the
        # organisations, events and version read here all belong to one registry version.
        with Session(self._engine) as session:
            if self._engine.dialect.name == "postgresql":
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            return load_snapshot(session)
