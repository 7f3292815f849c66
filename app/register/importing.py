"""`certlookup import`: the register loaded from a file instead of the live pages.

When the live markup changes and the scraper is refused, an operator with the list from
elsewhere (a spreadsheet from Bild ACT, a saved export) loads it. The file has the columns
of the CSV export (GET /v1/organisations?format=csv), or is that export's JSON: a list of
objects with the same keys, or a page of GET /v1/organisations. It becomes the same
listing rows a scrape produces and goes through the same sync: validation, diff guard,
history and lock, recorded as a sync run whose source is the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from app.files.writing import restore_neutralised
from app.register.export import LIST_SEPARATOR
from scrapers import ScrapeError
from scrapers.entry_rules import vet_rows
from scrapers.rows import FetchedPage, ListingRow, ListingStatus, ScrapeResult

REQUIRED_COLUMNS = frozenset({"name", "status"})


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = restore_neutralised(str(value)).strip()
    return text or None


def _date(value: Any) -> dt.date | None:
    text = _text(value)
    return dt.date.fromisoformat(text) if text else None


def _items(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        parts: Iterable[Any] = value
    else:
        parts = (_text(value) or "").split(LIST_SEPARATOR.strip())
    return tuple(text for part in parts if (text := _text(part)))


def _extra(value: Any) -> tuple[tuple[str, str], ...]:
    if isinstance(value, dict):
        return tuple((str(k), str(v)) for k, v in value.items())
    text = _text(value)
    if not text:
        return ()
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise ValueError("extra is not a JSON object")
    return tuple((str(k), str(v)) for k, v in loaded.items())


def _names_of(record: dict[str, Any], kind: str) -> tuple[str, ...]:
    """trading_names / former_names, or the same read off a JSON answer's `names`."""
    column = f"{kind}_names"
    if column in record:
        return _items(record[column])
    names = record.get("names") or []
    return tuple(n["name"] for n in names if isinstance(n, dict) and n.get("kind") == kind)


def listing_row(record: dict[str, Any], source_url: str) -> ListingRow:
    """One exported organisation as a listing row, or ValueError saying what is wrong."""
    name = _text(record.get("name"))
    if not name:
        raise ValueError("no name")
    status = ListingStatus(_text(record.get("status")) or "")
    return ListingRow(
        status=status,
        listed_name=_text(record.get("listed_name")) or name,
        name=name,
        trading_names=_names_of(record, "trading"),
        former_names=_names_of(record, "former"),
        certificate_number=_text(record.get("certificate_number")),
        certified_on=_date(record.get("certified_on")),
        valid_until=_date(record.get("valid_until")),
        settings=_items(record.get("settings")),
        regions=_items(record.get("regions")),
        website=_text(record.get("website")),
        parent_name=_text(record.get("parent_name")),
        approved_on=_date(record.get("approved_on")),
        note=_text(record.get("note")),
        extra=_extra(record.get("extra")),
        source_url=_text(record.get("source_url")) or source_url,
    )


def _records(path: Path, content: bytes) -> list[dict[str, Any]]:
    """The file's organisations as dicts keyed by the export's columns."""
    if path.suffix.lower() == ".json":
        loaded = json.loads(content.decode("utf-8-sig"))
        records = loaded.get("items") if isinstance(loaded, dict) else loaded
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ScrapeError("the JSON file is not a list of organisations (or an 'items' list)")
        return records
    if path.suffix.lower() != ".csv":
        raise ScrapeError(f"{path.name}: only .csv and .json files can be imported")
    reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline=""))
    missing = REQUIRED_COLUMNS - set(reader.fieldnames or ())
    if missing:
        raise ScrapeError(f"the CSV file lacks the column(s) {', '.join(sorted(missing))}")
    return list(reader)


def read_listing(path: Path) -> ScrapeResult:
    """The file as a scrape: its rows, the file kept as the one page, and what is wrong."""
    source_url = path.resolve().as_uri()
    try:
        content = path.read_bytes()
        records = _records(path, content)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ScrapeError(f"cannot read {path}: {exc}") from None
    result = ScrapeResult(pages=[FetchedPage(source_url, None, content, "text/plain")])
    for number, record in enumerate(records, 1):
        if _text(record.get("status")) == "removed":
            continue  # not on the register: absent from a listing too
        try:
            result.rows.append(listing_row(record, source_url))
        except (ValueError, TypeError, KeyError) as exc:
            result.problems.append(f"entry {number} ({record.get('name')!r}): {exc}")
    # The rules every scraped entry meets (length, markup, control characters, websites).
    vetted = vet_rows(result.rows)
    result.rows = vetted.rows
    result.problems.extend(vetted.problems)
    result.warnings.extend(vetted.warnings)
    return result


def file_source(path: Path) -> Callable[[], ScrapeResult]:
    """What a sync runs instead of scraping, to load this file."""
    return lambda: read_listing(path)
