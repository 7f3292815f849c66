"""Wrong API keys count against the client's address: 429 after a burst, logged once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.auth import failures as failures_module
from app.auth.failures import AuthFailures, auth_failures_for
from app.auth.keys import Scope, create_key
from app.config import Settings
from app.db import make_engine, transaction
from app.errors import RateLimited
from app.main import create_app
from tests.conftest import make_settings

ATTACKER = ("198.51.100.7", 50000)
NEIGHBOUR = ("198.51.100.8", 50000)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Warnings:
    """Stands in for the module's logger: keeps each warning's event and fields."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.events.append((event, fields))


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> Warnings:
    recorder = Warnings()
    monkeypatch.setattr(failures_module, "log", recorder)
    return recorder


def _fail(failures: AuthFailures, address: str, times: int) -> None:
    for _ in range(times):
        failures.refuse_if_limited(address)
        failures.record(address)


def test_a_burst_of_failures_limits_the_address_and_is_logged_once(warnings: Warnings) -> None:
    clock = Clock()
    failures = AuthFailures("20/minute", clock)
    _fail(failures, "203.0.113.5", 20)
    with pytest.raises(RateLimited) as refused:
        failures.refuse_if_limited("203.0.113.5")
    assert refused.value.code == "auth_rate_limited"
    assert refused.value.headers["Retry-After"] == "3"
    failures.refuse_if_limited("203.0.113.6")  # another address is not affected
    clock.now += 3  # one failure a period/limit refills: one more guess, then limited again
    _fail(failures, "203.0.113.5", 1)
    with pytest.raises(RateLimited):
        failures.refuse_if_limited("203.0.113.5")
    assert warnings.events == [
        (
            "auth_failures_limited",
            {"client_address": "203.0.113.5", "failures": 20, "period_seconds": 60.0},
        )
    ]


def test_a_new_burst_after_a_quiet_period_is_logged_again(warnings: Warnings) -> None:
    clock = Clock()
    failures = AuthFailures("5/minute", clock)
    _fail(failures, "203.0.113.5", 5)
    clock.now += 61
    failures.refuse_if_limited("203.0.113.5")
    _fail(failures, "203.0.113.5", 5)
    assert [fields["client_address"] for _, fields in warnings.events] == ["203.0.113.5"] * 2


def test_the_limit_can_be_turned_off() -> None:
    assert auth_failures_for("0") is None
    with pytest.raises(ValueError, match="rate limit"):
        make_settings("sqlite://", auth_failure_limit="twenty")


def _read_key(settings: Settings) -> str:
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with transaction(engine) as session:
            return create_key(session, "failures", Scope.READ, settings.key_pepper).key
    finally:
        engine.dispose()


@pytest.fixture
def private_settings(database_url: str) -> Settings:
    return make_settings(database_url, public_read=False)


@pytest.fixture
def app(private_settings: Settings) -> Iterator[FastAPI]:
    application = create_app(private_settings)
    with TestClient(application):
        yield application


def test_forty_wrong_keys_get_twenty_401s_then_429s_even_for_the_right_key(
    app: FastAPI, private_settings: Settings, warnings: Warnings
) -> None:
    key = _read_key(private_settings)
    attacker = TestClient(app, client=ATTACKER)
    statuses = [
        attacker.get("/v1/register", headers={"X-API-Key": f"cl_0000_{i}"}).status_code
        for i in range(40)
    ]
    assert statuses == [401] * 20 + [429] * 20
    refused = attacker.get("/v1/check", params={"name": "Acme"}, headers={"X-API-Key": key})
    assert (refused.status_code, refused.json()["code"]) == (429, "auth_rate_limited")
    assert int(refused.headers["retry-after"]) >= 1
    neighbour = TestClient(app, client=NEIGHBOUR)
    assert neighbour.get("/v1/register", headers={"X-API-Key": key}).status_code == 200
    assert [fields["client_address"] for _, fields in warnings.events] == [ATTACKER[0]]


def test_requests_without_a_key_are_not_counted_as_failures(app: FastAPI) -> None:
    anonymous = TestClient(app, client=ATTACKER)
    assert {anonymous.get("/v1/register").status_code for _ in range(30)} == {401}
    assert app.state.auth_failures is not None
    app.state.auth_failures.refuse_if_limited(ATTACKER[0])
