"""Every path, CSS selector and label the scraper relies on, in one place.

The live register cannot be seen from our machines, so the parser follows the contract in
``listing-layout/LAYOUT.md``. If the live markup differs, an operator should only need to edit
this module (or pass a modified :class:`ListingLayout` to the parsers and the crawl).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# Field names the certified-page parser understands; the label tables below map onto these.
CERTIFICATE_NUMBER = "certificate_number"
CERTIFIED_ON = "certified_on"
VALID_UNTIL = "valid_until"
SETTINGS = "settings"
REGIONS = "regions"
WEBSITE = "website"

# Column roles on the affiliates table.
AFFILIATE_NAME = "name"
AFFILIATE_PARENT = "parent"
AFFILIATE_REGION = "region"
AFFILIATE_APPROVED = "approved"


def _frozen(mapping: dict[str, str]) -> Mapping[str, str]:
    return MappingProxyType(mapping)


@dataclass(frozen=True)
class ListingLayout:
    """Paths, selectors and labels of the three register pages (see LAYOUT.md)."""

    html_parser: str = "lxml"
    """BeautifulSoup tree builder, named explicitly: the "best installed" differs by machine."""

    robots_path: str = "/robots.txt"
    """Always at the root of the host, whatever path the base URL has."""
    # The listing paths are relative to the configured base URL.
    certified_path: str = "/certified-organisations/"
    affiliates_path: str = "/affiliate-organisations/"
    working_towards_path: str = "/working-towards-certification/"

    # Certified training services (paginated).
    entry: str = "article.directory-entry"
    entry_name: str = ".directory-entry__name"
    entry_details: str = "dl.directory-entry__details"
    next_page: str = "nav.pagination a.next"
    detail_labels: Mapping[str, str] = field(
        default_factory=lambda: _frozen(
            {
                # Keys are compared case-insensitively with any trailing colon removed.
                "certificate number": CERTIFICATE_NUMBER,
                "date certified": CERTIFIED_ON,
                "certificate valid until": VALID_UNTIL,
                "training delivered to": SETTINGS,
                "regions": REGIONS,
                "website": WEBSITE,
            }
        )
    )
    settings_separator: str = ";"
    regions_separator: str = ","

    # Affiliate organisations: one table, columns found by header text.
    affiliates_table: str = "table.affiliates"
    affiliate_columns: Mapping[str, str] = field(
        default_factory=lambda: _frozen(
            {
                "affiliate organisation": AFFILIATE_NAME,
                "certified training provider": AFFILIATE_PARENT,
                "region": AFFILIATE_REGION,
                "approved": AFFILIATE_APPROVED,
            }
        )
    )

    # Working towards certification: name in <strong>, optional note after a dash.
    working_towards_list: str = "ul.working-towards"
    working_towards_item: str = "li"
    """Items, selected inside the list."""
    working_towards_name: str = "strong"
    note_dashes: str = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
    """Characters accepted as the dash before a working-towards note (hyphen, en, em, ...)."""

    html_content_types: tuple[str, ...] = ("text/html", "application/xhtml+xml")
    closing_html_tag: str = "</html>"
    """A page without this is treated as truncated."""


DEFAULT_LAYOUT = ListingLayout()
