"""Per-caller rate limits: an in-memory GCRA (generic cell rate algorithm) per process.

`N/second|minute|hour` allows a burst of N, refilled evenly (one request every period/N).
State lives in this process only: with W workers or replicas a caller gets up to W x N.

Responses carry the IETF draft-06 fields (draft-ietf-httpapi-ratelimit-headers-06):
`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds until the full quota is
back) and `RateLimit-Policy: N;w=SECONDS`; a 429 adds `Retry-After` (seconds).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from app.errors import RateLimited

PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour)s?\s*$", re.IGNORECASE)
_MIN_PRUNE = 4096


@dataclass(frozen=True, slots=True)
class RateLimit:
    """N requests per period (seconds)."""

    limit: int
    period: float

    @property
    def policy(self) -> str:
        """The `RateLimit-Policy` value."""
        return f"{self.limit};w={math.ceil(self.period)}"


def parse_rate_limit(spec: str) -> RateLimit | None:
    """`"600/minute"` → RateLimit(600, 60); `"0"` → None (limits off); raise on anything else."""
    if spec.strip() == "0":
        return None
    match = _SPEC.match(spec)
    if not match or int(match[1]) == 0:
        raise ValueError(f"rate limit must be N/second|minute|hour or 0, got {spec!r}")
    return RateLimit(int(match[1]), PERIODS[match[2].lower()])


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one request against its caller's limit."""

    allowed: bool
    rate: RateLimit
    remaining: int
    reset_after: float
    retry_after: float = 0.0

    def headers(self) -> dict[str, str]:
        """RateLimit-* fields (plus Retry-After when refused)."""
        headers = {
            "RateLimit-Limit": str(self.rate.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(math.ceil(self.reset_after)),
            "RateLimit-Policy": self.rate.policy,
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(self.retry_after)))
        return headers


class RateLimiter:
    """GCRA per bucket key. Call `hit` from the event loop only (it is not thread-safe)."""

    def __init__(self, rate: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._interval = rate.period / rate.limit
        self._slack = self._interval * 1e-6
        self._clock = clock
        self._tat: dict[str, float] = {}
        """Theoretical arrival time per bucket: when its quota is fully back."""
        self._prune_at = _MIN_PRUNE

    def hit(self, key: str) -> Decision:
        """Count one request for `key` if the limit allows it."""
        now = self._clock()
        # Seconds until this bucket's quota is fully back (0: untouched or fully refilled).
        backlog = max(self._tat.get(key, now) - now, 0.0)
        if backlog + self._interval > self.rate.period + self._slack:
            retry_after = backlog + self._interval - self.rate.period
            return Decision(False, self.rate, 0, backlog, retry_after)
        self._tat[key] = now + backlog + self._interval
        if len(self._tat) > self._prune_at:
            self._prune(now)
        reset_after = backlog + self._interval
        return Decision(True, self.rate, self._remaining(reset_after), reset_after)

    def knows(self, key: str) -> bool:
        """True when `key` has been counted and not yet pruned (a cheap first test)."""
        return key in self._tat

    def wait(self, key: str) -> float:
        """Seconds until `hit(key)` would be allowed; 0.0 when it would be now."""
        backlog = max(self._tat.get(key, 0.0) - self._clock(), 0.0)
        return max(backlog + self._interval - self.rate.period - self._slack, 0.0)

    def idle(self, key: str) -> bool:
        """True when `key`'s quota is fully back (as if it had never been counted)."""
        return self._tat.get(key, 0.0) <= self._clock()

    def _remaining(self, reset_after: float) -> int:
        # The slack keeps float error (0.1 * 600 != 60.0) from eating a whole request.
        used = (reset_after - self._slack) / self._interval
        return max(0, self.rate.limit - math.ceil(used))

    def _prune(self, now: float) -> None:
        # A bucket whose quota is fully back is the same as no bucket: drop it.
        self._tat = {key: tat for key, tat in self._tat.items() if tat > now}
        self._prune_at = max(_MIN_PRUNE, 2 * len(self._tat))


def enforce_rate_limit(request: Request, limiter: RateLimiter, bucket: str) -> None:
    """Count this request against `bucket`; 429 when over the limit.

    The decision is kept on `request.state.ratelimit`, from which the request middleware adds
    the RateLimit-* headers to the response.
    """
    decision = limiter.hit(bucket)
    request.state.ratelimit = decision
    if not decision.allowed:
        raise RateLimited(
            f"rate limit of {limiter.rate.limit} requests per {limiter.rate.period:g} s "
            "exceeded; retry later",
            headers=decision.headers(),
        )
