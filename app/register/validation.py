"""Checks that decide whether a scrape looks trustworthy enough to apply."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from app.register.diff import Diff, MirrorOrganisation
from scrapers.rows import ListingStatus, ScrapeResult

MAX_PROBLEMS_SHOWN = 5


def _category_emptied(mirror: Sequence[MirrorOrganisation], scrape: ScrapeResult) -> list[str]:
    had = Counter(org.status for org in mirror if org.active)
    found = Counter(str(row.status) for row in scrape.rows)
    return [
        f"the {status.value.replace('_', ' ')} list came back empty "
        f"(the mirror has {had[status.value]})"
        for status in ListingStatus
        if had[status.value] and not found[status.value]
    ]


def _too_many_removed(
    mirror: Sequence[MirrorOrganisation], diff: Diff, max_removed_share: float
) -> list[str]:
    active = sum(1 for org in mirror if org.active)
    if not active or diff.removed / active <= max_removed_share:
        return []
    return [
        f"{diff.removed} of {active} organisations ({diff.removed / active:.0%}) would be removed, "
        f"more than the allowed {max_removed_share:.0%}"
    ]


def _missing_fields(scrape: ScrapeResult) -> list[str]:
    if not scrape.problems:
        return []
    shown = "; ".join(scrape.problems[:MAX_PROBLEMS_SHOWN])
    more = len(scrape.problems) - MAX_PROBLEMS_SHOWN
    suffix = f" (and {more} more)" if more > 0 else ""
    return [f"{len(scrape.problems)} entries are incomplete or malformed: {shown}{suffix}"]


def rejection_reasons(
    mirror: Sequence[MirrorOrganisation],
    scrape: ScrapeResult,
    diff: Diff,
    max_removed_share: float,
) -> list[str]:
    """Why this scrape must not be applied without --force; empty when it looks sound."""
    if not scrape.rows:
        return ["no organisations were found on any page (has the markup changed?)"]
    return [
        *_category_emptied(mirror, scrape),
        *_too_many_removed(mirror, diff, max_removed_share),
        *_missing_fields(scrape),
    ]
