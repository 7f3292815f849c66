"""Watches over HTTP: the watch scope, create (one, batch), list, read, delete, isolation."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.auth.keys import Scope
from app.main import create_app
from app.register.sync import SyncReport
from tests.conftest import make_settings
from tests.watches import CERTIFIED_NAME, create_watch, watch_key


def test_a_watch_answers_exactly_as_check_does(synced_client: TestClient, app: FastAPI) -> None:
    headers = watch_key(app)
    watch = create_watch(
        synced_client, headers, name=CERTIFIED_NAME, setting="cqc", reference="case-4411"
    )
    check = synced_client.get("/v1/check", params={"name": CERTIFIED_NAME}).json()
    assert watch["current"] == check
    assert watch["verdict"] == "certified"
    assert (watch["name"], watch["setting"], watch["reference"]) == (
        CERTIFIED_NAME,
        "cqc",
        "case-4411",
    )
    fetched = synced_client.get(f"/v1/watches/{watch['id']}", headers=headers)
    assert fetched.status_code == 200
    assert fetched.json() == watch


def test_names_not_listed_or_needing_review_can_be_watched(
    synced_client: TestClient, app: FastAPI
) -> None:
    headers = watch_key(app)
    absent = create_watch(synced_client, headers, name="Nobody Such Training Ltd")
    assert absent["current"]["verdict"] == "not_listed"
    ofsted = create_watch(synced_client, headers, name=CERTIFIED_NAME, setting="ofsted_only")
    assert ofsted["current"]["cqc_expectation_applies"] is False


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": " "}, "name_empty"),
        ({}, "name_empty"),
        ({"name": "x" * 301}, "name_too_long"),
        ({"name": "Acme\x00"}, "name_invalid_characters"),
        ({"name": "Acme", "setting": "nhs"}, "invalid_setting"),
        ({"name": "Acme", "reference": "r" * 201}, "invalid_reference"),
        ({"name": "Acme", "as_of": "2024-01-01"}, "validation_error"),
        ({"name": "Acme\ud800"}, "invalid_encoding"),
        ({"name": "Acme", "reference": "case\udfff"}, "invalid_reference"),
        ({"name": 5}, "validation_error"),
    ],
)
def test_invalid_watches_are_refused_with_a_stable_code(
    synced_client: TestClient, app: FastAPI, body: dict[str, object], code: str
) -> None:
    headers = {**watch_key(app), "Content-Type": "application/json"}
    # json.dumps writes a lone surrogate as an escape, as a client would send it.
    response = synced_client.post("/v1/watches", content=json.dumps(body), headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_watches_need_a_key_with_the_watch_scope(synced_client: TestClient, app: FastAPI) -> None:
    body = {"name": CERTIFIED_NAME}
    assert synced_client.post("/v1/watches", json=body).status_code == 401
    assert synced_client.get("/v1/watches").status_code == 401
    reader = watch_key(app, "reader", Scope.READ)
    assert synced_client.post("/v1/watches", json=body, headers=reader).status_code == 403
    assert synced_client.get("/v1/watch-events", headers=reader).status_code == 403
    admin = watch_key(app, "operator", Scope.ADMIN)
    assert synced_client.post("/v1/watches", json=body, headers=admin).status_code == 201
    watcher = watch_key(app, "case-system")
    assert synced_client.get("/v1/check", params=body, headers=watcher).status_code == 200


def test_another_client_never_sees_reads_or_deletes_a_watch(
    synced_client: TestClient, app: FastAPI
) -> None:
    kent, surrey = watch_key(app, "kent"), watch_key(app, "surrey")
    watch = create_watch(synced_client, kent, name=CERTIFIED_NAME)
    path = f"/v1/watches/{watch['id']}"
    assert synced_client.get(path, headers=surrey).status_code == 404
    assert synced_client.get(path, headers=surrey).json()["code"] == "watch_not_found"
    assert synced_client.delete(path, headers=surrey).status_code == 404
    assert synced_client.get("/v1/watches", headers=surrey).json()["items"] == []
    assert synced_client.get(path, headers=kent).status_code == 200
    assert [w["id"] for w in synced_client.get("/v1/watches", headers=kent).json()["items"]] == [
        watch["id"]
    ]


def test_delete_answers_204_and_the_watch_is_gone(synced_client: TestClient, app: FastAPI) -> None:
    headers = watch_key(app)
    watch = create_watch(synced_client, headers, name=CERTIFIED_NAME)
    path = f"/v1/watches/{watch['id']}"
    deleted = synced_client.delete(path, headers=headers)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert synced_client.get(path, headers=headers).status_code == 404
    assert synced_client.delete(path, headers=headers).status_code == 404


def test_batch_creates_in_order_with_per_item_errors(
    synced_client: TestClient, app: FastAPI
) -> None:
    headers = watch_key(app)
    body = {
        "watches": [
            {"name": CERTIFIED_NAME, "reference": "a"},
            {"name": ""},
            {"name": "Nobody Such Training Ltd", "setting": "ofsted_only"},
            {"name": "Acme", "setting": "bad"},
            {"name": "Acme\ud800"},
        ]
    }
    raw = json.dumps(body)
    response = synced_client.post(
        "/v1/watches/batch", content=raw, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 200
    result = response.json()
    assert result["created"] == 2
    items = result["results"]
    assert [i["index"] for i in items] == [0, 1, 2, 3, 4]
    assert items[4]["error"]["code"] == "invalid_encoding"
    assert items[0]["watch"]["reference"] == "a"
    assert items[0]["watch"]["verdict"] == "certified"
    assert items[1] == {"index": 1, "watch": None, "error": items[1]["error"]}
    assert items[1]["error"]["code"] == "name_empty"
    assert items[2]["watch"]["current"]["verdict"] == "not_listed"
    assert items[3]["error"]["code"] == "invalid_setting"
    listed = synced_client.get("/v1/watches", headers=headers).json()["items"]
    assert [w["name"] for w in listed] == [CERTIFIED_NAME, "Nobody Such Training Ltd"]


def test_a_batch_over_1000_is_refused(synced_client: TestClient, app: FastAPI) -> None:
    body = {"watches": [{"name": f"Provider {i}"} for i in range(1001)]}
    response = synced_client.post("/v1/watches/batch", json=body, headers=watch_key(app))
    assert response.status_code == 413
    assert response.json()["code"] == "batch_too_large"


def test_list_is_cursor_paged_and_filters_by_verdict(
    synced_client: TestClient, app: FastAPI
) -> None:
    headers = watch_key(app)
    names = [CERTIFIED_NAME, "Nobody One Ltd", "Solent NHS Foundation Trust", "Nobody Two Ltd"]
    batch = {"watches": [{"name": n} for n in names]}
    assert synced_client.post("/v1/watches/batch", json=batch, headers=headers).status_code == 200
    seen, after = [], None
    while True:
        params = {"limit": 3, **({"after": after} if after else {})}
        page = synced_client.get("/v1/watches", params=params, headers=headers).json()
        seen += [w["name"] for w in page["items"]]
        after = page["next_cursor"]
        if after is None:
            break
    assert seen == names
    certified = synced_client.get("/v1/watches", params={"verdict": "certified"}, headers=headers)
    assert [w["name"] for w in certified.json()["items"]] == [names[0], names[2]]
    bad = synced_client.get("/v1/watches", params={"after": "nonsense"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_cursor"
    unknown = synced_client.get("/v1/watches", params={"verdict": "great"}, headers=headers)
    assert unknown.status_code == 422


def test_the_per_client_limit_answers_409_and_batch_items_past_it_fail(
    database_url: str, sample_synced: SyncReport
) -> None:
    app = create_app(make_settings(database_url, watch_limit=2))
    with TestClient(app) as client:
        kent, surrey = watch_key(app, "kent"), watch_key(app, "surrey")
        create_watch(client, kent, name="One Ltd")
        batch = {"watches": [{"name": "Two Ltd"}, {"name": "Three Ltd"}]}
        items = client.post("/v1/watches/batch", json=batch, headers=kent).json()["results"]
        assert items[0]["watch"] is not None
        assert items[1]["error"]["code"] == "watch_limit_reached"
        refused = client.post("/v1/watches", json={"name": "Four Ltd"}, headers=kent)
        assert refused.status_code == 409
        assert refused.json()["code"] == "watch_limit_reached"
        create_watch(client, surrey, name="One Ltd")  # the limit is per client


def test_watches_before_the_first_sync_answer_unknown(client: TestClient, app: FastAPI) -> None:
    watch = create_watch(client, watch_key(app), name=CERTIFIED_NAME)
    assert watch["verdict"] == "unknown"


def test_identifiers_are_stored_and_decide_as_check_does(
    synced_client: TestClient, app: FastAPI
) -> None:
    headers = watch_key(app)
    check = synced_client.get("/v1/check", params={"name": CERTIFIED_NAME}).json()
    number = check["organisation"]["certificate_number"]
    body = {"name": CERTIFIED_NAME, "certificate_number": number.lower()}
    confirmed = create_watch(synced_client, headers, **body)
    assert confirmed["certificate_number"] == number  # the form compared
    assert confirmed["current"] == synced_client.get("/v1/check", params=body).json()
    wrong = {"name": CERTIFIED_NAME, "certificate_number": "ACT0001"}
    contradicted = create_watch(synced_client, headers, **wrong)
    assert contradicted["current"] == synced_client.get("/v1/check", params=wrong).json()
    assert contradicted["verdict"] != "certified"
    listed = synced_client.get(f"/v1/watches/{contradicted['id']}", headers=headers).json()
    assert listed["certificate_number"] == "ACT0001"
    bad = synced_client.post(
        "/v1/watches", json={"name": "Acme", "website": "not a site"}, headers=headers
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "website_invalid"
