"""Who holds each certificate number and website, now and on past dates, for one snapshot.

A holding is one organisation listing one identifier over a stretch of time. The stretches
come from the mirror's history: each change of `certificate_number` or `website` is an
event with the time the mirror observed it (the register states no date for these), so a
past date is answered with the identifiers as the mirror saw them at the end of that day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from app.checks.identifiers import (
    registered_certificate_key,
    registered_website_key,
    website_lookup_keys,
)

CERTIFICATE_NUMBER, WEBSITE = "certificate_number", "website"
IDENTIFIER_FIELDS = (CERTIFICATE_NUMBER, WEBSITE)
_KEYS: dict[str, Callable[[str], str | None]] = {
    CERTIFICATE_NUMBER: registered_certificate_key,
    WEBSITE: registered_website_key,
}


@dataclass(frozen=True, slots=True)
class Holding:
    """One organisation listing one identifier, from `since` until `until` (None: open)."""

    organisation_id: int
    listed_as: str  # as the register writes it
    since: dt.datetime | None
    until: dt.datetime | None

    def held_at(self, moment: dt.datetime | None) -> bool:
        """True when the organisation listed it at `moment` (None: now)."""
        if moment is None:
            return self.until is None
        return (self.since is None or self.since <= moment) and (
            self.until is None or moment < self.until
        )


@dataclass(frozen=True, slots=True)
class IdentifierChange:
    """One observed change of an identifier field: its value before and after."""

    organisation_id: int
    observed_at: dt.datetime
    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class IdentifierIndex:
    """Holdings by comparable identifier, for certificate numbers and websites."""

    holdings: Mapping[str, Mapping[str, tuple[Holding, ...]]] = field(
        default_factory=lambda: MappingProxyType({f: MappingProxyType({}) for f in _KEYS})
    )

    @classmethod
    def build(
        cls,
        current: Iterable[tuple[int, str | None, str | None]],
        changes: Iterable[IdentifierChange] = (),
    ) -> IdentifierIndex:
        """From each organisation's (id, certificate number, website) as listed now and the
        history's changes of those fields."""
        by_org: dict[tuple[int, str], list[IdentifierChange]] = defaultdict(list)
        for change in changes:
            by_org[(change.organisation_id, change.field)].append(change)
        found: dict[str, dict[str, list[Holding]]] = {f: defaultdict(list) for f in _KEYS}
        for organisation_id, certificate, website in current:
            for name, value in ((CERTIFICATE_NUMBER, certificate), (WEBSITE, website)):
                history = sorted(by_org.get((organisation_id, name), ()), key=_when)
                for listed, since, until in _stretches(value, history):
                    key = _KEYS[name](listed)
                    if key:
                        found[name][key].append(Holding(organisation_id, listed, since, until))
        return cls(
            MappingProxyType(
                {
                    name: MappingProxyType({k: tuple(v) for k, v in keys.items()})
                    for name, keys in found.items()
                }
            )
        )

    def certificate_holdings(self, number: str, moment: dt.datetime | None) -> list[Holding]:
        """Who listed this (normalised) certificate number at `moment` (None: now)."""
        held = self.holdings[CERTIFICATE_NUMBER].get(number, ())
        return [h for h in held if h.held_at(moment)]

    def website_holdings(self, website: str, moment: dt.datetime | None) -> list[Holding]:
        """Who listed this (normalised) website at `moment`: the most specific registered
        host it is or is a subdomain of (or, on a platform, path it begins with)."""
        sites = self.holdings[WEBSITE]
        for key in website_lookup_keys(website):
            held = [h for h in sites.get(key, ()) if h.held_at(moment)]
            if held:
                return held
        return []


def _when(change: IdentifierChange) -> dt.datetime:
    return change.observed_at


def _stretches(
    current: str | None, history: Sequence[IdentifierChange]
) -> list[tuple[str, dt.datetime | None, dt.datetime | None]]:
    """(value, since, until) for each value the field held, oldest first; empty values
    are left out. Before the first change it held that change's `before`."""
    stretches: list[tuple[str | None, dt.datetime | None, dt.datetime | None]] = []
    since: dt.datetime | None = None
    for change in history:
        stretches.append((change.before, since, change.observed_at))
        since = change.observed_at
    stretches.append((current, since, None))
    return [(value, start, end) for value, start, end in stretches if value]
