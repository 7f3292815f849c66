"""What OpenRefine's browser calls at the manifest's URLs: suggest (entities, types,
properties), property proposals and the preview card; each validated against the 0.2
schemas, called exactly as OpenRefine builds the URL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from app.reconcile.preview import preview_card
from tests.reconcile.spec import VERSIONS, assert_valid


def _service_url(manifest: dict[str, object], kind: str) -> str:
    suggest = manifest["suggest"]
    assert isinstance(suggest, dict)
    service = suggest[kind]
    return urlsplit(service["service_url"] + service["service_path"]).path


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("kind", "schema", "prefix", "expected"),
    [
        ("entity", "suggest_entities", "safe-ha", "Safe-Hands® Training Ltd"),
        ("entity", "suggest_entities", "SAFE HANDS", "Safe-Hands® Training Ltd"),
        ("entity", "suggest_entities", "hands", "Safe-Hands® Training Ltd"),
        ("entity", "suggest_entities", "safe hnads", "Safe-Hands® Training Ltd"),
        ("type", "suggest_types", "cert", "Certified training service"),
        ("type", "suggest_types", "working", "Working towards certification"),
        ("type", "suggest_types", "afiliate", "Affiliate organisation"),
        ("property", "suggest_properties", "valid", "Valid until"),
        ("property", "suggest_properties", "certificate", "Certificate number"),
        ("property", "suggest_properties", "webiste", "Website"),
    ],
)
def test_suggest_finds_by_prefix_and_by_likeness(
    recon: TestClient, version: str, kind: str, schema: str, prefix: str, expected: str
) -> None:
    manifest = recon.get("/reconcile").json()
    response = recon.get(_service_url(manifest, kind), params={"prefix": prefix})
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    assert_valid(version, schema, body)
    assert expected in [item["name"] for item in body["result"]][:3]


def test_entity_suggestions_page_with_the_cursor(recon: TestClient) -> None:
    first = recon.get("/reconcile/suggest/entity", params={"prefix": "tr"}).json()["result"]
    second = recon.get(
        "/reconcile/suggest/entity", params={"prefix": "tr", "cursor": len(first)}
    ).json()["result"]
    assert len(first) == 10
    assert second
    assert not {s["id"] for s in first} & {s["id"] for s in second}


@pytest.mark.parametrize("prefix", ["", "   ", "zzqxj", "%", "\u00a0"])
def test_nothing_to_suggest_is_an_empty_result(recon: TestClient, prefix: str) -> None:
    response = recon.get("/reconcile/suggest/entity", params={"prefix": prefix})
    assert response.status_code == 200
    assert response.json() == {"result": []}


def test_suggest_refuses_bad_parameters(recon: TestClient) -> None:
    for params in ({}, {"prefix": "x" * 301}, {"prefix": "a", "cursor": "-1"}):
        response = recon.get("/reconcile/suggest/entity", params=params)
        assert response.status_code == 422, params


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("type_id", ["certified", "affiliate", "", "unknown"])
def test_property_proposals_as_openrefine_asks_for_them(
    recon: TestClient, version: str, type_id: str
) -> None:
    manifest = recon.get("/reconcile").json()
    proposal = manifest["extend"]["propose_properties"]
    # OpenRefine concatenates service_url, service_path and "?type=" + the id, unencoded.
    url = proposal["service_url"] + proposal["service_path"] + "?type=" + type_id
    response = recon.get(urlsplit(url).path + "?" + urlsplit(url).query)
    assert response.status_code == 200, response.text
    body = response.json()
    assert_valid(version, "property_proposal", body)
    assert body["type"] == type_id
    ids = [p["id"] for p in body["properties"]]
    assert {"status", "valid_until", "parent", "last_changed"} <= set(ids)
    limited = recon.get(proposal["service_path"], params={"type": type_id, "limit": 2}).json()
    assert [p["id"] for p in limited["properties"]] == ids[:2]
    assert limited["limit"] == 2


def _preview(recon: TestClient, organisation_id: str) -> str:
    manifest = recon.get("/reconcile").json()
    # OpenRefine replaces {{id}} and applies encodeURI to the whole URL.
    url = urlsplit(manifest["preview"]["url"].replace("{{id}}", organisation_id))
    response = recon.get(f"{url.path}?{url.query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def test_the_preview_card_shows_the_entry_and_may_be_framed(recon: TestClient) -> None:
    found = recon.post(
        "/reconcile", data={"queries": '{"q": {"query": "Calder County Council"}}'}
    ).json()["q"]["result"][0]
    html = _preview(recon, found["id"])
    assert "<h1>Calder County Council</h1>" in html
    assert "Affiliate organisation" in html
    assert "Positive &amp; Safer Training Ltd" in html  # the parent, escaped
    assert "Approved" in html
    assert "Register as of" in html
    response = recon.get("/reconcile/preview", params={"id": found["id"]})
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors *" in policy
    assert "x-frame-options" not in response.headers
    assert "script-src" not in policy  # default-src 'none': no script may run
    assert re.search(r"style-src 'sha256-[A-Za-z0-9+/=]+'", policy)


def test_the_preview_loads_nothing_from_elsewhere(recon: TestClient) -> None:
    html = _preview(recon, "3")
    assert "<script" not in html
    assert not re.search(r"(src|href)=", html)
    assert "Certificate" in html
    assert "Valid until" in html


def test_other_responses_still_may_not_be_framed(recon: TestClient) -> None:
    for path in ("/reconcile", "/reconcile/suggest/type?prefix=c"):
        response = recon.get(path)
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("organisation_id", ["999999", "abc", "-1", "9" * 30, ""])
def test_an_unknown_preview_id_is_404_or_422(recon: TestClient, organisation_id: str) -> None:
    response = recon.get("/reconcile/preview", params={"id": organisation_id})
    assert response.status_code in {404, 422}
    assert response.headers["content-type"] == "application/problem+json"


def test_every_text_on_the_card_is_escaped(recon: TestClient) -> None:
    snapshot = recon.app.state.holder.snapshot  # type: ignore[attr-defined]
    org = snapshot.organisations[3]
    hostile = '<img src=x onerror="alert(1)">&'
    card = preview_card(
        snapshot,
        dataclasses.replace(
            org, name=hostile, certificate_number=hostile, names=((hostile + "x", "former"),)
        ),
        dt.date(2026, 1, 1),
    )
    assert "<img" not in card
    assert card.count("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;") == 4
