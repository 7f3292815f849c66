"""Pure diff between the mirror and a fresh scrape: who was added, changed, renamed, removed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.checks.normalise import normalise_name
from app.models import EventKind, OrganisationStatus
from scrapers.rows import ListingRow, ListingStatus

# Fields copied from a row onto the organisation; a change in any of them is an event.
DETAIL_FIELDS = (
    "certificate_number",
    "certified_on",
    "valid_until",
    "settings",
    "regions",
    "website",
    "parent_name",
    "approved_on",
    "note",
    "extra",
    "names",
    "source_url",
)
NAME_FIELDS = ("name", "listed_name")
# Noise that must not count as a change on its own.
QUIET_FIELDS = frozenset({"source_url"})


@dataclass(frozen=True, slots=True)
class MirrorOrganisation:
    """The parts of a mirrored organisation the diff needs."""

    id: int
    status: str
    values: dict[str, Any]
    """Field values keyed like DETAIL_FIELDS and NAME_FIELDS."""

    @property
    def active(self) -> bool:
        return self.status != OrganisationStatus.REMOVED

    def known_keys(self) -> set[str]:
        """Normalised forms of every name this organisation has been listed under."""
        names = [self.values["name"], self.values["listed_name"]]
        names += [entry["name"] for entry in self.values.get("names") or ()]
        return {key for key in map(normalise_name, names) if key}


@dataclass(frozen=True, slots=True)
class Change:
    """One event the apply step will record (and, except for removals, write)."""

    kind: EventKind
    organisation_id: int | None
    """None for an organisation that is new to the mirror."""
    name: str
    status_before: str | None
    status_after: str | None
    values: dict[str, Any]
    """The organisation's new field values (empty for a removal)."""
    changes: dict[str, list[Any]] = field(default_factory=dict)
    effective_on: dt.date | None = None


@dataclass(slots=True)
class Diff:
    """Everything a scrape would change, plus the rows that need no change."""

    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0

    def count(self, *kinds: EventKind) -> int:
        """How many changes are of the given kinds."""
        return sum(1 for change in self.changes if change.kind in kinds)

    @property
    def added(self) -> int:
        return self.count(EventKind.ADDED)

    @property
    def removed(self) -> int:
        return self.count(EventKind.REMOVED)

    @property
    def changed(self) -> int:
        return self.count(EventKind.STATUS_CHANGED, EventKind.RENAMED, EventKind.DETAILS_CHANGED)


def row_values(row: ListingRow) -> dict[str, Any]:
    """The organisation fields a listing row sets, in the mirror's JSON-friendly shape."""
    names = [{"name": row.name, "kind": "name"}]
    if row.listed_name != row.name:
        names.append({"name": row.listed_name, "kind": "listed"})
    names += [{"name": n, "kind": "trading"} for n in row.trading_names]
    names += [{"name": n, "kind": "former"} for n in row.former_names]
    return {
        "name": row.name,
        "listed_name": row.listed_name,
        "names": names,
        "certificate_number": row.certificate_number,
        "certified_on": row.certified_on,
        "valid_until": row.valid_until,
        "settings": list(row.settings),
        "regions": list(row.regions),
        "website": row.website,
        "parent_name": row.parent_name,
        "approved_on": row.approved_on,
        "note": row.note,
        "extra": dict(row.extra),
        "source_url": row.source_url,
    }


def effective_date(status: str, values: dict[str, Any]) -> dt.date | None:
    """The register's own date for an organisation reaching this status, if it states one."""
    if status == ListingStatus.CERTIFIED:
        return values.get("certified_on")
    if status == ListingStatus.AFFILIATE:
        return values.get("approved_on")
    return None


class _Identity:
    """Finds the mirrored organisation a row continues, each organisation at most once."""

    def __init__(self, mirror: Iterable[MirrorOrganisation]) -> None:
        self._taken: set[int] = set()
        self._by_certificate: dict[str, list[MirrorOrganisation]] = {}
        self._by_key: dict[str, list[MirrorOrganisation]] = {}
        # Active organisations first, so a re-listed removed one is the last resort.
        for org in sorted(mirror, key=lambda o: (not o.active, o.id)):
            certificate = (org.values.get("certificate_number") or "").strip().upper()
            if certificate:
                self._by_certificate.setdefault(certificate, []).append(org)
            for key in org.known_keys():
                self._by_key.setdefault(key, []).append(org)

    def claim(self, row: ListingRow) -> MirrorOrganisation | None:
        """The organisation this row continues, by certificate number, then any known name."""
        certificate = (row.certificate_number or "").strip().upper()
        candidates = list(self._by_certificate.get(certificate, [])) if certificate else []
        by_certificate = {org.id for org in candidates}
        for name in (row.name, row.listed_name, *row.former_names, *row.trading_names):
            candidates += self._by_key.get(normalise_name(name), [])
        written = {row.name, row.listed_name}

        def rank(org: MirrorOrganisation) -> tuple[bool, bool, bool, bool]:
            # Active, then on the same list, then the same certificate, then the same name as
            # written ("+X" and "X Ltd" share a key; a reorder must not swap them); then the
            # lowest id.
            same_name = (
                org.values.get("name") in written or org.values.get("listed_name") in written
            )
            return (
                not org.active,
                org.status != row.status,
                org.id not in by_certificate,
                not same_name,
            )

        ranked = sorted(candidates, key=rank)
        for org in ranked:
            if org.id not in self._taken:
                self._taken.add(org.id)
                return org
        return None

    def unclaimed(self, mirror: Iterable[MirrorOrganisation]) -> list[MirrorOrganisation]:
        """Active organisations no row continued: they have left the register."""
        return [org for org in mirror if org.active and org.id not in self._taken]


def _compare(org: MirrorOrganisation, values: dict[str, Any]) -> dict[str, list[Any]]:
    fields = (*NAME_FIELDS, *DETAIL_FIELDS)
    return {f: [org.values.get(f), values[f]] for f in fields if org.values.get(f) != values[f]}


def _change_for(org: MirrorOrganisation, row: ListingRow) -> Change | None:
    values = row_values(row)
    changes = _compare(org, values)
    status = str(row.status)
    if org.status == status and not set(changes) - QUIET_FIELDS:
        return None
    if org.status != status:
        kind = EventKind.STATUS_CHANGED if org.active else EventKind.ADDED
    elif set(changes) & set(NAME_FIELDS):
        kind = EventKind.RENAMED
    else:
        kind = EventKind.DETAILS_CHANGED
    effective = effective_date(status, values) if org.status != status else None
    return Change(kind, org.id, row.name, org.status, status, values, changes, effective)


def diff_listing(mirror: Sequence[MirrorOrganisation], rows: Iterable[ListingRow]) -> Diff:
    """Compare the mirror with a complete scrape; one change at most per organisation."""
    identity = _Identity(mirror)
    diff = Diff()
    for row in rows:
        org = identity.claim(row)
        if org is None:
            values = row_values(row)
            effective = effective_date(str(row.status), values)
            diff.changes.append(
                Change(
                    EventKind.ADDED, None, row.name, None, str(row.status), values, {}, effective
                )
            )
            continue
        change = _change_for(org, row)
        if change is None:
            diff.unchanged += 1
        else:
            diff.changes.append(change)
    for org in identity.unclaimed(mirror):
        diff.changes.append(
            Change(EventKind.REMOVED, org.id, org.values["name"], org.status, "removed", {})
        )
    return diff
