"""Reading and writing the mirror. Never commits: the caller owns the transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from app.checks.normalise import as_written, normalise_name
from app.models import (
    EventKind,
    Organisation,
    OrganisationEvent,
    OrganisationStatus,
    RegistryState,
    SyncArtifact,
    SyncOutcome,
    SyncRun,
    utcnow,
)
from app.register.diff import DETAIL_FIELDS, NAME_FIELDS, Change, Diff, MirrorOrganisation
from scrapers.rows import FetchedPage

_MIRROR_COLUMNS = [getattr(Organisation, f) for f in ("id", "status", *NAME_FIELDS, *DETAIL_FIELDS)]


def load_mirror(session: Session) -> list[MirrorOrganisation]:
    """Every organisation ever mirrored, removed ones included (their ids may be reused)."""
    rows = session.execute(select(*_MIRROR_COLUMNS)).mappings()
    return [
        MirrorOrganisation(id=row["id"], status=row["status"], values=dict(row)) for row in rows
    ]


def registry_state(session: Session) -> RegistryState:
    """The single registry-state row (created by the first migration)."""
    return session.execute(select(RegistryState).where(RegistryState.id == 1)).scalar_one()


def _allocate_ids(session: Session, count: int) -> list[int]:
    """Ids for new organisations, taken before inserting them.

    Inserting with RETURNING in parameter order made psycopg parse one giant multi-row
    statement in Python (two thirds of a 3,000-row apply); with ids known up front the rows
    go out as a plain executemany.
    """
    if session.get_bind().dialect.name == "postgresql":
        sequence = text(
            "SELECT nextval(pg_get_serial_sequence('organisations', 'id')) "
            "FROM generate_series(1, :count)"
        )
        return sorted(session.scalars(sequence, {"count": count}))
    # SQLite: the apply transaction holds the write lock (BEGIN IMMEDIATE), so nobody else
    # can take these ids between this read and the insert.
    highest = session.scalar(select(func.coalesce(func.max(Organisation.id), 0))) or 0
    return list(range(highest + 1, highest + 1 + count))


def _insert_new(session: Session, changes: list[Change], now: dt.datetime) -> list[int]:
    if not changes:
        return []
    ids = _allocate_ids(session, len(changes))
    rows = [
        {
            **c.values,
            "id": new_id,
            "status": c.status_after,
            "first_seen_at": now,
            "updated_at": now,
        }
        for c, new_id in zip(changes, ids, strict=True)
    ]
    # render_nulls: every row then has the same columns, so the rows go out in one batch
    # (by default a None is left out, and each pattern of missing columns is its own batch).
    session.execute(insert(Organisation).execution_options(render_nulls=True), rows)
    return ids


def _update_existing(session: Session, changes: list[Change], now: dt.datetime) -> None:
    rows: list[dict[str, Any]] = []
    for change in changes:
        if change.kind is EventKind.REMOVED:
            rows.append(
                {
                    "id": change.organisation_id,
                    "status": OrganisationStatus.REMOVED.value,
                    "removed_at": now,
                    "updated_at": now,
                    "parent_id": None,
                }
            )
        else:
            rows.append(
                {
                    **change.values,
                    "id": change.organisation_id,
                    "status": change.status_after,
                    "removed_at": None,
                    "updated_at": now,
                }
            )
    if rows:
        session.execute(update(Organisation), rows)


def _event_row(
    change: Change, org_id: int, version: int, run_id: int | None, now: dt.datetime
) -> dict[str, Any]:
    return {
        "organisation_id": org_id,
        "kind": change.kind.value,
        "observed_at": now,
        "effective_on": change.effective_on,
        "registry_version": version,
        "sync_run_id": run_id,
        "status_before": change.status_before,
        "status_after": change.status_after,
        "changes": _jsonable(change.changes),
    }


def _jsonable(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    def plain(value: Any) -> Any:
        return value.isoformat() if isinstance(value, dt.date) else value

    return {name: [plain(v) for v in pair] for name, pair in changes.items()}


# How an affiliate's parent text is looked up, in turn: as written against organisations'
# current names, as written against former names (the affiliates page may lag a rename), then
# normalised (punctuation, `&`, legal suffixes). Every organisation counts, whatever its
# status: the first step that finds any decides, so a text naming a removed or suspended
# provider is that provider (not certified), never a certified lookalike that only shares
# its normalised form.
_PARENT_STEPS: tuple[tuple[frozenset[str], Callable[[str], str]], ...] = (
    (frozenset({"name", "listed", "trading"}), as_written),
    (frozenset({"former"}), as_written),
    (frozenset({"name", "listed", "trading", "former"}), normalise_name),
)
_REMOVED = OrganisationStatus.REMOVED.value


@dataclass(frozen=True, slots=True)
class Linking:
    """What `link_affiliates` did: how many affiliates it re-pointed, and its warnings."""

    relinked: int
    warnings: list[str]


def link_affiliates(session: Session) -> Linking:
    """Point every affiliate at the certified organisation its listing names as parent.

    The parent text is looked up step by step (`_PARENT_STEPS`) among all organisations. The
    first step that finds any decides: the one organisation on the register it finds is the
    parent if certified, and no affiliate has a non-certified parent (its answers say the
    parent is not certified). Several organisations on the register there leave the affiliate
    unlinked, with a warning, rather than linked by the order rows happen to be read in;
    a name only removed organisations have leaves it unlinked too (the parent has left).
    """
    rows = session.execute(
        select(
            Organisation.id,
            Organisation.name,
            Organisation.status,
            Organisation.names,
            Organisation.parent_name,
            Organisation.parent_id,
        ).order_by(Organisation.id)
    ).all()
    lookups: list[dict[str, set[int]]] = []
    for kinds, key in _PARENT_STEPS:
        found: dict[str, set[int]] = {}
        for row in rows:
            for entry in row.names:
                if entry.get("kind", "name") in kinds and (text := key(entry["name"])):
                    found.setdefault(text, set()).add(row.id)
        lookups.append(found)
    orgs = {row.id: row for row in rows}
    updates, warnings = [], []
    for row in rows:
        if row.status == _REMOVED:
            continue  # a removed affiliate keeps the parent it had
        wanted = None
        if row.status == OrganisationStatus.AFFILIATE.value and row.parent_name:
            for (_, key), found in zip(_PARENT_STEPS, lookups, strict=True):
                ids = found.get(key(row.parent_name))
                if not ids:
                    continue
                listed = {i for i in ids if orgs[i].status != _REMOVED}
                if len(listed) > 1:
                    candidates = ", ".join(sorted(orgs[i].name for i in listed))
                    warnings.append(
                        f"affiliate {row.name!r} names its parent as {row.parent_name!r}, "
                        f"which fits several organisations on the register ({candidates}): "
                        "left without a parent"
                    )
                elif listed:
                    (parent,) = listed
                    certified = orgs[parent].status == OrganisationStatus.CERTIFIED.value
                    wanted = parent if certified else None
                # else only removed organisations have the name: the parent has left
                break
        if wanted != row.parent_id:
            updates.append({"id": row.id, "parent_id": wanted})
    if updates:
        session.execute(update(Organisation), updates)
    return Linking(len(updates), warnings)


def apply_diff(
    session: Session, diff: Diff, *, version: int, run_id: int | None, now: dt.datetime
) -> None:
    """Write every change and its event (affiliates are linked afterwards:
    `link_affiliates`)."""
    new = [c for c in diff.changes if c.organisation_id is None]
    existing = [c for c in diff.changes if c.organisation_id is not None]
    new_ids = _insert_new(session, new, now)
    _update_existing(session, existing, now)
    events = [_event_row(c, i, version, run_id, now) for c, i in zip(new, new_ids, strict=True)]
    events += [
        _event_row(c, c.organisation_id, version, run_id, now)
        for c in existing
        if c.organisation_id is not None
    ]
    if events:
        session.execute(insert(OrganisationEvent).execution_options(render_nulls=True), events)


def start_run(
    engine: Engine, *, trigger: str, source_url: str, forced: bool, attempt: int = 1
) -> int:
    """Record a run as started, in its own transaction so it is visible while it runs."""
    with Session(engine) as session, session.begin():
        run = SyncRun(
            trigger=trigger,
            source_url=source_url,
            forced=forced,
            attempt=attempt,
            started_at=utcnow(),
            outcome=SyncOutcome.RUNNING.value,
        )
        session.add(run)
        session.flush()
        return run.id


def finish_run(session: Session, run_id: int, **fields: Any) -> SyncRun:
    """Close a run record with its outcome and counts."""
    run = session.get_one(SyncRun, run_id)
    run.finished_at = utcnow()
    run.duration_ms = int((run.finished_at - run.started_at).total_seconds() * 1000)
    for name, value in fields.items():
        setattr(run, name, value)
    return run


def plan_retry(engine: Engine, run_id: int, retry_at: dt.datetime) -> None:
    """Note on a finished run when the scheduler will try again."""
    with Session(engine) as session, session.begin():
        session.execute(update(SyncRun).where(SyncRun.id == run_id).values(retry_at=retry_at))


def mark_interrupted_runs(session: Session, current_run_id: int) -> None:
    """Runs still 'running' while we hold the lock died mid-way (the process was killed)."""
    session.execute(
        update(SyncRun)
        .where(SyncRun.outcome == SyncOutcome.RUNNING.value, SyncRun.id != current_run_id)
        .values(
            outcome=SyncOutcome.FAILED.value,
            finished_at=utcnow(),
            reason="interrupted: the process ended before the run finished",
        )
    )


def keep_artifacts(
    session: Session, run_id: int, pages: Sequence[FetchedPage], runs_kept: int
) -> None:
    """Store a failed or rejected run's raw pages, keeping only the newest `runs_kept` runs'."""
    if pages:
        session.execute(
            insert(SyncArtifact),
            [
                {
                    "sync_run_id": run_id,
                    "url": p.url,
                    "status_code": p.status_code,
                    "content_type": p.content_type,
                    "error": p.error,
                    "content": p.content,
                }
                for p in pages
            ],
        )
    newest = (
        select(SyncArtifact.sync_run_id)
        .distinct()
        .order_by(SyncArtifact.sync_run_id.desc())
        .limit(runs_kept)
    )
    session.execute(delete(SyncArtifact).where(SyncArtifact.sync_run_id.not_in(newest)))
