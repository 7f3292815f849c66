"""Pure parsers: one register page (bytes) in, typed rows out. No I/O happens here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict
from urllib.parse import urldefrag, urljoin

from bs4 import BeautifulSoup, Tag

from scrapers import layout as fields
from scrapers.dates import parse_month_year, parse_uk_date
from scrapers.layout import DEFAULT_LAYOUT, ListingLayout
from scrapers.names import clean_text, split_listed_name
from scrapers.rows import ListingRow, ListingStatus


@dataclass(frozen=True)
class ParsedPage:
    """The rows found on one page, the next page to follow, and what looked wrong."""

    rows: list[ListingRow]
    next_url: str | None
    """Absolute, resolved against the page URL; None when there is no next page."""
    problems: list[str]


class PageError(ValueError):
    """The page as a whole cannot be trusted (not UTF-8, truncated)."""


def decode_page(content: bytes, page_url: str, layout: ListingLayout = DEFAULT_LAYOUT) -> str:
    """Decode a page strictly as UTF-8 and refuse one that looks truncated."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PageError(f"{page_url} is not valid UTF-8 (bad byte at offset {exc.start})") from None
    if layout.closing_html_tag.casefold() not in text.casefold():
        raise PageError(f"{page_url}: page looks truncated (no closing {layout.closing_html_tag})")
    # lxml turns NUL into U+FFFD, which clean_text could no longer tell from real text.
    return text.replace("\x00", "")


def parse_certified_page(
    content: bytes, page_url: str, *, layout: ListingLayout = DEFAULT_LAYOUT
) -> ParsedPage:
    """Parse one page of certified training services, and find the next page."""
    soup = _soup(content, page_url, layout)
    rows: list[ListingRow] = []
    problems: list[str] = []
    entries = soup.select(layout.entry)
    if not entries:
        problems.append(f"{page_url}: no entries match {layout.entry!r}")
    for index, entry in enumerate(entries, start=1):
        row = _certified_row(entry, index, page_url, layout, problems)
        if row is not None:
            rows.append(row)
    return ParsedPage(rows, _next_url(soup, page_url, layout), problems)


def parse_affiliates_page(
    content: bytes, page_url: str, *, layout: ListingLayout = DEFAULT_LAYOUT
) -> ParsedPage:
    """Parse the affiliate organisations table (columns found by their header text)."""
    soup = _soup(content, page_url, layout)
    table = soup.select_one(layout.affiliates_table)
    if table is None:
        return ParsedPage([], None, [f"{page_url}: no table matches {layout.affiliates_table!r}"])
    header, columns = _affiliate_columns(table, layout)
    problems = [
        f"{page_url}: affiliates table has no {role!r} column"
        for role in (fields.AFFILIATE_NAME, fields.AFFILIATE_PARENT)
        if role not in columns
    ]
    rows: list[ListingRow] = []
    for index, tr in enumerate(r for r in table.find_all("tr") if r is not header):
        cells = tr.find_all(["td", "th"], recursive=False)
        if not any(cell.name == "td" for cell in cells):
            continue  # another header or an empty row
        texts = {role: _cell_text(cells, i) for role, i in columns.items()}
        row = _affiliate_row(texts, index + 1, page_url, problems)
        if row is not None:
            rows.append(row)
    return ParsedPage(rows, None, problems)


def parse_working_towards_page(
    content: bytes, page_url: str, *, layout: ListingLayout = DEFAULT_LAYOUT
) -> ParsedPage:
    """Parse the working-towards list: the name in <strong>, an optional note after a dash."""
    soup = _soup(content, page_url, layout)
    container = soup.select_one(layout.working_towards_list)
    if container is None:
        return ParsedPage(
            [], None, [f"{page_url}: no list matches {layout.working_towards_list!r}"]
        )
    # An empty list is possible (nobody working towards); a missing list means changed markup.
    items = container.select(layout.working_towards_item)
    problems: list[str] = []
    rows: list[ListingRow] = []
    for index, item in enumerate(items, start=1):
        strong = item.select_one(layout.working_towards_name)
        listed = clean_text(strong.get_text()) if strong is not None else ""
        if not listed:
            problems.append(f"{page_url}: working-towards item #{index} has no name; skipped")
            continue
        note = _note_after(clean_text(item.get_text()), listed, layout.note_dashes)
        rows.append(
            ListingRow(
                status=ListingStatus.WORKING_TOWARDS,
                **_name_fields(listed),
                note=note,
                source_url=page_url,
            )
        )
    return ParsedPage(rows, None, problems)


def _soup(content: bytes, page_url: str, layout: ListingLayout) -> BeautifulSoup:
    return BeautifulSoup(decode_page(content, page_url, layout), layout.html_parser)


class _NameFields(TypedDict):
    listed_name: str
    name: str
    trading_names: tuple[str, ...]
    former_names: tuple[str, ...]


def _name_fields(listed: str) -> _NameFields:
    split = split_listed_name(listed)
    return {
        "listed_name": listed,
        "name": split.name or listed,
        "trading_names": split.trading_names,
        "former_names": split.former_names,
    }


