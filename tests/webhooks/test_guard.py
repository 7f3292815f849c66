"""No server-side request forgery: webhook URLs reach public addresses only, checked when
registered and again at every delivery (DNS rebinding)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.errors import InvalidInput
from app.main import create_app
from app.register.sync import SyncReport
from app.webhooks.guard import AddressGuard, is_public
from tests.conftest import make_settings
from tests.support.receiver import Receiver
from tests.watches import watch_key
from tests.webhooks import attempts, deliver, register

PUBLIC = "93.184.216.34"


def fake_dns(table: dict[str, list[str]]) -> Callable[..., list[tuple[Any, ...]]]:
    """A resolver answering from a table (and resolving IP literals as getaddrinfo does)."""

    def resolve(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        if host in table:
            addresses = table[host]
        else:
            addresses = [info[4][0] for info in socket.getaddrinfo(host, port)]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    return resolve


STRICT = AddressGuard(
    allow_private=False,
    resolver=fake_dns(
        {
            "hooks.example.org": [PUBLIC],
            "internal.example.org": ["10.0.0.5"],
            "metadata.example.org": ["169.254.169.254"],
            "mixed.example.org": [PUBLIC, "192.168.1.10"],
            "v6-loopback.example.org": ["::1"],
            "localhost": ["127.0.0.1"],
        }
    ),
)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://127.1/hook",
        "https://2130706433/hook",
        "https://0x7f000001/hook",
        "https://localhost/hook",
        "https://0.0.0.0/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.1/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/hook",
        "https://224.0.0.1/hook",
        "https://[::1]/hook",
        "https://[::]/hook",
        "https://[fe80::1]/hook",
        "https://[fc00::1]/hook",
        "https://[fd12:3456::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:7f00:1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://[64:ff9b::a00:1]/hook",
        "https://[2002:7f00:1::]/hook",
        "https://[ff02::1]/hook",
        "https://internal.example.org/hook",
        "https://metadata.example.org/hook",
        "https://mixed.example.org/hook",
        "https://v6-loopback.example.org/hook",
    ],
)
def test_non_public_targets_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        STRICT.check(url)
    assert refused.value.code == "webhook_url_not_allowed"


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.org/hook",
        "ftp://hooks.example.org/hook",
        "https://user:pass@hooks.example.org/hook",
        "https:///nohost",
        "https://hooks.example.org:99999/",
        "https://hooks.example.org/a b",
        "https://hooks.example.org/#frag",
        "https://hooks.example.org/" + "a" * 2000,
    ],
)
def test_malformed_or_plain_http_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        STRICT.check(url)
    assert refused.value.code == "webhook_url_invalid"


def test_a_public_https_url_passes_with_the_addresses_to_connect_to() -> None:
    target = STRICT.check("https://hooks.example.org/hook?x=1")
    assert (target.host, target.port, [str(a) for a in target.addresses]) == (
        "hooks.example.org",
        443,
        [PUBLIC],
    )
    assert is_public(target.addresses[0])


def test_an_unresolvable_host_is_refused() -> None:
    def nxdomain(*_: Any, **__: Any) -> list[tuple[Any, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    guard = AddressGuard(allow_private=False, resolver=nxdomain)
    with pytest.raises(InvalidInput) as refused:
        guard.check("https://nowhere.example.org/")
    assert refused.value.code == "webhook_url_unresolvable"


@pytest.fixture
def strict_app(
    database_url: str, sample_synced: SyncReport
) -> Iterator[tuple[FastAPI, TestClient]]:
    app = create_app(make_settings(database_url))
    app.state.address_guard = STRICT
    with TestClient(app) as client:
        yield app, client


def test_registration_refuses_private_targets_over_http(
    strict_app: tuple[FastAPI, TestClient],
) -> None:
    app, client = strict_app
    headers = watch_key(app)
    for url, code in (
        ("https://[::ffff:127.0.0.1]/hook", "webhook_url_not_allowed"),
        ("https://internal.example.org/hook", "webhook_url_not_allowed"),
        ("http://hooks.example.org/hook", "webhook_url_invalid"),
    ):
        response = client.post("/v1/webhooks", json={"url": url}, headers=headers)
        assert response.status_code == 422
        assert response.json()["code"] == code
    assert client.get("/v1/webhooks", headers=headers).json() == {"items": []}
    assert register(client, headers, "https://hooks.example.org/hook")["url"].endswith("/hook")


def test_a_host_that_turns_private_after_registration_is_refused_at_delivery(
    strict_app: tuple[FastAPI, TestClient], receiver: Receiver
) -> None:
    app, client = strict_app
    headers = watch_key(app)
    answers = {"rebind.example.org": [PUBLIC]}
    app.state.address_guard = AddressGuard(allow_private=False, resolver=fake_dns(answers))
    hook = register(client, headers, "https://rebind.example.org/hooks")
    client.post(f"/v1/webhooks/{hook['id']}/test", headers=headers)
    answers["rebind.example.org"] = ["127.0.0.1"]  # the DNS answer changes (rebinding)
    deliver(app)
    assert receiver.received == []
    (attempt,) = attempts(app)
    assert attempt.status_code is None
    assert attempt.error is not None
    assert attempt.error.startswith("refused:")
    assert "not a public address" in attempt.error


def test_delivery_connects_to_the_address_it_checked_and_names_the_host(
    synced_client: TestClient, app: FastAPI, receiver: Receiver
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    table = {"hooks.test.example": ["127.0.0.1"]}
    app.state.address_guard = AddressGuard(allow_private=True, resolver=fake_dns(table))
    headers = watch_key(app)
    hook = register(synced_client, headers, f"http://hooks.test.example:{port}/hooks")
    synced_client.post(f"/v1/webhooks/{hook['id']}/test", headers=headers)
    deliver(app)
    (got,) = receiver.received
    assert got.headers["host"] == f"hooks.test.example:{port}"
