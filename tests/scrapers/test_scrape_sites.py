"""Whole scrapes over real HTTP on 127.0.0.1: the sample site and generated sites."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from scrapers import FetchPolicy, ListingStatus, make_client, scrape_register
from tests.conftest import REGISTER_DEV, SAMPLE_SITE
from tests.support.httpserver import redirect, serve_directory, serve_site
from tests.support.sitegen import generate_register, generate_site, renamed, row_to_org

POLICY = FetchPolicy(pause_seconds=0.0, read_timeout=5.0, deadline_seconds=30.0)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client(POLICY) as client:
        yield client


def load_register_dev() -> list[dict[str, Any]]:
    return list(json.loads(REGISTER_DEV.read_text(encoding="utf-8")))


def test_sample_site_parses_to_exactly_the_dev_register(client: httpx.Client) -> None:
    with serve_directory(SAMPLE_SITE) as server:
        result = scrape_register(client, server.url, POLICY)
    truth = load_register_dev()
    assert Counter(row.status for row in result.rows) == {
        ListingStatus.CERTIFIED: 46,
        ListingStatus.AFFILIATE: 38,
        ListingStatus.WORKING_TOWARDS: 14,
    }
    got = [row_to_org(row) for row in result.rows]
    for expected, actual in zip(truth, got, strict=True):
        assert actual == expected
    assert result.problems == []


def test_sample_site_scrape_keeps_robots_and_every_listing_page(client: httpx.Client) -> None:
    seen: list[str] = []
    with serve_directory(SAMPLE_SITE) as server:
        result = scrape_register(client, server.url, POLICY, on_page=seen.append)
        base = server.url
    listing = [
        "/certified-organisations/",
        "/certified-organisations/page/2/",
        "/certified-organisations/page/3/",
        "/affiliate-organisations/",
        "/working-towards-certification/",
    ]
    assert [page.url for page in result.pages] == [base + "/robots.txt"] + [
        base + p for p in listing
    ]
    assert seen == [base + p for p in listing]
    assert all(page.status_code == 200 and page.error is None for page in result.pages)
    assert {row.source_url for row in result.rows if row.status is ListingStatus.AFFILIATE} == {
        base + "/affiliate-organisations/"
    }


def test_requests_carry_the_policy_user_agent(client: httpx.Client) -> None:
    policy = FetchPolicy(
        user_agent="certlookup/9 (+contact: someone@example.invalid)", pause_seconds=0
    )
    with serve_directory(SAMPLE_SITE) as server:
        scrape_register(client, server.url, policy)
        agents = {request.headers["User-Agent"] for request in server.requests}
    assert agents == {policy.user_agent}


@pytest.mark.parametrize("seed", [11, 12])
def test_generated_site_with_other_names_and_markup_variations_round_trips(
    client: httpx.Client, seed: int
) -> None:
    orgs = generate_register(300, seed=seed)
    with serve_site(generate_site(orgs, seed=seed, page_size=20)) as server:
        result = scrape_register(client, server.url, POLICY)
    assert result.problems == []
    assert len([p for p in result.pages if "/certified-organisations/" in p.url]) == 7  # 135 / 20
    got = [row_to_org(row) for row in result.rows]
    for expected, actual in zip(orgs, got, strict=True):
        assert actual == expected


def test_generated_site_reflects_a_rename_with_the_former_name(client: httpx.Client) -> None:
    orgs = generate_register(40, seed=5)
    orgs[1] = renamed(orgs[1], "Brand New Name Ltd")
    with serve_site(generate_site(orgs, seed=5)) as server:
        result = scrape_register(client, server.url, POLICY)
    row = result.rows[1]
    assert row.name == "Brand New Name Ltd"
    assert row.former_names[-1] == generate_register(40, seed=5)[1]["name"]
    assert [row_to_org(r) for r in result.rows] == orgs


def test_site_whose_certified_markup_changed_yields_zero_certified_rows(
    client: httpx.Client,
) -> None:
    orgs = generate_register(60, seed=3)
    site = generate_site(orgs, seed=3, page_size=100)
    changed = site["/certified-organisations/"].replace(b"directory-entry", b"provider-card")
    site["/certified-organisations/"] = changed
    with serve_site(site) as server:
        result = scrape_register(client, server.url, POLICY)
    statuses = Counter(row.status for row in result.rows)
    assert statuses[ListingStatus.CERTIFIED] == 0
    assert statuses[ListingStatus.AFFILIATE] == 24
    assert any("no entries match" in problem for problem in result.problems)


def test_missing_robots_txt_means_everything_is_allowed(client: httpx.Client) -> None:
    site = generate_site(generate_register(20, seed=1), seed=1)
    del site["/robots.txt"]
    with serve_site(site) as server:
        result = scrape_register(client, server.url, POLICY)
    assert result.pages[0].status_code == 404
    assert len(result.rows) == 20


def test_a_redirected_listing_page_is_followed_and_parsed(client: httpx.Client) -> None:
    site = generate_site(generate_register(20, seed=2), seed=2)
    old, new = "/working-towards-certification/", "/working-towards-certification/new/"
    with serve_site(site) as server:
        server.routes[new] = server.routes.pop(old)
        server.routes[old] = redirect(new, 301)
        result = scrape_register(client, server.url, POLICY)
        assert result.pages[-1].url == server.url_for(new)
    assert sum(row.status is ListingStatus.WORKING_TOWARDS for row in result.rows) == 3
