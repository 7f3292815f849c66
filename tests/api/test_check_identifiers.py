"""Certificate numbers and websites over HTTP (GET /v1/check, batch items), on SQLite and
PostgreSQL, with the sample register; and `as_of` with identifiers from the mirror's history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.db import make_engine, transaction
from app.models import OrganisationEvent, RegistryState
from tests.api.conftest import SyncSite, register_dev
from tests.support.sitegen import generate_site

SAFE_HANDS = "Safe-Hands® Training Ltd"  # certified, ACT5819, safehandstrainingltd.example.org.uk
KIND_HOMES = "Kind Homes Ltd"  # an affiliate of Safe-Hands


def check(client: TestClient, **params: str) -> dict[str, Any]:
    response = client.get("/v1/check", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [w["code"] for w in body["warnings"]]


@pytest.mark.parametrize("number", ["ACT5819", "act5819", "ACT 5819", "act-5819"])
def test_a_certificate_number_alone_finds_its_organisation(
    synced_client: TestClient, number: str
) -> None:
    body = check(synced_client, certificate_number=number)
    assert (body["verdict"], body["organisation"]["name"]) == ("certified", SAFE_HANDS)
    assert body["match"]["method"] == "certificate_number"
    assert (body["query"], body["certificate_number"]) == (None, "ACT5819")


@pytest.mark.parametrize(
    "website",
    [
        "safehandstrainingltd.example.org.uk",
        "www.safehandstrainingltd.example.org.uk",
        "https://www.safehandstrainingltd.example.org.uk/contact-us/",
        "HTTP://SAFEHANDSTRAININGLTD.EXAMPLE.ORG.UK:80/",
        "courses.safehandstrainingltd.example.org.uk",
    ],
)
def test_a_website_alone_finds_its_organisation(synced_client: TestClient, website: str) -> None:
    body = check(synced_client, website=website)
    assert (body["verdict"], body["organisation"]["name"]) == ("certified", SAFE_HANDS)
    assert body["match"]["method"] == "website"


@pytest.mark.parametrize(
    "website",
    ["safehandstrainingltd.co.uk", "safehandstrainingltds.example.org.uk", "example.org.uk"],
)
def test_lookalike_parent_and_other_domain_websites_find_no_one(
    synced_client: TestClient, website: str
) -> None:
    body = check(synced_client, website=website)
    assert body["verdict"] == "not_listed"
    assert codes(body) == ["website_unknown"]


def test_name_and_identifiers_that_agree_confirm_the_match(synced_client: TestClient) -> None:
    body = check(
        synced_client,
        name="SAFE-HANDS TRAINING LIMITED",
        certificate_number="ACT 5819",
        website="safehandstrainingltd.example.org.uk",
    )
    assert body["verdict"] == "certified"
    assert [c["kind"] for c in body["match"]["confirmed_by"]] == ["certificate_number", "website"]


def test_an_affiliate_named_with_its_parents_number_is_the_affiliate(
    synced_client: TestClient,
) -> None:
    body = check(synced_client, name=KIND_HOMES, certificate_number="ACT5819")
    assert (body["verdict"], body["organisation"]["name"]) == ("affiliate", KIND_HOMES)
    assert body["match"]["confirmed_by"][0]["relation"] == "parent"


def test_a_name_with_another_organisations_number_needs_review(
    synced_client: TestClient,
) -> None:
    body = check(synced_client, name="Open Minds Care Limited", certificate_number="ACT2094")
    assert (body["verdict"], body["meets_cqc_expectation"]) == ("needs_review", None)
    assert codes(body) == ["identifier_mismatch"]
    assert "STEADY uk" in body["warnings"][0]["message"]


def test_a_number_one_digit_from_a_real_one_is_unknown(synced_client: TestClient) -> None:
    alone = check(synced_client, certificate_number="ACT5818")
    assert (alone["verdict"], codes(alone)) == ("not_listed", ["certificate_number_unknown"])
    named = check(synced_client, name=SAFE_HANDS, certificate_number="ACT5818")
    assert (named["verdict"], codes(named)) == ("needs_review", ["certificate_number_unknown"])


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "name_empty"),
        ({"certificate_number": ""}, "name_empty"),
        ({"certificate_number": "ACT<5819>"}, "certificate_number_invalid"),
        ({"certificate_number": "A" * 51}, "certificate_number_invalid"),
        ({"certificate_number": "ACT\x005819"}, "certificate_number_invalid"),
        ({"website": "javascript:alert(1)"}, "website_invalid"),
        ({"website": "http://127.0.0.1:8000/"}, "website_invalid"),
        ({"website": "info@example.org.uk"}, "website_invalid"),
        ({"website": "co.uk"}, "website_invalid"),
        ({"website": "a" * 2001}, "website_invalid"),
        ({"website": "exa\x00mple.org.uk"}, "website_invalid"),
        ({"name": "Acme", "website": "http://exa mple.org.uk"}, "website_invalid"),
    ],
)
def test_bad_identifiers_are_a_422_problem_with_a_stable_code(
    synced_client: TestClient, params: dict[str, str], code: str
) -> None:
    response = synced_client.get("/v1/check", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_batch_items_take_identifiers_with_their_own_errors(synced_client: TestClient) -> None:
    queries = [
        {"certificate_number": "act-5819"},
        {"website": "https://www.steadyuk.example.org.uk/contact-us/"},
        {"name": KIND_HOMES, "certificate_number": "ACT5819"},
        {"name": "Open Minds Care Limited", "certificate_number": "ACT2094"},
        {"website": "not a website"},
        {},
    ]
    response = synced_client.post("/v1/check/batch", json={"queries": queries})
    assert response.status_code == 200
    results = response.json()["results"]
    single = [check(synced_client, **q) for q in queries[:4]]
    for item, expected in zip(results[:4], single, strict=True):
        assert item["result"] == expected
    assert [r["result"]["verdict"] for r in results[:4]] == [
        "certified",
        "certified",
        "affiliate",
        "needs_review",
    ]
    assert results[4]["error"]["code"] == "website_invalid"
    assert results[5]["error"]["code"] == "name_empty"


def test_the_etag_changes_with_the_identifier(synced_client: TestClient) -> None:
    first = synced_client.get("/v1/check", params={"certificate_number": "ACT5819"})
    same = synced_client.get(
        "/v1/check",
        params={"certificate_number": "act 5819"},
        headers={"If-None-Match": first.headers["etag"]},
    )
    assert same.status_code == 304  # the same number, written otherwise, is the same question
    other = synced_client.get("/v1/check", params={"certificate_number": "ACT2094"})
    assert other.headers["etag"] != first.headers["etag"]


def _renumbered() -> dict[str, bytes]:
    orgs = register_dev()
    for org in orgs:
        if org["name"] == SAFE_HANDS:
            org["certificate_number"] = "ACT7777"
            org["website"] = "https://www.safehands-new.example.org.uk/"
    return generate_site(orgs)


def _backdate_first_sync(settings: Settings, days: int) -> None:
    """Move the first sync (version 1) and its events `days` into the past."""
    engine = make_engine(settings.sqlalchemy_url)
    shift = dt.timedelta(days=days)
    try:
        with transaction(engine) as session:
            first = select(OrganisationEvent).where(OrganisationEvent.registry_version == 1)
            for event in session.scalars(first):
                event.observed_at -= shift
            state = session.get_one(RegistryState, 1)
            assert state.first_synced_at is not None
            state.first_synced_at -= shift
    finally:
        engine.dispose()


def test_as_of_answers_with_the_identifiers_of_that_date(
    synced_client: TestClient, sync_site: SyncSite, api_settings: Settings, app: FastAPI
) -> None:
    sync_site(_renumbered())
    _backdate_first_sync(api_settings, days=10)
    app.state.holder.refresh(force=True)
    earlier = (dt.datetime.now(dt.UTC) - dt.timedelta(days=5)).date().isoformat()
    then = check(synced_client, certificate_number="ACT5819", as_of=earlier)
    assert (then["verdict"], then["organisation"]["name"]) == ("certified", SAFE_HANDS)
    now = check(synced_client, certificate_number="ACT5819")
    assert (now["verdict"], codes(now)) == ("not_listed", ["certificate_number_unknown"])
    assert check(synced_client, certificate_number="ACT7777")["organisation"]["name"] == SAFE_HANDS
    site = check(synced_client, website="safehandstrainingltd.example.org.uk", as_of=earlier)
    assert site["organisation"]["name"] == SAFE_HANDS
    new_site_then = check(synced_client, website="safehands-new.example.org.uk", as_of=earlier)
    assert codes(new_site_then) == ["website_unknown"]


def test_identifiers_with_a_lone_surrogate_are_their_items_own_error(
    synced_client: TestClient,
) -> None:
    content = (
        '{"queries": [{"certificate_number": "ACT\\ud800"}, {"certificate_number": "ACT5819"},'
        ' {"website": "example.org.uk/\\udc80"}, {"name": "x", "website": "\\ud83d.co.uk"}]}'
    )
    response = synced_client.post(
        "/v1/check/batch", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[1]["result"]["verdict"] == "certified"
    codes = [item["error"] and item["error"]["code"] for item in results]
    assert codes == ["invalid_encoding", None, "invalid_encoding", "invalid_encoding"]


@pytest.mark.parametrize(
    "name",
    [
        "O'Connell & Rees Associates LLP – Training Team",
        "O'Connell & Rees Associates LLP (London)",
        "O'Connell & Rees Associates LLP - Truro office",
        "O'Connell & Rees Associates LLP, company number 12616925",
        "O'Connell & Rees Associates LLP [Reg. 12616925]",
    ],
)
def test_names_as_forms_write_them_match_over_http(synced_client: TestClient, name: str) -> None:
    body = check(synced_client, name=name)
    assert (body["verdict"], body["organisation"]["name"]) == (
        "certified",
        "O'Connell & Rees Associates LLP",
    )
    assert body["match"]["method"] == "exact"


def test_a_holding_group_named_after_a_listed_company_is_not_it(
    synced_client: TestClient,
) -> None:
    body = check(synced_client, name="Safer Voices Training Holdings Group plc")
    assert body["verdict"] in {"needs_review", "not_listed"}
