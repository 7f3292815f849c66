"""What analysts filter the mirror by: organisations (status, region, setting, parent, lapsing
certificates, name text) and changes (kind, organisation). Pure: no database, no HTTP."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.checks.match_results import MATCHED
from app.checks.normalise import fold_text
from app.checks.snapshot import LISTED, OrganisationView, Snapshot
from app.errors import InvalidInput
from app.register import queries

MAX_LABEL_LENGTH = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def validate_labels(values: Sequence[str] | None, name: str) -> frozenset[str]:
    """Region or setting labels folded for comparison (empty: no filter), or InvalidInput."""
    folded = set()
    for value in values or ():
        if not value.strip():
            raise InvalidInput(f"{name} is empty: leave it out to mean any", code="invalid_filter")
        if len(value) > MAX_LABEL_LENGTH:
            raise InvalidInput(
                f"{name} is longer than {MAX_LABEL_LENGTH} characters", code="invalid_filter"
            )
        if _CONTROL.search(value):
            raise InvalidInput(f"{name} contains control characters", code="invalid_filter")
        folded.add(fold_text(value.strip()))
    return frozenset(folded)


def _any_label(labels: Iterable[str], wanted: frozenset[str]) -> bool:
    return not wanted or any(fold_text(label) in wanted for label in labels)


@dataclass(frozen=True, slots=True)
class OrganisationFilter:
    """Which organisations a list, export or history counts; every part optional."""

    q: str | None = None
    statuses: frozenset[str] = LISTED
    regions: frozenset[str] = frozenset()
    settings: frozenset[str] = frozenset()
    parent_id: int | None = None
    valid_until_before: dt.date | None = None

    @classmethod
    def parse(
        cls,
        *,
        q: str | None = None,
        statuses: Iterable[str] | None = None,
        regions: Sequence[str] | None = None,
        settings: Sequence[str] | None = None,
        parent_id: int | None = None,
        valid_until_before: dt.date | None = None,
    ) -> OrganisationFilter:
        """The filter from query values, or InvalidInput naming the bad one."""
        return cls(
            q=queries.validate_search(q),
            statuses=frozenset(statuses) if statuses else LISTED,
            regions=validate_labels(regions, "region"),
            settings=validate_labels(settings, "setting"),
            parent_id=parent_id,
            valid_until_before=valid_until_before,
        )

    def keeps_labels(self, view: OrganisationView) -> bool:
        """True when the organisation serves one of the regions and settings asked for."""
        return _any_label(view.regions, self.regions) and _any_label(view.settings, self.settings)

    def keeps(self, view: OrganisationView) -> bool:
        """True when the organisation passes every part but the name text."""
        before = self.valid_until_before
        return (
            view.status in self.statuses
            and (self.parent_id is None or view.parent_id == self.parent_id)
            and (before is None or (view.valid_until is not None and view.valid_until < before))
            and self.keeps_labels(view)
        )


def matched_by_name(snapshot: Snapshot, q: str) -> int | None:
    """The organisation the matcher auto-matches `q` to (names as forms write them), if any."""
    result = snapshot.ever_listed.match(q)
    return result.organisation_id if result.outcome == MATCHED else None


def filter_organisations(snapshot: Snapshot, chosen: OrganisationFilter) -> list[OrganisationView]:
    """Organisations passing the filter, in name order.

    Name text finds every organisation with the text in any known name (case, accents,
    punctuation and legal forms ignored), and also the one the matcher of /v1/check
    auto-matches it to, so a name written as a form writes it ("Acme (Kent) Ltd") is found.
    """
    found = queries.search_organisations(snapshot, chosen.q, chosen.statuses)
    if chosen.q is not None:
        extra = matched_by_name(snapshot, chosen.q)
        ids = {view.id for view in found}
        if extra is not None and extra not in ids:
            ids.add(extra)
            every = queries.search_organisations(snapshot, None, chosen.statuses)
            found = [view for view in every if view.id in ids]
    return [view for view in found if chosen.keeps(view)]
