"""A polite HTTP crawl of the three register pages: robots.txt, retries, limits, deadline."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import NoReturn
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from scrapers.attempt import Attempt, fetch_once
from scrapers.entry_rules import vet_rows
from scrapers.layout import DEFAULT_LAYOUT, ListingLayout
from scrapers.parse import (
    PageError,
    ParsedPage,
    parse_affiliates_page,
    parse_certified_page,
    parse_working_towards_page,
)
from scrapers.parse_cache import parse_page
from scrapers.rows import FetchedPage, ScrapeResult

PageParser = Callable[..., ParsedPage]


@dataclass(frozen=True)
class FetchPolicy:
    """How politely and how patiently the register is fetched."""

    user_agent: str = "certlookup/0.1 (+contact: ops@example.invalid)"
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    deadline_seconds: float = 120.0
    """Overall deadline for the whole scrape (httpx timeouts are per phase only)."""
    max_retries: int = 3
    """Retries on connection errors, timeouts, 429 and 5xx."""
    backoff_base: float = 0.5
    max_retry_after: float = 60.0
    """Honour Retry-After up to this many seconds; a longer demand fails the scrape."""
    max_page_bytes: int = 5_000_000
    max_pages: int = 200
    """Cap on listing pages fetched (all three lists together; robots.txt not counted)."""
    max_redirects: int = 5
    pause_seconds: float = 1.0
    """Politeness pause between requests (raised to robots.txt Crawl-delay when larger)."""


class ScrapeError(Exception):
    """The scrape could not complete.

    ``reason`` is a one-line human reason; ``pages`` are the pages fetched so far, including
    the failing response when there is one.
    """

    def __init__(self, reason: str, pages: list[FetchedPage] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pages: list[FetchedPage] = list(pages or [])


def make_client(policy: FetchPolicy) -> httpx.Client:
    """An httpx client with our User-Agent, timeouts and redirect limit."""
    return httpx.Client(
        headers={"User-Agent": policy.user_agent, "Accept": "text/html,*/*;q=0.5"},
        timeout=httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout),
        follow_redirects=True,
        max_redirects=policy.max_redirects,
    )


def scrape_register(
    client: httpx.Client,
    base_url: str,
    policy: FetchPolicy,
    on_page: Callable[[str], None] | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    layout: ListingLayout = DEFAULT_LAYOUT,
) -> ScrapeResult:
    """Fetch and parse all three register lists; raise ScrapeError if any page fails.

    ``on_page`` is called with each listing page's URL once it has been fetched and parsed.
    """
    crawl = _Crawl(client, policy, sleep=sleep, clock=clock, layout=layout, on_page=on_page)
    return crawl.run(base_url)


class _Crawl:
    def __init__(
        self,
        client: httpx.Client,
        policy: FetchPolicy,
        *,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        layout: ListingLayout,
        on_page: Callable[[str], None] | None,
    ) -> None:
        self.client, self.policy, self.layout = client, policy, layout
        self.sleep, self.clock, self.on_page = sleep, clock, on_page
        self.deadline = clock() + policy.deadline_seconds
        self.pages: list[FetchedPage] = []
        self.robots: Protego | None = None
        self.pause = policy.pause_seconds
        self.listing_pages = 0
        self.owe_pause = False  # no pause before the very first request

    def run(self, base_url: str) -> ScrapeResult:
        base = base_url.rstrip("/") + "/"
        self._load_robots(urljoin(base, self.layout.robots_path))
        result = ScrapeResult(pages=self.pages)
        self._crawl_certified(base + self.layout.certified_path.lstrip("/"), result)
        for path, parser in (
            (self.layout.affiliates_path, parse_affiliates_page),
            (self.layout.working_towards_path, parse_working_towards_page),
        ):
            parsed, _ = self._listing_page(base + path.lstrip("/"), parser)
            result.rows.extend(parsed.rows)
            result.problems.extend(parsed.problems)
        vetted = vet_rows(result.rows)
        result.rows = vetted.rows
        result.problems.extend(vetted.problems)
        result.warnings.extend(vetted.warnings)
        return result

    def _fail(self, reason: str) -> NoReturn:
        raise ScrapeError(reason, self.pages)

    def _load_robots(self, url: str) -> None:
        try:
            page = self._fetch(url, allow_client_errors=True)
        except ScrapeError as exc:
            raise ScrapeError(f"cannot read robots.txt: {exc.reason}", exc.pages) from None
        if page.status_code is not None and 400 <= page.status_code < 500:
            return  # RFC 9309: an unavailable robots.txt means everything is allowed
        self.robots = Protego.parse(page.content.decode("utf-8", errors="replace"))
        delay = self.robots.crawl_delay(self.policy.user_agent)
        if delay:
            # Honour Crawl-delay, but a huge one would only run into the overall deadline.
            self.pause = max(self.pause, min(float(delay), self.policy.max_retry_after))

    def _crawl_certified(self, start: str, result: ScrapeResult) -> None:
        url: str | None = start
        seen: set[str] = set()
        previous = start
        while url is not None:
            if url in seen:
                self._fail(f"pagination loop: the next link on {previous} points back to {url}")
            if urlsplit(url)[:2] != urlsplit(start)[:2]:
                self._fail(f"the next link on {previous} leaves the site: {url}")
            seen.add(url)
            parsed, final_url = self._listing_page(url, parse_certified_page)
            seen.add(final_url)
            result.rows.extend(parsed.rows)
            result.problems.extend(parsed.problems)
            previous, url = final_url, parsed.next_url

    def _listing_page(self, url: str, parser: PageParser) -> tuple[ParsedPage, str]:
        if self.listing_pages >= self.policy.max_pages:
            self._fail(f"more than {self.policy.max_pages} pages; stopped before {url}")
        if self.robots is not None and not self.robots.can_fetch(url, self.policy.user_agent):
            self._fail(f"robots.txt disallows {url} for our user agent")
        self.listing_pages += 1
        page = self._fetch(url)
        content_type = (page.content_type or "").split(";")[0].strip().casefold()
        if content_type and content_type not in self.layout.html_content_types:
            self._fail_page(f"{page.url} is {content_type}, not an HTML page")
        try:
            parsed = parse_page(parser, page.content, page.url, self.layout)
        except PageError as exc:
            self._fail_page(str(exc))
        if self.on_page is not None:
            self.on_page(page.url)
        return parsed, page.url

    def _fail_page(self, reason: str) -> NoReturn:
        """Fail on the page fetched last, recording the reason on it for diagnosis."""
        self.pages[-1] = replace(self.pages[-1], error=reason)
        self._fail(reason)

    def _fetch(self, url: str, *, allow_client_errors: bool = False) -> FetchedPage:
        attempts = self.policy.max_retries + 1
        for attempt in range(attempts):
            self._before_request(url)
            outcome = self._attempt(url)
            if not outcome.retryable:
                self.pages.append(outcome.page)
                status = outcome.page.status_code or 0
                client_error = 400 <= status < 500 and allow_client_errors
                if outcome.page.error and not client_error:
                    self._fail(outcome.page.error)
                return outcome.page
            if attempt + 1 < attempts:
                self._wait_to_retry(attempt, outcome)
        self.pages.append(outcome.page)
        self._fail(f"{outcome.page.error} (gave up after {attempts} attempts)")

    def _before_request(self, url: str) -> None:
        if self.clock() >= self.deadline:
            self._fail(f"overall deadline of {self.policy.deadline_seconds:g}s passed before {url}")
        if self.owe_pause and self.pause > 0:
            self.sleep(self.pause)
        self.owe_pause = True

    def _wait_to_retry(self, attempt: int, outcome: Attempt) -> None:
        url, wait = outcome.page.url, outcome.retry_after
        if wait is not None and wait > self.policy.max_retry_after:
            self.pages.append(outcome.page)
            self._fail(
                f"{outcome.page.error} asks us to retry after {wait:g}s (Retry-After), "
                f"longer than the {self.policy.max_retry_after:g}s we wait"
            )
        if wait is None:
            jitter = random.uniform(0.5, 1.5)  # noqa: S311 - spreads retries, not a secret
            wait = self.policy.backoff_base * 2**attempt * jitter
        if self.clock() + wait >= self.deadline:
            self.pages.append(outcome.page)
            self._fail(f"overall deadline would pass while waiting to retry {url}")
        self.sleep(wait)
        self.owe_pause = False  # the retry wait already spaced the requests

    def _attempt(self, url: str) -> Attempt:
        return fetch_once(self.client, url, self.policy, self.deadline, self.clock)
