"""Counts per status over time, from the mirror's own history.

Each organisation's status timeline is the one `as_of` checks read (app/checks/snapshot.py):
the status each sync observed, moved back to the register's own effective date where the
register states one inside the time the mirror was watching. Nothing is known before the
first successful sync, so the first period is the one holding it: that is where the
mirror's memory begins.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from app.checks.snapshot import LISTED, OrganisationView
from app.errors import InvalidInput
from app.models import OrganisationStatus
from app.register.filters import OrganisationFilter

MAX_PERIODS = 5000
STATUSES = tuple(s.value for s in OrganisationStatus)


class Interval(StrEnum):
    """How long each counted period is."""

    MONTH = "month"
    WEEK = "week"
    DAY = "day"


def period_start(day: dt.date, interval: Interval) -> dt.date:
    """The first day of the period holding `day` (weeks start on Monday, as ISO 8601's)."""
    if interval is Interval.MONTH:
        return day.replace(day=1)
    if interval is Interval.WEEK:
        return day - dt.timedelta(days=day.weekday())
    return day


def next_start(start: dt.date, interval: Interval) -> dt.date:
    """The first day of the period after the one starting on `start`."""
    if interval is Interval.MONTH:
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start + dt.timedelta(days=7 if interval is Interval.WEEK else 1)


def periods(first: dt.date, last: dt.date, interval: Interval) -> Iterator[tuple[dt.date, dt.date]]:
    """(start, end) of every period from the one holding `first` to the one holding `last`;
    `end` is the next period's start (exclusive)."""
    start = period_start(first, interval)
    while start <= last:
        end = next_start(start, interval)
        yield start, end
        start = end


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class PeriodCount:
    """The statuses at the end of one period (or at the last sync, for the last one)."""

    start: dt.date
    end: dt.date
    counted_at: dt.datetime
    counts: dict[str, int]

    @property
    def listed(self) -> int:
        return sum(n for status, n in self.counts.items() if status in LISTED)


def _transitions(views: Iterable[OrganisationView]) -> list[tuple[dt.datetime, int, str]]:
    moves = [
        (moment, view.id, status)
        for view in views
        for moment, status in zip(view.transitions, view.statuses, strict=True)
    ]
    moves.sort()
    return moves


def count_history(
    views: Iterable[OrganisationView],
    chosen: OrganisationFilter,
    interval: Interval,
    memory: tuple[dt.datetime | None, dt.datetime | None],
) -> list[PeriodCount]:
    """Counts per status at the end of every period the mirror's memory covers: from its
    first successful sync to its last (`memory`); the last period is counted at that sync.

    One sweep over every status change in time order: each period's counts are the
    previous period's plus the changes inside it.
    """
    begins, ends = memory
    if begins is None or ends is None:
        return []
    spans = list(periods(begins.date(), ends.date(), interval))
    if len(spans) > MAX_PERIODS:
        raise InvalidInput(
            f"{len(spans)} periods of a {interval.value}: at most {MAX_PERIODS}; "
            "ask for a longer interval",
            code="too_many_periods",
        )
    moves = _transitions(v for v in views if chosen.keeps_labels(v))
    current: dict[int, str] = {}
    counts: Counter[str] = Counter()
    position = 0
    answer = []
    for start, end in spans:
        # Every change was observed by the last sync, so none falls after `ends`.
        while position < len(moves) and moves[position][0] < _midnight(end):
            _, org, status = moves[position]
            if org in current:
                counts[current[org]] -= 1
            current[org] = status
            counts[status] += 1
            position += 1
        counted_at = min(_midnight(end), ends)
        answer.append(PeriodCount(start, end, counted_at, {s: counts[s] for s in STATUSES}))
    return answer
