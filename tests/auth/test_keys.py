"""API keys: hashing, both headers, scopes, public reads, revocation, the CLI, no keys in logs."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.auth import keys as keys_module
from app.auth.keys import (
    CACHE_SECONDS,
    MISS_REFRESH_SECONDS,
    REFRESH_WAIT_SECONDS,
    ApiClient,
    KeyCache,
    KeyHasher,
    Scope,
    effective_scopes,
    generate_key,
    hash_key,
)
from app.cli import cli
from app.config import get_settings
from app.errors import Unavailable
from app.main import create_app
from app.models import ApiKey
from tests.auth import ADMIN_PROBE, add_admin_probe, add_key
from tests.conftest import make_settings

CHECK = "/v1/check?name=Acme%20Training"
UNUSED_PORT_URL = "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=1"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def build(database_url: str) -> Callable[..., FastAPI]:
    """Build an app on this test's database (keys required unless public_read=True)."""

    def _build(**overrides: object) -> FastAPI:
        values: dict[str, object] = {"public_read": False, **overrides}
        return add_admin_probe(create_app(make_settings(database_url, **values)))

    return _build


@pytest.fixture
def app(build: Callable[..., FastAPI]) -> FastAPI:
    return build()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def _fresh_cli_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def with_fake_clock(app: FastAPI) -> FakeClock:
    clock = FakeClock()
    app.state.key_cache = KeyCache(lambda: app.state.engine, clock=clock)
    return clock


def test_generated_keys_are_random_and_carry_their_prefix() -> None:
    key, prefix = generate_key()
    other, _ = generate_key()

    assert key.startswith(prefix + "_")
    assert prefix.startswith("cl_")
    assert len(prefix) == 11
    assert len(key) > 50
    assert key != other
    assert hash_key(key, "pepper-a") != hash_key(key, "pepper-b")


def test_watch_implies_read_and_admin_implies_every_scope() -> None:
    assert effective_scopes(["admin"]) == {"read", "watch", "admin"}
    assert effective_scopes(["watch"]) == {"read", "watch"}
    assert effective_scopes(["read"]) == {"read"}


def test_only_the_hash_and_prefix_are_stored(app: FastAPI) -> None:
    created = add_key(app, "kent-cc")

    with Session(app.state.engine) as session:
        row = session.execute(select(ApiKey)).scalar_one()
        raw = session.execute(text("SELECT * FROM api_keys")).one()

    assert row.key_hash == hash_key(created.key, app.state.settings.key_pepper)
    assert created.key.startswith(row.prefix)
    assert row.prefix == created.prefix
    assert all(created.key not in str(value) for value in raw)
    assert row.scopes == ["read"]
    assert row.revoked_at is None


