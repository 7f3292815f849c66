"""Byte-identical pages reuse their earlier parse; anything different is parsed afresh."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from scrapers import parse_cache
from scrapers.layout import DEFAULT_LAYOUT, ListingLayout
from scrapers.parse import PageError, ParsedPage, parse_working_towards_page

PAGE = (
    b"<html><body><ul class='working-towards'><li><strong>Acme Training Ltd</strong>"
    b" - applied May 2026</li></ul></body></html>"
)
URL = "http://127.0.0.1/working-towards-certification/"


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    parse_cache.clear()
    yield
    parse_cache.clear()


class CountingParser:
    """Wraps the real parser and counts how often it really runs."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, content: bytes, page_url: str, *, layout: ListingLayout) -> ParsedPage:
        self.calls += 1
        return parse_working_towards_page(content, page_url, layout=layout)


def test_identical_page_is_parsed_once_and_the_result_reused() -> None:
    parser = CountingParser()
    first = parse_cache.parse_page(parser, PAGE, URL, DEFAULT_LAYOUT)
    again = parse_cache.parse_page(parser, bytes(PAGE), URL, DEFAULT_LAYOUT)
    assert again is first
    assert parser.calls == 1
    assert [row.name for row in first.rows] == ["Acme Training Ltd"]


def test_changed_bytes_url_or_layout_are_parsed_again() -> None:
    parser = CountingParser()
    parse_cache.parse_page(parser, PAGE, URL, DEFAULT_LAYOUT)
    changed = parse_cache.parse_page(parser, PAGE.replace(b"Acme", b"Apex"), URL, DEFAULT_LAYOUT)
    parse_cache.parse_page(parser, PAGE, URL + "?page=2", DEFAULT_LAYOUT)
    parse_cache.parse_page(parser, PAGE, URL, replace(DEFAULT_LAYOUT, working_towards_name="b"))
    assert parser.calls == 4
    assert [row.name for row in changed.rows] == ["Apex Training Ltd"]


def test_a_page_that_fails_to_parse_is_not_kept() -> None:
    parser = CountingParser()
    truncated = PAGE.replace(b"</html>", b"")
    for _ in range(2):
        with pytest.raises(PageError):
            parse_cache.parse_page(parser, truncated, URL, DEFAULT_LAYOUT)
    assert parser.calls == 2


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_cache, "MAX_PAGES", 3)
    parser = CountingParser()
    for number in range(5):
        parse_cache.parse_page(parser, PAGE, f"{URL}?page={number}", DEFAULT_LAYOUT)
    parse_cache.parse_page(parser, PAGE, f"{URL}?page=0", DEFAULT_LAYOUT)
    assert parser.calls == 6  # page 0 had been evicted
