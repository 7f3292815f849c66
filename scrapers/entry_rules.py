"""What a listed entry may hold before the mirror serves it: bounded, plain text and web links.

The register is read as found, so anything a compromised or broken page carries would be
served to every client: a `javascript:` website, markup in a name, a 5,000-character name,
terminal colour codes left from a copy and paste. Text that breaks these rules makes the
entry a problem (the sync is rejected with the reason, like an entry without a name); a
website that is not an http(s) address is only dropped, with a warning on the run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from scrapers.rows import ListingRow

# Lengths well above anything the register lists (its longest name is under 100 characters)
# and within the mirror's columns.
MAX_NAME_CHARS = 300
MAX_LISTED_NAME_CHARS = 500
MAX_CERTIFICATE_NUMBER_CHARS = 50
MAX_LABEL_CHARS = 100
MAX_TEXT_CHARS = 1000
MAX_WEBSITE_CHARS = 1000
SHOWN_CHARS = 60
"""How much of an offending value a problem or warning quotes."""

# An ANSI escape sequence (SGR colours, erase line/screen), with or without its ESC: the
# scraper deletes control characters, which leaves "[31m" behind.
_TERMINAL_ESCAPE = re.compile(r"\x1b?\[\d{1,3}(?:;\d{1,3})*[mKJ]")
_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z!?]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CERTIFICATE_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./_-]*")
# Characters RFC 3986 never allows unencoded in a URL (quotes and brackets break out of
# the HTML attribute a client may put the link in).
_NOT_IN_URLS = re.compile(r"[\s<>\"'`\\{}|^]")
_WRITTEN_ADDRESS = re.compile(r"(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,63}(?:/\S*)?")


@dataclass(slots=True)
class VettedRows:
    """The rows fit to serve, why others were left out, and what was dropped from kept ones."""

    rows: list[ListingRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """One per entry whose text breaks a rule; it is left out and the sync is rejected."""
    warnings: list[str] = field(default_factory=list)
    """Websites dropped because they are not http(s) addresses; the entry itself is kept."""


def shown(value: str) -> str:
    """A value quoted for a message, cut short."""
    cut = value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + "..."
    return repr(cut)


def _text_fields(row: ListingRow) -> Iterator[tuple[str, str, int]]:
    """(field, value, most characters) for every text the row carries except its website."""
    yield "listed name", row.listed_name, MAX_LISTED_NAME_CHARS
    yield "name", row.name, MAX_NAME_CHARS
    for name in row.trading_names:
        yield "trading name", name, MAX_NAME_CHARS
    for name in row.former_names:
        yield "former name", name, MAX_NAME_CHARS
    if row.parent_name is not None:
        yield "certified training provider", row.parent_name, MAX_LISTED_NAME_CHARS
    if row.certificate_number is not None:
        yield "certificate number", row.certificate_number, MAX_CERTIFICATE_NUMBER_CHARS
    if row.note is not None:
        yield "note", row.note, MAX_TEXT_CHARS
    for value in row.settings:
        yield "setting", value, MAX_LABEL_CHARS
    for value in row.regions:
        yield "region", value, MAX_LABEL_CHARS
    for label, value in row.extra:
        yield "detail label", label, MAX_LABEL_CHARS
        yield f"detail {shown(label)}", value, MAX_TEXT_CHARS


def text_problem(value: str, most: int) -> str | None:
    """Why a text may not be served, or None when it may."""
    if len(value) > most:
        return f"is {len(value):,} characters long (at most {most:,})"
    if escape := _TERMINAL_ESCAPE.search(value):
        return f"holds a terminal escape sequence ({escape.group().lstrip(chr(27))!r})"
    if _CONTROL.search(value):
        return "holds control characters"
    if _MARKUP.search(value):
        return "holds HTML markup"
    return None


def _row_problem(row: ListingRow) -> str | None:
    """What is wrong with the row's text, every rule it breaks in one line; None if nothing."""
    broken = [
        f"{name} {why}"
        for name, value, most in _text_fields(row)
        if (why := text_problem(value, most)) is not None
    ]
    number = row.certificate_number
    if not broken and number is not None and not _CERTIFICATE_NUMBER.fullmatch(number):
        broken.append(
            f"certificate number {shown(number)} holds characters other than "
            "letters, digits, spaces and . / _ -"
        )
    if not broken:
        return None
    return f"{row.source_url}: {shown(row.listed_name)}: {', '.join(broken)}"


def is_web_address(website: str) -> bool:
    """True for an absolute http(s) URL with a host, or a bare host as a page may write it."""
    if text_problem(website, MAX_WEBSITE_CHARS) or _NOT_IN_URLS.search(website):
        return False
    try:
        parts = urlsplit(website)
        host, _ = parts.hostname, parts.port
    except ValueError:  # a malformed port or IPv6 address
        return False
    if parts.scheme:
        return parts.scheme.lower() in {"http", "https"} and bool(host)
    return bool(_WRITTEN_ADDRESS.fullmatch(website))


def vet_rows(rows: Sequence[ListingRow]) -> VettedRows:
    """Keep the rows whose text may be served; drop websites that are not web addresses."""
    vetted = VettedRows()
    for row in rows:
        problem = _row_problem(row)
        if problem is not None:
            vetted.problems.append(problem)
            continue
        if row.website is not None and not is_web_address(row.website):
            vetted.warnings.append(
                f"{row.source_url}: {shown(row.listed_name)}: website {shown(row.website)} "
                "dropped: not an http(s) address"
            )
            row = replace(row, website=None)
        vetted.rows.append(row)
    return vetted
