"""Periods and the sweep behind GET /v1/register/history (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.checks.snapshot import OrganisationView
from app.errors import InvalidInput
from app.register.filters import OrganisationFilter
from app.register.history import Interval, count_history, periods

D = dt.date


def test_periods_cover_first_to_last_across_month_and_year_ends() -> None:
    months = list(periods(D(2026, 12, 30), D(2027, 1, 2), Interval.MONTH))
    assert months == [(D(2026, 12, 1), D(2027, 1, 1)), (D(2027, 1, 1), D(2027, 2, 1))]
    weeks = list(periods(D(2026, 12, 2), D(2026, 12, 14), Interval.WEEK))
    assert [w[0] for w in weeks] == [D(2026, 11, 30), D(2026, 12, 7), D(2026, 12, 14)]
    days = list(periods(D(2024, 2, 28), D(2024, 3, 1), Interval.DAY))
    assert [d[0] for d in days] == [D(2024, 2, 28), D(2024, 2, 29), D(2024, 3, 1)]


def _at(day: int, hour: int = 3) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)


def _view(org_id: int, moves: list[tuple[dt.datetime, str]]) -> OrganisationView:
    return OrganisationView(
        id=org_id,
        name=f"Org {org_id}",
        listed_name=f"Org {org_id}",
        status=moves[-1][1],
        names=(),
        certificate_number=None,
        certified_on=None,
        valid_until=None,
        settings=(),
        regions=("Wales",) if org_id % 2 else (),
        website=None,
        parent_id=None,
        parent_name=None,
        approved_on=None,
        note=None,
        first_seen_at=moves[0][0],
        removed_at=None,
        transitions=tuple(m for m, _ in moves),
        statuses=tuple(s for _, s in moves),
    )


def test_each_day_counts_the_statuses_held_at_its_end() -> None:
    views = [
        _view(1, [(_at(1), "working_towards"), (_at(3), "certified")]),
        _view(2, [(_at(1), "certified"), (_at(2, 23), "removed")]),
        _view(3, [(_at(2), "affiliate")]),
    ]
    found = count_history(views, OrganisationFilter(), Interval.DAY, (_at(1), _at(3)))
    assert [p.start.day for p in found] == [1, 2, 3]
    assert [p.counts for p in found] == [
        {"certified": 1, "affiliate": 0, "working_towards": 1, "removed": 0},
        {"certified": 0, "affiliate": 1, "working_towards": 1, "removed": 1},
        {"certified": 1, "affiliate": 1, "working_towards": 0, "removed": 1},
    ]
    assert [p.listed for p in found] == [2, 2, 2]
    assert found[-1].counted_at == _at(3)
    wales = count_history(
        views, OrganisationFilter(regions=frozenset({"wales"})), Interval.DAY, (_at(1), _at(3))
    )
    assert wales[-1].counts["certified"] == 1
    assert sum(wales[-1].counts.values()) == 2  # organisations 1 and 3


def test_no_memory_means_no_periods_and_too_many_periods_is_refused() -> None:
    assert count_history([], OrganisationFilter(), Interval.DAY, (None, None)) == []
    long_ago = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(InvalidInput) as refused:
        count_history([], OrganisationFilter(), Interval.DAY, (long_ago, _at(1)))
    assert refused.value.code == "too_many_periods"
    assert len(count_history([], OrganisationFilter(), Interval.WEEK, (long_ago, _at(1)))) > 1300
