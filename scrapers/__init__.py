"""Fetch and parse the Bild ACT register of RRN-certified training. Knows nothing of the DB."""

from __future__ import annotations

from scrapers.fetch import FetchPolicy, ScrapeError, make_client, scrape_register
from scrapers.layout import DEFAULT_LAYOUT, ListingLayout
from scrapers.names import SplitName, clean_text, split_listed_name
from scrapers.parse import (
    PageError,
    ParsedPage,
    parse_affiliates_page,
    parse_certified_page,
    parse_working_towards_page,
)
from scrapers.rows import FetchedPage, ListingRow, ListingStatus, ScrapeResult

__all__ = [
    "DEFAULT_LAYOUT",
    "FetchPolicy",
    "FetchedPage",
    "ListingLayout",
    "ListingRow",
    "ListingStatus",
    "PageError",
    "ParsedPage",
    "ScrapeError",
    "ScrapeResult",
    "SplitName",
    "clean_text",
    "make_client",
    "parse_affiliates_page",
    "parse_certified_page",
    "parse_working_towards_page",
    "scrape_register",
    "split_listed_name",
]
