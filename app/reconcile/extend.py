"""Data extension: register fields of reconciled organisations, as 0.2 extension values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.checks.snapshot import OrganisationView, Snapshot
from app.models import OrganisationEvent
from app.reconcile.schemas import (
    DateValue,
    EntityRef,
    ExtendQuery,
    ExtendResponse,
    ExtendValue,
    PropertyMeta,
    StrValue,
    TypeOut,
)
from app.reconcile.vocabulary import EXTEND_BY_ID, TYPES_BY_ID

Values = Callable[[Snapshot, OrganisationView], list[ExtendValue]]


def parse_extend(raw: str) -> ExtendQuery:
    """The validated `extend` JSON; a RequestValidationError (422) names what is wrong."""
    try:
        query = ExtendQuery.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False)
        raise RequestValidationError(
            [{**error, "loc": ("extend", *error["loc"])} for error in errors]
        ) from None
    for i, prop in enumerate(query.properties):
        if prop.id not in EXTEND_BY_ID:
            known = ", ".join(EXTEND_BY_ID)
            raise RequestValidationError(
                [
                    {
                        "loc": ("extend", "properties", i, "id"),
                        "msg": f"unknown property {prop.id!r}; known: {known}",
                        "type": "unknown_property",
                    }
                ]
            )
    return query


def _date(value: dt.date | dt.datetime | None) -> list[ExtendValue]:
    """A date as the 0.2 `date` value (a full ISO date-time in UTC)."""
    if value is None:
        return []
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return [DateValue(date=value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))]


def _texts(*values: str | None) -> list[ExtendValue]:
    return [StrValue(text=value) for value in values if value]


def _parent(snapshot: Snapshot, org: OrganisationView) -> list[ExtendValue]:
    parent = snapshot.organisations.get(org.parent_id) if org.parent_id else None
    if parent is not None:
        return [EntityRef(id=str(parent.id), name=parent.name)]
    return _texts(org.parent_name)


_VALUES: dict[str, Values] = {
    "status": lambda _, org: _texts(org.status),
    "parent": _parent,
    "certificate_number": lambda _, org: _texts(org.certificate_number),
    "valid_until": lambda _, org: _date(org.valid_until),
    "website": lambda _, org: _texts(org.website),
    "regions": lambda _, org: _texts(*org.regions),
    "settings": lambda _, org: _texts(*org.settings),
}


def last_changes(engine: Engine, ids: Sequence[int]) -> dict[int, dt.datetime]:
    """When the mirror last recorded a change of each organisation (its latest event)."""
    if not ids:
        return {}
    query = (
        select(OrganisationEvent.organisation_id, func.max(OrganisationEvent.observed_at))
        .where(OrganisationEvent.organisation_id.in_(ids))
        .group_by(OrganisationEvent.organisation_id)
    )
    with Session(engine) as session:
        return {org_id: when for org_id, when in session.execute(query)}


def _organisation_id(raw: str) -> int | None:
    # Bounded before int(): a 5,000-digit id would be a ValueError (Python's digit limit).
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


def _known(snapshot: Snapshot, ids: Sequence[str]) -> dict[str, OrganisationView]:
    found = {}
    for raw in ids:
        org_id = _organisation_id(raw)
        org = snapshot.organisations.get(org_id) if org_id is not None else None
        if org is not None:
            found[raw] = org
    return found


def _values(
    snapshot: Snapshot, org: OrganisationView, pid: str, changed: dict[int, dt.datetime]
) -> list[ExtendValue]:
    if pid == "last_changed":
        return _date(changed.get(org.id))
    return _VALUES[pid](snapshot, org)


def extend(query: ExtendQuery, snapshot: Snapshot, engine: Engine) -> ExtendResponse:
    """The values of each asked property for each asked id (none for an unknown id)."""
    pids = list(dict.fromkeys(prop.id for prop in query.properties))
    known = _known(snapshot, query.ids)
    changed = (
        last_changes(engine, sorted({org.id for org in known.values()}))
        if "last_changed" in pids
        else {}
    )
    rows: dict[str, dict[str, list[ExtendValue]]] = {}
    for raw in query.ids:
        org = known.get(raw)
        rows[raw] = {pid: _values(snapshot, org, pid, changed) if org else [] for pid in pids}
    return ExtendResponse(meta=[_meta(pid) for pid in pids], rows=rows)


def _meta(pid: str) -> PropertyMeta:
    term = EXTEND_BY_ID[pid]
    certified = TYPES_BY_ID["certified"]
    kind = TypeOut(id=certified.id, name=certified.name) if pid == "parent" else None
    return PropertyMeta(id=term.id, name=term.name, type=kind)