def _next_url(soup: BeautifulSoup, page_url: str, layout: ListingLayout) -> str | None:
    link = soup.select_one(layout.next_page)
    href = link.get("href") if link is not None else None
    if not isinstance(href, str) or not href.strip():
        return None
    return urldefrag(urljoin(page_url, href.strip())).url


def _certified_row(
    entry: Tag, index: int, page_url: str, layout: ListingLayout, problems: list[str]
) -> ListingRow | None:
    name_tag = entry.select_one(layout.entry_name)
    listed = clean_text(name_tag.get_text()) if name_tag is not None else ""
    if not listed:
        problems.append(f"{page_url}: certified entry #{index} has no name; skipped")
        return None
    details, extra = _details(entry, page_url, layout)
    where = f"{page_url}: {listed!r}"
    return ListingRow(
        status=ListingStatus.CERTIFIED,
        **_name_fields(listed),
        certificate_number=details.get(fields.CERTIFICATE_NUMBER) or None,
        certified_on=_parsed(details, fields.CERTIFIED_ON, parse_uk_date, where, problems),
        valid_until=_parsed(details, fields.VALID_UNTIL, parse_uk_date, where, problems),
        settings=_split_list(details.get(fields.SETTINGS), layout.settings_separator),
        regions=_split_list(details.get(fields.REGIONS), layout.regions_separator),
        website=details.get(fields.WEBSITE) or None,
        extra=tuple(extra),
        source_url=page_url,
    )


def _details(
    entry: Tag, page_url: str, layout: ListingLayout
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Known detail fields by field name, and unknown (label, value) pairs in page order."""
    known = {label.casefold(): field for label, field in layout.detail_labels.items()}
    details: dict[str, str] = {}
    extra: list[tuple[str, str]] = []
    dl = entry.select_one(layout.entry_details)
    label: str | None = None
    # dt/dd may sit directly in the <dl> or inside <div> groups (both are valid HTML).
    for tag in dl.find_all(["dt", "dd"]) if dl is not None else []:
        if tag.name == "dt":
            label = clean_text(tag.get_text()).rstrip(":").rstrip()
        elif label is not None:
            field = known.get(label.casefold())
            if field is None:
                extra.append((label, clean_text(tag.get_text())))
            elif field == fields.WEBSITE:
                details[field] = _link(tag, page_url)
            else:
                details[field] = clean_text(tag.get_text())
    return details, extra


def _link(dd: Tag, page_url: str) -> str:
    anchor = dd.find("a", href=True)
    href = anchor.get("href") if isinstance(anchor, Tag) else None
    if isinstance(href, str) and clean_text(href):
        return urljoin(page_url, clean_text(href))
    return clean_text(dd.get_text())  # no link: keep what is written rather than lose it


def _parsed(
    details: dict[str, str],
    field: str,
    parser: Callable[[str], dt.date],
    where: str,
    problems: list[str],
) -> dt.date | None:
    text = details.get(field)
    if not text:
        return None
    try:
        return parser(text)
    except ValueError:
        problems.append(f"{where}: cannot read {field} {text!r}")
        return None


def _split_list(text: str | None, separator: str) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(part for part in (clean_text(p) for p in text.split(separator)) if part)


def _affiliate_columns(table: Tag, layout: ListingLayout) -> tuple[Tag | None, dict[str, int]]:
    """The header row and the column index of each known role."""
    known = {label.casefold(): role for label, role in layout.affiliate_columns.items()}
    for tr in table.find_all("tr"):
        cells = tr.find_all(["th", "td"], recursive=False)
        labels = [clean_text(cell.get_text()).rstrip(":").rstrip().casefold() for cell in cells]
        columns = {known[label]: i for i, label in enumerate(labels) if label in known}
        if columns and any(cell.name == "th" for cell in cells):
            return tr, columns
    return None, {}


def _cell_text(cells: list[Tag], index: int) -> str:
    return clean_text(cells[index].get_text()) if index < len(cells) else ""


def _affiliate_row(
    texts: dict[str, str], index: int, page_url: str, problems: list[str]
) -> ListingRow | None:
    listed = texts.get(fields.AFFILIATE_NAME, "")
    if not listed:
        problems.append(f"{page_url}: affiliate row #{index} has no name; skipped")
        return None
    where = f"{page_url}: {listed!r}"
    parent = texts.get(fields.AFFILIATE_PARENT) or None
    if parent is None:
        problems.append(f"{where}: affiliate has no certified training provider")
    region = texts.get(fields.AFFILIATE_REGION)
    return ListingRow(
        status=ListingStatus.AFFILIATE,
        **_name_fields(listed),
        regions=(region,) if region else (),
        parent_name=parent,
        approved_on=_parsed(texts, fields.AFFILIATE_APPROVED, parse_month_year, where, problems),
        source_url=page_url,
    )


def _note_after(item_text: str, name: str, dashes: str) -> str | None:
    """The text after the name, without the dash that introduces it."""
    start = item_text.find(name)
    rest = item_text[start + len(name) :].strip() if start >= 0 else ""
    if rest[:1] and rest[0] in dashes:
        rest = rest[1:].strip()
    return rest or None
