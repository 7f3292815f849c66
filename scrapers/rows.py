"""Typed rows and results produced by the scraper. Nothing here knows about the database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class ListingStatus(StrEnum):
    """Which of the three Bild ACT lists an organisation appears on."""

    CERTIFIED = "certified"
    AFFILIATE = "affiliate"
    WORKING_TOWARDS = "working_towards"


@dataclass(frozen=True, slots=True)
class ListingRow:
    """One organisation as the register lists it, with its name split into its parts."""

    status: ListingStatus
    listed_name: str
    """The name exactly as shown (whitespace collapsed, entities decoded)."""
    name: str
    """The organisation's own name: trading/former parts and an NHS team suffix removed."""
    trading_names: tuple[str, ...] = ()
    former_names: tuple[str, ...] = ()
    certificate_number: str | None = None
    certified_on: dt.date | None = None
    valid_until: dt.date | None = None
    settings: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    website: str | None = None
    parent_name: str | None = None
    """Affiliates only: the certified provider, written as on the certified page."""
    approved_on: dt.date | None = None
    """Affiliates only: the month approved, as the first day of that month."""
    note: str | None = None
    """Working-towards only: the free text after the dash."""
    extra: tuple[tuple[str, str], ...] = ()
    """Detail labels the parser does not know, kept as (label, value)."""
    source_url: str = ""


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """One HTTP response as received, kept so a rejected run can be diagnosed."""

    url: str
    status_code: int | None
    content: bytes
    content_type: str | None = None
    error: str | None = None


@dataclass(slots=True)
class ScrapeResult:
    """Everything one scrape produced: rows, the raw pages, and problems found on the way."""

    rows: list[ListingRow] = field(default_factory=list)
    pages: list[FetchedPage] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Parse-level problems (an entry without a name, an affiliate without a parent, text that
    breaks scrapers.entry_rules, ...): each makes the sync rejected."""
    warnings: list[str] = field(default_factory=list)
    """What was dropped from entries that are kept (a website that is not an http(s) URL)."""
