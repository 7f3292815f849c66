"""Failed authentication, counted per client address: 429 after a burst of wrong keys.

A client that presents wrong keys gets `CERTLOOKUP_AUTH_FAILURE_LIMIT` of them (default 20
a minute, refilled evenly) answered 401; then every keyed request from that address is
answered 429 until its budget refills, whether the key is right or not, so guessing gains
nothing from the answers. Requests without a key are not counted (nothing is guessed). One
warning is logged when an address is first limited, not one per refused request; another
after it has stayed quiet for a whole period. Counted per process, like the rate limit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import structlog

from app.errors import RateLimited
from app.ops.ratelimit import RateLimiter, parse_rate_limit

log = structlog.get_logger(__name__)
_PRUNE_AT = 4096


class AuthFailures:
    """Wrong-key counts per address. Use from the event loop only (not thread-safe)."""

    def __init__(self, spec: str, clock: Callable[[], float] = time.monotonic) -> None:
        rate = parse_rate_limit(spec)
        if rate is None:
            raise ValueError("AuthFailures needs a limit; use auth_failures_for() for '0'")
        self._limiter = RateLimiter(rate, clock)
        self._limited: set[str] = set()
        """Addresses whose current burst has been logged."""

    def refuse_if_limited(self, address: str) -> None:
        """429 when `address` has used up its failures; cheap for an address with none."""
        if not self._limiter.knows(address):
            return
        wait = self._limiter.wait(address)
        if wait > 0:
            raise RateLimited(
                "too many failed authentications from this address; retry later",
                code="auth_rate_limited",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        if address in self._limited and self._limiter.idle(address):
            self._limited.discard(address)  # quiet for a whole period: the burst is over

    def record(self, address: str) -> None:
        """Count one failed authentication from `address`; log when that limits it."""
        self._limiter.hit(address)
        if address in self._limited or self._limiter.wait(address) == 0:
            return
        if len(self._limited) >= _PRUNE_AT:
            self._limited = {known for known in self._limited if not self._limiter.idle(known)}
        self._limited.add(address)
        rate = self._limiter.rate
        log.warning(
            "auth_failures_limited",
            client_address=address,
            failures=rate.limit,
            period_seconds=rate.period,
        )


def auth_failures_for(spec: str) -> AuthFailures | None:
    """The counter for the `auth_failure_limit` setting; None when it is `0` (off)."""
    return AuthFailures(spec) if parse_rate_limit(spec) is not None else None
