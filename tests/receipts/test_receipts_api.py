"""Receipts over HTTP: issue, read back (JSON and HTML), isolation, verify, JWKS, rotation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.receipts.keys import generate_pem, parse_key, public_pem
from tests.receipts import CERTIFIED_NAME, issue, read_key, tampered


def test_a_receipt_holds_the_full_check_result_and_verifies(
    synced_client: TestClient, app: FastAPI
) -> None:
    headers = read_key(app)
    receipt = issue(
        synced_client, headers, name=CERTIFIED_NAME, setting="cqc", reference="tender 114 B-01"
    )
    check = synced_client.get("/v1/check", params={"name": CERTIFIED_NAME}).json()
    assert list(receipt) == ["id", "issued_at", "client", "reference", "result", "jws", "url"]
    assert receipt["result"] == check
    assert receipt["result"]["verdict"] == "certified"
    assert (receipt["client"], receipt["reference"]) == ("kent-cc", "tender 114 B-01")
    assert receipt["url"] == f"http://testserver/v1/receipts/{receipt['id']}"
    verdict = synced_client.post("/v1/receipts/verify", json={"jws": receipt["jws"]}).json()
    assert verdict["valid"] is True
    signed = {k: v for k, v in receipt.items() if k != "jws"}
    assert verdict["receipt"] == signed, "the JWS is over the receipt without jws"


def test_identifiers_alone_get_a_receipt_too(synced_client: TestClient, app: FastAPI) -> None:
    check = synced_client.get("/v1/check", params={"certificate_number": "act 5819"}).json()
    receipt = issue(synced_client, read_key(app), certificate_number="act 5819")
    assert receipt["result"] == check


def test_a_receipt_is_served_again_exactly_as_issued_to_its_own_client_only(
    synced_client: TestClient, app: FastAPI
) -> None:
    owner, other = read_key(app, "kent-cc"), read_key(app, "surrey-cc")
    receipt = issue(synced_client, owner, name=CERTIFIED_NAME)
    again = synced_client.get(f"/v1/receipts/{receipt['id']}", headers=owner)
    assert again.status_code == 200
    assert again.json() == receipt
    stranger = synced_client.get(f"/v1/receipts/{receipt['id']}", headers=other)
    assert stranger.status_code == 404
    assert stranger.json()["code"] == "receipt_not_found"
    html = synced_client.get(
        f"/v1/receipts/{receipt['id']}", headers={**other, "Accept": "text/html"}
    )
    assert html.status_code == 404
    unknown = synced_client.get("/v1/receipts/rcpt_" + "0" * 32, headers=owner)
    assert unknown.status_code == 404


def test_receipts_need_an_api_key_even_when_reads_are_public(
    synced_client: TestClient, app: FastAPI
) -> None:
    response = synced_client.post("/v1/receipts", json={"name": CERTIFIED_NAME})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    receipt = issue(synced_client, read_key(app), name=CERTIFIED_NAME)
    assert synced_client.get(f"/v1/receipts/{receipt['id']}").status_code == 401


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "name_empty"),
        ({"name": "x" * 301}, "name_too_long"),
        ({"name": "Acme", "as_of": "2024-02-30"}, "invalid_date"),
        ({"name": "Acme", "setting": "nhs"}, "invalid_setting"),
        ({"name": "Acme", "reference": "r" * 201}, "invalid_reference"),
        ({"name": "Acme", "certificate_number": "???"}, "certificate_number_invalid"),
        ({"name": "Acme", "jws": "x"}, "validation_error"),
        ({"name": "Acme\ud800"}, "invalid_encoding"),
    ],
)
def test_invalid_requests_are_refused_with_the_check_codes_and_no_receipt(
    synced_client: TestClient, app: FastAPI, body: dict[str, object], code: str
) -> None:
    headers = {**read_key(app), "Content-Type": "application/json"}
    response = synced_client.post("/v1/receipts", content=json.dumps(body), headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code


def test_verify_says_why_a_token_is_not_valid_and_never_fails(
    synced_client: TestClient, app: FastAPI
) -> None:
    receipt = issue(synced_client, read_key(app), name=CERTIFIED_NAME)
    other_key = create_app(_other_key_settings(app)).state.receipt_keys
    from app.receipts.signing import sign

    foreign = sign(other_key, json.dumps({"id": "x", "result": {}}).encode())
    cases = {
        tampered(receipt["jws"]): "bad_signature",
        foreign: "unknown_key",
        "not-a-jws": "malformed",
        "": "malformed",
        "a.b.c": "malformed",
    }
    for token, reason in cases.items():
        response = synced_client.post("/v1/receipts/verify", json={"jws": token})
        assert response.status_code == 200, response.text
        assert response.json()["valid"] is False
        assert response.json()["reason"] == reason
        assert response.json()["receipt"] is None


def _other_key_settings(app: FastAPI) -> Settings:
    settings: Settings = app.state.settings
    return settings.model_copy(update={"receipt_signing_key": None})


def test_the_jwks_publishes_the_signing_key_publicly(synced_client: TestClient) -> None:
    response = synced_client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert "public" in response.headers["cache-control"]
    (key,) = response.json()["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert "d" not in key


def test_receipts_signed_before_a_rotation_still_verify_and_are_still_served(
    database_url: str, api_settings: Settings, sample_synced: object, tmp_path: Path
) -> None:
    old_pem = generate_pem()
    before = api_settings.model_copy(update={"receipt_signing_key": _secret(old_pem)})
    old_app = create_app(before)
    with TestClient(old_app) as client:
        receipt = issue(client, read_key(old_app), name=CERTIFIED_NAME)
    retired = tmp_path / "retired.pem"
    retired.write_text(public_pem(parse_key(old_pem, private=True)))
    after = api_settings.model_copy(
        update={
            "receipt_signing_key": _secret(generate_pem()),
            "receipt_retired_keys": [str(retired)],
        }
    )
    new_app = create_app(after)
    with TestClient(new_app) as client:
        kids = [key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]]
        assert len(kids) == 2
        verdict = client.post("/v1/receipts/verify", json={"jws": receipt["jws"]}).json()
        assert verdict["valid"] is True
        assert verdict["kid"] == kids[1]
        fresh = issue(client, read_key(new_app, "surrey-cc"), name=CERTIFIED_NAME)
        fresh_check = client.post("/v1/receipts/verify", json={"jws": fresh["jws"]}).json()
        assert fresh_check["kid"] == kids[0]
    forgotten = api_settings.model_copy(update={"receipt_signing_key": _secret(generate_pem())})
    with TestClient(create_app(forgotten)) as client:
        verdict = client.post("/v1/receipts/verify", json={"jws": receipt["jws"]}).json()
        assert verdict["reason"] == "unknown_key"


def _secret(pem: str) -> object:
    from pydantic import SecretStr

    return SecretStr(pem)


def test_the_printable_receipt_escapes_everything_and_loads_nothing_from_elsewhere(
    synced_client: TestClient, app: FastAPI
) -> None:
    headers = read_key(app)
    hostile = '<script>alert("x")</script> & Co'
    receipt = issue(synced_client, headers, name=hostile, reference='<img src=x onerror="1">')
    page = synced_client.get(
        f"/v1/receipts/{receipt['id']}",
        headers={**headers, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
    )
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "<script" not in text
    assert "<img" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in text
    tags = _tags(text)
    assert {tag for tag, _ in tags} <= PAGE_TAGS, "no script, image, link or frame"
    links = [value for _, attrs in tags for name, value in attrs if name in {"href", "action"}]
    assert links
    assert all(link.startswith("http://testserver/") for link in links), links
    assert "default-src 'none'" in page.headers["content-security-policy"]
    for part in ("What was asked", "The answer", "The evidence", "Register version"):
        assert part in text
    assert receipt["jws"] in text
    assert "/.well-known/jwks.json" in text
    assert 'action="http://testserver/receipts/verify"' in text


PAGE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "dl", "dt", "dd",
    "a", "code", "form", "input", "button", "pre",
}  # fmt: skip


def _tags(text: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    from html.parser import HTMLParser

    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collector().feed(text)
    return found


def test_the_printable_receipts_verify_form_answers_with_a_page(
    synced_client: TestClient, app: FastAPI
) -> None:
    receipt = issue(synced_client, read_key(app), name=CERTIFIED_NAME)
    good = synced_client.post("/receipts/verify", data={"jws": receipt["jws"]})
    assert good.status_code == 200
    assert "Valid receipt" in good.text
    bad = synced_client.post("/receipts/verify", data={"jws": tampered(receipt["jws"])})
    assert "NOT a valid receipt" in bad.text
    assert "bad_signature" in bad.text


def test_json_is_the_default_and_html_only_when_preferred(
    synced_client: TestClient, app: FastAPI
) -> None:
    headers = read_key(app)
    receipt = issue(synced_client, headers, name=CERTIFIED_NAME)
    url = f"/v1/receipts/{receipt['id']}"
    for accept in ("*/*", "application/json", "application/json, text/html;q=0.5", ""):
        response = synced_client.get(url, headers={**headers, "Accept": accept})
        assert response.headers["content-type"] == "application/json", accept
    for accept in ("text/html", "text/*", "application/json;q=0.5, text/html"):
        response = synced_client.get(url, headers={**headers, "Accept": accept})
        assert response.headers["content-type"].startswith("text/html"), accept


def test_receipts_are_stored_once_and_never_change(synced_client: TestClient, app: FastAPI) -> None:
    from sqlalchemy import func, select

    from app.db import transaction
    from app.models import Receipt

    headers = read_key(app)
    first = issue(synced_client, headers, name=CERTIFIED_NAME)
    second = issue(synced_client, headers, name=CERTIFIED_NAME)
    assert first["id"] != second["id"]
    with transaction(app.state.engine) as session:
        assert session.scalar(select(func.count()).select_from(Receipt)) == 2
        stored = session.get(Receipt, first["id"])
        assert stored is not None
        assert stored.jws == first["jws"]
    routes = {(m, r.path) for r in app.routes for m in getattr(r, "methods", ())}
    assert not {m for m, path in routes if path.startswith("/v1/receipts/{")} - {"GET", "HEAD"}


def test_the_pages_only_style_is_the_one_its_policy_allows(
    synced_client: TestClient, app: FastAPI
) -> None:
    import base64
    import hashlib
    import re

    headers = read_key(app)
    receipt = issue(synced_client, headers, name=CERTIFIED_NAME)
    page = synced_client.get(
        f"/v1/receipts/{receipt['id']}", headers={**headers, "Accept": "text/html"}
    )
    (style,) = re.findall(r"<style>(.*?)</style>", page.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in page.headers["content-security-policy"]
    assert "style=" not in page.text, "no inline style attributes (the policy forbids them)"
