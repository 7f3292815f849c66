"""UK (day-first) dates as the register writes them, parsed without relying on the locale."""

from __future__ import annotations

import datetime as dt
import re

from scrapers.names import clean_text

# Our own month table: strptime's %B/%b depend on the process locale.
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}

_WORDY = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{4})$", re.IGNORECASE)
_NUMERIC = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4}|\d{2})$")
_MONTH_YEAR = re.compile(r"^([a-z]+)\.?,?\s+(\d{4})$", re.IGNORECASE)
_NUMERIC_MONTH_YEAR = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{4})$")


def parse_uk_date(text: str) -> dt.date:
    """Parse '8 March 2022', '8 Mar 2022', '8th March 2022' or '08/03/2022' (day first)."""
    value = clean_text(text)
    if match := _WORDY.match(value):
        day, month, year = int(match[1]), _month_number(match[2], text), int(match[3])
    elif match := _NUMERIC.match(value):
        day, month, year = int(match[1]), int(match[2]), _full_year(match[3])
    else:
        raise ValueError(f"not a day-first date: {text!r}")
    return _make_date(year, month, day, text)


def parse_month_year(text: str) -> dt.date:
    """Parse 'May 2022' (or '05/2022') as the first day of that month."""
    value = clean_text(text)
    if match := _MONTH_YEAR.match(value):
        month, year = _month_number(match[1], text), int(match[2])
    elif match := _NUMERIC_MONTH_YEAR.match(value):
        month, year = int(match[1]), int(match[2])
    else:
        raise ValueError(f"not a month and year: {text!r}")
    return _make_date(year, month, 1, text)


def _month_number(word: str, original: str) -> int:
    try:
        return _MONTHS[word.casefold()]
    except KeyError:
        raise ValueError(f"unknown month {word!r} in {original!r}") from None


def _full_year(digits: str) -> int:
    # Two-digit years on a register of post-2000 certificates can only mean 20xx.
    return 2000 + int(digits) if len(digits) == 2 else int(digits)


def _make_date(year: int, month: int, day: int, original: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"impossible date: {original!r}") from None
