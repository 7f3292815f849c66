"""One GET of one register page, classified: the page, or why not and whether to retry.

Nothing here keeps state: the crawl (scrapers/fetch.py) owns retries, pauses, the overall
deadline and the record of pages fetched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import httpx

from scrapers.rows import FetchedPage

if TYPE_CHECKING:
    from scrapers.fetch import FetchPolicy


@dataclass
class Attempt:
    """The page one request got, and whether retrying may get a better one."""

    page: FetchedPage
    retryable: bool = False
    retry_after: float | None = None


class _Fatal(Exception):
    """A failure retrying cannot fix (page too large, deadline passed while reading)."""

    def __init__(self, reason: str, partial: bytes = b"") -> None:
        super().__init__(reason)
        self.reason = reason
        self.partial = partial


def fetch_once(
    client: httpx.Client, url: str, policy: FetchPolicy, deadline: float, clock: Callable[[], float]
) -> Attempt:
    """GET `url` once, within the overall `deadline` (a `clock` reading)."""
    try:
        with client.stream(
            "GET",
            url,
            timeout=_timeout(policy, deadline, clock),
            headers={"User-Agent": policy.user_agent},
        ) as response:
            content = _read_body(response, policy, deadline, clock)
    except _Fatal as exc:
        return Attempt(FetchedPage(url, None, exc.partial, error=exc.reason))
    except httpx.TooManyRedirects:
        reason = f"too many redirects fetching {url} (limit {policy.max_redirects})"
        return Attempt(FetchedPage(url, None, b"", error=reason))
    except (httpx.UnsupportedProtocol, httpx.DecodingError) as exc:  # retrying cannot help
        reason = f"fetching {url} failed: {exc} ({type(exc).__name__})"
        return Attempt(FetchedPage(url, None, b"", error=reason))
    except httpx.TransportError as exc:  # timeouts, refused/reset connections, bad framing
        return _transport_failure(url, exc, policy, deadline, clock)
    return _classify(response, content)


def _timeout(policy: FetchPolicy, deadline: float, clock: Callable[[], float]) -> httpx.Timeout:
    # Never let one request outlive the overall deadline.
    remaining = max(deadline - clock(), 0.001)
    read = min(policy.read_timeout, remaining)
    connect = min(policy.connect_timeout, remaining)
    return httpx.Timeout(read, connect=connect, pool=connect)


def _read_body(
    response: httpx.Response, policy: FetchPolicy, deadline: float, clock: Callable[[], float]
) -> bytes:
    limit = policy.max_page_bytes
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _Fatal(f"{response.url}: page too large ({declared} bytes > {limit})")
    chunks: list[bytes] = []
    size = 0
    # iter_bytes yields decompressed data, so the cap also stops a compression bomb.
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            partial = b"".join(chunks)
            raise _Fatal(f"{response.url}: page too large (more than {limit} bytes)", partial)
        if clock() >= deadline:
            reason = f"overall deadline of {policy.deadline_seconds:g}s passed while "
            raise _Fatal(reason + f"reading {response.url}", b"".join(chunks))
        chunks.append(chunk)
    return b"".join(chunks)


def _transport_failure(
    url: str,
    exc: httpx.TransportError,
    policy: FetchPolicy,
    deadline: float,
    clock: Callable[[], float],
) -> Attempt:
    kind = type(exc).__name__
    if clock() >= deadline:
        reason = f"overall deadline of {policy.deadline_seconds:g}s passed fetching {url}"
        return Attempt(FetchedPage(url, None, b"", error=reason))
    if isinstance(exc, httpx.TimeoutException):
        reason = f"timed out fetching {url} ({kind})"
    elif isinstance(exc, httpx.RemoteProtocolError):
        reason = f"response from {url} looks truncated: {exc} ({kind})"
    elif isinstance(exc, httpx.ConnectError):
        reason = f"could not connect to {url}: {exc} ({kind})"
    else:
        reason = f"fetching {url} failed: {exc} ({kind})"
    return Attempt(FetchedPage(url, None, b"", error=reason), retryable=True)


def _classify(response: httpx.Response, content: bytes) -> Attempt:
    status = response.status_code
    url = str(response.url)
    page = FetchedPage(url, status, content, response.headers.get("content-type"))
    if 200 <= status < 300:
        return Attempt(page)
    page = replace(page, error=f"HTTP {status} {response.reason_phrase} from {url}")
    if status == 429 or status >= 500:
        retry_after = retry_after_seconds(response.headers.get("retry-after"))
        return Attempt(page, retryable=True, retry_after=retry_after)
    return Attempt(page)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not value or not value.strip():
        return None
    try:
        return max(float(value.strip()), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max((when - dt.datetime.now(dt.UTC)).total_seconds(), 0.0)
