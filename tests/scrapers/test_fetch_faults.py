"""Every way a fetch can go wrong ends in a ScrapeError with a clear reason and the pages so far."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from email.utils import format_datetime

import pytest

from scrapers import FetchPolicy, ScrapeError, ScrapeResult, make_client, scrape_register
from tests.support.httpserver import (
    LocalServer,
    Response,
    delayed,
    invalid_utf8,
    oversized,
    redirect,
    robots_txt,
    sequence,
    serve_site,
    status,
    truncated,
    unused_port,
)
from tests.support.sitegen import generate_register, generate_site

FAST = FetchPolicy(
    pause_seconds=0.0,
    connect_timeout=1.0,
    read_timeout=2.0,
    deadline_seconds=15.0,
    max_retries=2,
    backoff_base=0.01,
)
CERTIFIED = "/certified-organisations/"
PAGE_2 = "/certified-organisations/page/2/"
PAGE_3 = "/certified-organisations/page/3/"
AFFILIATES = "/affiliate-organisations/"
WORKING = "/working-towards-certification/"


class RecordingSleep:
    """Stands in for time.sleep: records the waits asked for, waits for none."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    """A generated 30-organisation site; certified entries span three pages."""
    site = generate_site(generate_register(30, seed=4), seed=4, page_size=5)
    with serve_site(site) as server:
        yield server


def scrape(
    url: str, policy: FetchPolicy = FAST, sleep: RecordingSleep | None = None
) -> ScrapeResult:
    with make_client(policy) as client:
        return scrape_register(client, url, policy, sleep=sleep or RecordingSleep())


def scrape_error(
    url: str, policy: FetchPolicy = FAST, sleep: RecordingSleep | None = None
) -> ScrapeError:
    with pytest.raises(ScrapeError) as info:
        scrape(url, policy, sleep)
    assert info.value.reason == str(info.value)
    return info.value


def test_well_behaved_site_scrapes_without_errors(server: LocalServer) -> None:
    result = scrape(server.url)
    assert len(result.rows) == 30
    assert server.paths_requested() == [
        "/robots.txt",
        CERTIFIED,
        PAGE_2,
        PAGE_3,
        AFFILIATES,
        WORKING,
    ]


def test_connection_refused_fails_naming_the_url_after_retries() -> None:
    sleep = RecordingSleep()
    base = f"http://127.0.0.1:{unused_port()}"
    error = scrape_error(base, sleep=sleep)
    assert error.reason.startswith(
        f"cannot read robots.txt: could not connect to {base}/robots.txt"
    )
    assert "gave up after 3 attempts" in error.reason
    assert [(p.url, p.status_code) for p in error.pages] == [(base + "/robots.txt", None)]
    assert len(sleep.calls) == 2  # backoff between the three attempts


def test_read_timeout_fails_and_keeps_the_pages_fetched_so_far(server: LocalServer) -> None:
    server.routes[WORKING] = delayed(server.canned(WORKING), 1.5)
    policy = replace(FAST, read_timeout=0.2, max_retries=1)
    error = scrape_error(server.url, policy)
    assert error.reason.startswith(f"timed out fetching {server.url}{WORKING} (ReadTimeout)")
    assert [p.status_code for p in error.pages] == [200, 200, 200, 200, 200, None]
    assert error.pages[-1].error is not None


def test_http_500_fails_after_retries_with_the_failing_response(server: LocalServer) -> None:
    server.routes[AFFILIATES] = status(500)
    sleep = RecordingSleep()
    error = scrape_error(server.url, sleep=sleep)
    assert error.reason == (
        f"HTTP 500 Internal Server Error from {server.url}{AFFILIATES} (gave up after 3 attempts)"
    )
    assert server.paths_requested().count(AFFILIATES) == 3
    assert (error.pages[-1].status_code, error.pages[-1].content) == (500, b"status 500\n")
    assert [p.url for p in error.pages[:2]] == [
        server.url_for("/robots.txt"),
        server.url_for(CERTIFIED),
    ]
    assert len(sleep.calls) == 2
    assert all(0 < s < 1 for s in sleep.calls)


def test_429_with_retry_after_is_waited_out_then_succeeds(server: LocalServer) -> None:
    server.routes[WORKING] = sequence(status(429, retry_after=7), server.canned(WORKING))
    sleep = RecordingSleep()
    result = scrape(server.url, sleep=sleep)
    assert sleep.calls == [7.0]
    assert server.paths_requested().count(WORKING) == 2
    assert len(result.rows) == 30


def test_retry_after_given_as_an_http_date_is_honoured(server: LocalServer) -> None:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10)
    retry_after = format_datetime(when, usegmt=True)
    server.routes[AFFILIATES] = sequence(
        status(503, retry_after=retry_after), server.canned(AFFILIATES)
    )
    sleep = RecordingSleep()
    scrape(server.url, sleep=sleep)
    assert len(sleep.calls) == 1
    assert 5 <= sleep.calls[0] <= 10


def test_429_forever_fails_after_retries(server: LocalServer) -> None:
    server.routes[PAGE_2] = status(429, retry_after=1)
    sleep = RecordingSleep()
    error = scrape_error(server.url, sleep=sleep)
    assert error.reason.startswith(f"HTTP 429 Too Many Requests from {server.url}{PAGE_2}")
    assert sleep.calls == [1.0, 1.0]
    assert error.pages[-1].status_code == 429


def test_retry_after_longer_than_allowed_fails_without_waiting(server: LocalServer) -> None:
    server.routes[CERTIFIED] = status(503, retry_after=3600)
    sleep = RecordingSleep()
    error = scrape_error(server.url, sleep=sleep)
    assert "Retry-After" in error.reason
    assert "3600s" in error.reason
    assert sleep.calls == []
    assert server.paths_requested().count(CERTIFIED) == 1


def test_body_cut_short_of_its_content_length_fails_as_truncated(server: LocalServer) -> None:
    body = server.canned(PAGE_2).body
    server.routes[PAGE_2] = truncated(body, declare_full_length=True)
    error = scrape_error(server.url)
    assert error.reason.startswith(f"response from {server.url}{PAGE_2} looks truncated")
    assert server.paths_requested().count(PAGE_2) == 3


def test_page_without_closing_html_fails_as_truncated(server: LocalServer) -> None:
    body = server.canned(PAGE_2).body
    server.routes[PAGE_2] = truncated(body, declare_full_length=False)
    error = scrape_error(server.url)
    assert error.reason == f"{server.url}{PAGE_2}: page looks truncated (no closing </html>)"
    assert error.pages[-1].error == error.reason
    assert error.pages[-1].content == body[: len(body) // 2]


def test_path_disallowed_by_robots_txt_is_never_requested(server: LocalServer) -> None:
    server.routes["/robots.txt"] = robots_txt(
        "User-agent: *\nDisallow: /affiliate-organisations/\n"
    )
    error = scrape_error(server.url)
    assert error.reason == f"robots.txt disallows {server.url}{AFFILIATES} for our user agent"
    assert AFFILIATES not in server.paths_requested()
    assert len(error.pages) == 4  # robots.txt and the three certified pages


def test_robots_rules_for_our_user_agent_apply_to_pagination(server: LocalServer) -> None:
    rules = (
        "User-agent: *\nAllow: /\n\n"
        "User-agent: certlookup\nDisallow: /certified-organisations/page/\n"
    )
    server.routes["/robots.txt"] = robots_txt(rules)
    error = scrape_error(server.url)
    assert "robots.txt disallows" in error.reason
    assert PAGE_2 in error.reason
    assert server.paths_requested() == ["/robots.txt", CERTIFIED]


def test_robots_txt_server_error_fails_before_any_listing_page(server: LocalServer) -> None:
    server.routes["/robots.txt"] = status(503)
    error = scrape_error(server.url)
    assert error.reason.startswith("cannot read robots.txt: HTTP 503")
    assert set(server.paths_requested()) == {"/robots.txt"}


def test_redirect_loop_fails_with_too_many_redirects(server: LocalServer) -> None:
    server.routes[CERTIFIED] = redirect(CERTIFIED)
    error = scrape_error(server.url)
    assert error.reason == f"too many redirects fetching {server.url}{CERTIFIED} (limit 5)"
    assert error.pages[-1].error == error.reason


@pytest.mark.parametrize("send_length", [True, False], ids=["declared", "streamed"])
def test_oversized_page_fails_without_reading_it_all(
    server: LocalServer, send_length: bool
) -> None:
    server.routes[AFFILIATES] = oversized(200_000, send_length=send_length)
    error = scrape_error(server.url, replace(FAST, max_page_bytes=50_000))
    assert error.reason.startswith(f"{server.url}{AFFILIATES}: page too large")
    assert len(error.pages[-1].content) <= 50_000
    assert server.paths_requested().count(AFFILIATES) == 1  # not retried


def test_invalid_utf8_page_fails(server: LocalServer) -> None:
    server.routes[WORKING] = invalid_utf8()
    error = scrape_error(server.url)
    assert error.reason.startswith(f"{server.url}{WORKING} is not valid UTF-8")


def test_non_html_listing_page_fails(server: LocalServer) -> None:
    server.routes[AFFILIATES] = Response(body=b"{}", headers={"Content-Type": "application/json"})
    error = scrape_error(server.url)
    assert error.reason == f"{server.url}{AFFILIATES} is application/json, not an HTML page"


def _with_next_link(response: Response, href: str) -> Response:
    nav = f'<nav class="pagination"><a class="next" href="{href}">Next</a></nav></main>'
    return replace(response, body=response.body.replace(b"</main>", nav.encode()))


def test_pagination_loop_is_detected_and_fails(server: LocalServer) -> None:
    server.routes[PAGE_3] = _with_next_link(server.canned(PAGE_3), CERTIFIED)
    error = scrape_error(server.url)
    assert error.reason == (
        f"pagination loop: the next link on {server.url}{PAGE_3} "
        f"points back to {server.url}{CERTIFIED}"
    )
    assert server.paths_requested().count(CERTIFIED) == 1


def test_next_link_to_another_site_is_not_followed(server: LocalServer) -> None:
    server.routes[PAGE_3] = _with_next_link(server.canned(PAGE_3), "https://elsewhere.invalid/p/")
    error = scrape_error(server.url)
    assert "leaves the site: https://elsewhere.invalid/p/" in error.reason


def test_page_count_cap_stops_the_crawl(server: LocalServer) -> None:
    error = scrape_error(server.url, replace(FAST, max_pages=2))
    assert error.reason == f"more than 2 pages; stopped before {server.url}{PAGE_3}"
    assert PAGE_3 not in server.paths_requested()


def test_overall_deadline_stops_a_slow_scrape(server: LocalServer) -> None:
    for path in ("/robots.txt", CERTIFIED, PAGE_2, PAGE_3):
        server.routes[path] = delayed(server.canned(path), 0.3)
    error = scrape_error(server.url, replace(FAST, deadline_seconds=0.7, read_timeout=5.0))
    assert error.reason.startswith("overall deadline of 0.7s passed")
    assert server.url + CERTIFIED in error.reason  # names the page it was on (1, 2 or 3)


def test_politeness_pause_separates_every_request(server: LocalServer) -> None:
    sleep = RecordingSleep()
    scrape(server.url, replace(FAST, pause_seconds=0.5), sleep)
    assert sleep.calls == [0.5] * (len(server.requests) - 1)


def test_robots_crawl_delay_lengthens_the_pause(server: LocalServer) -> None:
    server.routes["/robots.txt"] = robots_txt("User-agent: *\nCrawl-delay: 3\n")
    sleep = RecordingSleep()
    scrape(server.url, replace(FAST, pause_seconds=0.5), sleep)
    assert sleep.calls == [3.0] * (len(server.requests) - 1)


def test_unsupported_url_scheme_fails_at_once_without_retries() -> None:
    sleep = RecordingSleep()
    error = scrape_error("ftp://127.0.0.1/register", sleep=sleep)
    assert error.reason.startswith(
        "cannot read robots.txt: fetching ftp://127.0.0.1/robots.txt failed"
    )
    assert sleep.calls == []
