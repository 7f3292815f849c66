from __future__ import annotations

import datetime as dt

import pytest

from scrapers.dates import parse_month_year, parse_uk_date


@pytest.mark.parametrize(
    "text",
    [
        "8 March 2022",
        "08 March 2022",
        "8 Mar 2022",
        "8 mar. 2022",
        "8th March 2022",
        "08/03/2022",
        "8/3/2022",
        "08-03-2022",
        "08.03.2022",
        "08/03/22",
        " 8\u00a0March\u00a02022 ",
    ],
)
def test_uk_dates_are_read_day_first(text: str) -> None:
    assert parse_uk_date(text) == dt.date(2022, 3, 8)


def test_september_abbreviations_are_both_understood() -> None:
    assert parse_uk_date("1 Sept 2023") == parse_uk_date("1 Sep 2023") == dt.date(2023, 9, 1)


@pytest.mark.parametrize("text", ["", "soon", "March 8 2022", "31/02/2022", "8 Smarch 2022"])
def test_unreadable_or_impossible_dates_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"date|month"):
        parse_uk_date(text)


@pytest.mark.parametrize("text", ["May 2022", "may 2022", "05/2022", "May\u00a02022"])
def test_month_and_year_is_the_first_of_that_month(text: str) -> None:
    assert parse_month_year(text) == dt.date(2022, 5, 1)


@pytest.mark.parametrize("text", ["", "2022", "Maybe 2022", "13/2022"])
def test_unreadable_month_and_year_raises_value_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"month|date"):
        parse_month_year(text)