def test_a_key_works_in_either_header(app: FastAPI, client: TestClient) -> None:
    key = add_key(app).key

    by_header = client.get(CHECK, headers={"X-API-Key": key})
    by_bearer = client.get(CHECK, headers={"Authorization": f"Bearer {key}"})

    assert (by_header.status_code, by_bearer.status_code) == (200, 200)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-Key": "cl_00000000_not-a-real-key"},
        {"Authorization": "Bearer cl_00000000_not-a-real-key"},
    ],
    ids=["missing", "unknown-header", "unknown-bearer"],
)
def test_missing_or_unknown_key_is_401_problem(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get(CHECK, headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_two_different_keys_in_one_request_are_refused(app: FastAPI, client: TestClient) -> None:
    key = add_key(app).key
    headers = {"X-API-Key": key, "Authorization": "Bearer cl_00000000_other"}

    assert client.get(CHECK, headers=headers).status_code == 401


def test_scopes_read_key_is_forbidden_on_admin_endpoints(app: FastAPI, client: TestClient) -> None:
    read_key = add_key(app, "reader").key
    admin_key = add_key(app, "operator", Scope.ADMIN).key

    forbidden = client.get(ADMIN_PROBE, headers={"X-API-Key": read_key})
    sync_forbidden = client.post("/v1/sync-runs", headers={"X-API-Key": read_key}, json={})
    sync_anonymous = client.post("/v1/sync-runs", json={})
    admin = client.get(ADMIN_PROBE, headers={"X-API-Key": admin_key})
    admin_reads = client.get(CHECK, headers={"X-API-Key": admin_key})

    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "forbidden"
    assert sync_forbidden.status_code == 403
    assert sync_anonymous.status_code == 401
    assert admin.status_code == 200
    assert admin.json() == {"client": "operator"}
    assert admin_reads.status_code == 200


def test_public_read_allows_anonymous_reads_but_not_bad_keys_or_admin(
    build: Callable[..., FastAPI],
) -> None:
    app = build(public_read=True)
    with TestClient(app) as client:
        anonymous = client.get(CHECK)
        bad_key = client.get(CHECK, headers={"X-API-Key": "cl_00000000_wrong"})
        admin = client.get(ADMIN_PROBE)

    assert anonymous.status_code == 200
    assert bad_key.status_code == 401
    assert admin.status_code == 401


@pytest.mark.usefixtures("_fresh_cli_settings")
def test_revoked_key_stops_working_within_the_cache_interval(app: FastAPI) -> None:
    clock = with_fake_clock(app)
    created = add_key(app)
    headers = {"X-API-Key": created.key}
    with TestClient(app) as client:
        assert client.get(CHECK, headers=headers).status_code == 200
        result = CliRunner().invoke(cli, ["keys", "revoke", str(created.id)], env=_cli_env(app))
        assert result.exit_code == 0, result.output
        clock.now += CACHE_SECONDS - 0.1
        still_cached = client.get(CHECK, headers=headers)
        clock.now += 0.1
        after_interval = client.get(CHECK, headers=headers)

    assert still_cached.status_code == 200
    assert after_interval.status_code == 401


def test_a_new_key_works_without_waiting_for_the_cache_interval(app: FastAPI) -> None:
    clock = with_fake_clock(app)
    first = add_key(app, "first").key
    with TestClient(app) as client:
        assert client.get(CHECK, headers={"X-API-Key": first}).status_code == 200
        second = add_key(app, "second").key
        clock.now += MISS_REFRESH_SECONDS
        response = client.get(CHECK, headers={"X-API-Key": second})

    assert response.status_code == 200


def test_last_used_is_written_lazily_at_the_next_cache_reload(app: FastAPI) -> None:
    clock = with_fake_clock(app)
    created = add_key(app)
    with TestClient(app) as client:
        client.get(CHECK, headers={"X-API-Key": created.key})
        before = _last_used(app, created.id)
        clock.now += CACHE_SECONDS
        client.get(CHECK, headers={"X-API-Key": created.key})
        # The write runs after the reload, without the request waiting for it.
        deadline = time.monotonic() + 5
        while (after := _last_used(app, created.id)) is None and time.monotonic() < deadline:
            time.sleep(0.02)

    assert before is None
    assert after is not None


def test_a_request_does_not_wait_for_the_last_used_write(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = with_fake_clock(app)
    created = add_key(app)
    writing, release = threading.Event(), threading.Event()

    def slow_write(engine: object, used: object) -> None:
        writing.set()
        release.wait(10)

    monkeypatch.setattr(keys_module, "record_last_used", slow_write)
    with TestClient(app) as client:
        client.get(CHECK, headers={"X-API-Key": created.key})
        clock.now += CACHE_SECONDS
        started = time.monotonic()
        response = client.get(CHECK, headers={"X-API-Key": created.key})
        elapsed = time.monotonic() - started
        assert writing.wait(5)  # the write did start, and is still going
        release.set()

    assert response.status_code == 200
    # Waiting on the write would have held the request for REFRESH_WAIT_SECONDS.
    assert elapsed < REFRESH_WAIT_SECONDS / 2


def _last_used(app: FastAPI, key_id: int) -> object:
    with Session(app.state.engine) as session:
        return session.get_one(ApiKey, key_id).last_used_at


def test_keys_never_appear_in_logs(
    build: Callable[..., FastAPI], capsys: pytest.CaptureFixture[str]
) -> None:
    app = build(log_json=True, log_level="DEBUG")
    key = add_key(app, "kent-cc").key
    wrong = key[:-4] + "XXXX"
    with TestClient(app) as client:
        client.get(CHECK, headers={"X-API-Key": key})
        client.get(CHECK, headers={"Authorization": f"Bearer {key}"})
        client.get(CHECK, headers={"X-API-Key": wrong})
    logs = capsys.readouterr().err

    access = [json.loads(line) for line in logs.splitlines() if '"app.access"' in line]
    assert [(line["status"], line["client"]) for line in access] == [
        (200, "kent-cc"),
        (200, "kent-cc"),
        (401, None),
    ]
    assert key not in logs
    assert key.removeprefix(key[:12]) not in logs
    assert wrong not in logs


def test_key_cache_fails_closed_before_its_first_load_and_keeps_keys_after() -> None:
    broken = create_engine(UNUSED_PORT_URL)
    clock = FakeClock()
    cache = KeyCache(lambda: broken, clock=clock)

    with pytest.raises(Unavailable):
        asyncio.run(cache.lookup("anything"))

    cache._keys = {"known": ApiClient("kept", frozenset({"read"}), key_id=1)}
    clock.now += CACHE_SECONDS
    assert asyncio.run(cache.lookup("known")) is not None
    broken.dispose()


def _cli_env(app: FastAPI) -> dict[str, str]:
    settings = app.state.settings
    get_settings.cache_clear()
    return {
        "DATABASE_URL": settings.sqlalchemy_url,
        "CERTLOOKUP_ENVIRONMENT": "test",
        "CERTLOOKUP_KEY_PEPPER": settings.key_pepper,
        "CERTLOOKUP_LOG_LEVEL": "WARNING",
        "COLUMNS": "200",
    }


@pytest.mark.usefixtures("_fresh_cli_settings")
def test_cli_creates_lists_and_revokes_keys(app: FastAPI) -> None:
    runner = CliRunner()
    env = _cli_env(app)

    created = runner.invoke(cli, ["keys", "create", "Kent CC", "--scope", "admin"], env=env)
    key = created.stdout.strip()
    listed = runner.invoke(cli, ["keys", "list"], env=env)
    revoked = runner.invoke(cli, ["keys", "revoke", "1"], env=env)
    missing = runner.invoke(cli, ["keys", "revoke", "99"], env=env)
    relisted = runner.invoke(cli, ["keys", "list"], env=env)

    assert created.exit_code == 0, created.output
    assert key.startswith("cl_")
    assert "cannot be shown again" in created.stderr
    assert listed.exit_code == 0
    assert "Kent CC" in listed.stdout
    assert key[:11] in listed.stdout
    assert key not in listed.stdout
    assert "admin" in listed.stdout
    assert revoked.exit_code == 0
    assert missing.exit_code == 1
    with Session(app.state.engine) as session:
        row = session.get_one(ApiKey, 1)
    assert row.key_hash == hash_key(key, app.state.settings.key_pepper)
    assert row.revoked_at is not None
    assert row.revoked_at.strftime("%Y-%m-%d") in relisted.stdout


def test_key_hasher_gives_the_stored_hash_and_computes_each_key_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    def counted(key: str, pepper: str) -> str:
        calls.append(key)
        return hash_key(key, pepper)

    monkeypatch.setattr(keys_module, "hash_key", counted)
    hasher = KeyHasher("pepper", size=2)
    first, second, third = (generate_key()[0] for _ in range(3))
    assert hasher(first) == hash_key(first, "pepper")
    assert hasher(first) == hash_key(first, "pepper")
    assert calls == [first]
    hasher(second)
    hasher(third)  # over the bound: the memo starts again, still correct
    assert hasher(first) == hash_key(first, "pepper")
    assert calls == [first, second, third, first]
    # Nothing in the memo is a raw key, or contains one.
    held = repr(hasher._memo)
    assert all(key not in held for key in (first, second, third))
