"""Rate limits: parsing, the GCRA itself, and 429s with RateLimit-* headers over HTTP."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.ops.ratelimit import RateLimit, RateLimiter, parse_rate_limit
from tests.auth import add_key
from tests.conftest import make_settings

CHECK = "/v1/check?name=Acme%20Training"


class FakeClock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("600/minute", RateLimit(600, 60.0)),
        ("10/second", RateLimit(10, 1.0)),
        (" 5 / Hours ", RateLimit(5, 3600.0)),
        ("0", None),
    ],
)
def test_rate_limit_settings_are_parsed(spec: str, expected: RateLimit | None) -> None:
    assert parse_rate_limit(spec) == expected


@pytest.mark.parametrize("spec", ["", "600", "600/day", "0/minute", "-1/second", "ten/minute"])
def test_bad_rate_limit_settings_are_refused_at_start_up(spec: str) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        create_app(make_settings("sqlite://", rate_limit=spec))


def test_gcra_allows_a_burst_then_one_request_per_interval() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(3, 60.0), clock=clock)

    burst = [limiter.hit("a") for _ in range(3)]
    refused = limiter.hit("a")
    clock.now += 19.9
    still_refused = limiter.hit("a")
    clock.now += 0.1
    refilled = limiter.hit("a")

    assert [d.allowed for d in burst] == [True, True, True]
    assert [d.remaining for d in burst] == [2, 1, 0]
    assert [round(d.reset_after) for d in burst] == [20, 40, 60]
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(20.0)
    assert not still_refused.allowed
    assert refilled.allowed
    assert refilled.remaining == 0


@pytest.mark.parametrize("spec", ["600/minute", "7/second", "1/hour"])
@pytest.mark.parametrize("start", [0.0, 12345.678, 9_876_543.21])
def test_gcra_gives_exactly_the_limit_whatever_the_clock_reads(spec: str, start: float) -> None:
    rate = parse_rate_limit(spec)
    assert rate is not None
    clock = FakeClock()
    clock.now = start
    limiter = RateLimiter(rate, clock=clock)

    burst = [limiter.hit("a") for _ in range(rate.limit + 1)]
    clock.now += rate.period / rate.limit

    assert [d.allowed for d in burst] == [True] * rate.limit + [False]
    assert [d.remaining for d in burst[:-1]] == list(range(rate.limit - 1, -1, -1))
    assert limiter.hit("a").allowed
    assert not limiter.hit("a").allowed


def test_gcra_buckets_are_independent_and_refill_completely() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(2, 1.0), clock=clock)

    assert [limiter.hit("a").allowed for _ in range(3)] == [True, True, False]
    assert limiter.hit("b").allowed
    clock.now += 10
    assert limiter.hit("a").remaining == 1


def test_gcra_forgets_buckets_whose_quota_is_back() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(1, 1.0), clock=clock)
    for n in range(5000):
        limiter.hit(f"addr:{n}")
    clock.now += 2
    for n in range(5000):
        limiter.hit(f"new:{n}")

    assert len(limiter._tat) < 6000


def test_429_is_problem_json_with_retry_after_and_ratelimit_headers(database_url: str) -> None:
    app = create_app(make_settings(database_url, public_read=False, rate_limit="2/minute"))
    key = add_key(app).key
    with TestClient(app) as client:
        ok = [client.get(CHECK, headers={"X-API-Key": key}) for _ in range(2)]
        refused = client.get(CHECK, headers={"X-API-Key": key})

    assert [r.status_code for r in ok] == [200, 200]
    assert ok[0].headers["RateLimit-Limit"] == "2"
    assert [r.headers["RateLimit-Remaining"] for r in ok] == ["1", "0"]
    assert ok[0].headers["RateLimit-Policy"] == "2;w=60"
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited"
    assert refused.headers["Retry-After"] == "30"
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert refused.headers["RateLimit-Reset"] == "60"


def test_each_key_and_each_anonymous_address_has_its_own_limit(database_url: str) -> None:
    app = create_app(make_settings(database_url, public_read=True, rate_limit="1/hour"))
    first, second = add_key(app, "first").key, add_key(app, "second").key
    with TestClient(app) as client:
        statuses = [
            client.get(CHECK, headers={"X-API-Key": first}).status_code,
            client.get(CHECK, headers={"X-API-Key": first}).status_code,
            client.get(CHECK, headers={"X-API-Key": second}).status_code,
            client.get(CHECK).status_code,
            client.get(CHECK).status_code,
        ]

    assert statuses == [200, 429, 200, 200, 429]


def test_zero_turns_limits_off_and_operations_endpoints_are_never_limited(
    database_url: str,
) -> None:
    unlimited = create_app(make_settings(database_url, rate_limit="0"))
    limited = create_app(make_settings(database_url, rate_limit="1/hour"))
    with TestClient(unlimited) as client:
        checks = [client.get(CHECK) for _ in range(20)]
    with TestClient(limited) as client:
        client.get(CHECK)
        operations = [client.get(path) for path in ("/healthz", "/readyz", "/metrics") * 3]

    assert {r.status_code for r in checks} == {200}
    assert all("RateLimit-Limit" not in r.headers for r in checks)
    # /readyz is 503 never_synced here (nothing was synced), never 429.
    assert [r.status_code for r in operations] == [200, 503, 200] * 3
    assert all("RateLimit-Limit" not in r.headers for r in operations)
