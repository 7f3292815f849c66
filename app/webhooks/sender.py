"""One HTTP attempt to deliver one event: checked address, signed body, bounded answer."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import httpx

from app.errors import InvalidInput
from app.webhooks.guard import AddressGuard, Target
from app.webhooks.signing import signed_headers

TIMEOUT_SECONDS = 10.0
RESPONSE_LIMIT = 1024
USER_AGENT = "certlookup-webhooks/1.0"


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery leased to this worker, with what sending it needs."""

    delivery_id: int
    attempt: int
    webhook_id: int
    url: str
    secret: str
    message_id: str
    body: str


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one attempt got: a status and the start of the answer, or an error."""

    status_code: int | None
    error: str | None
    response_body: str | None
    duration_ms: int
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        """True for a 2xx answer (a 3xx is not followed, so it fails)."""
        return self.status_code is not None and 200 <= self.status_code < 300


def make_client() -> httpx.Client:
    """The delivery client: 10 s timeouts, no redirects, no proxies from the environment
    (a proxy would connect by name, past the address check)."""
    return httpx.Client(
        timeout=httpx.Timeout(TIMEOUT_SECONDS), follow_redirects=False, trust_env=False
    )


def pinned(target: Target) -> tuple[str, dict[str, str], dict[str, object]]:
    """URL, headers and request extensions that connect to the checked address itself, while
    the server still sees its own name (Host header, TLS SNI and certificate check)."""
    address = target.addresses[0]
    host = f"[{address}]" if address.version == 6 else str(address)
    url = target.url._replace(netloc=f"{host}:{target.port}").geturl()
    extensions: dict[str, object] = {}
    if target.url.scheme == "https":
        extensions["sni_hostname"] = target.host
    return url, {"host": target.url.netloc}, extensions


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() else None


def _read_start(response: httpx.Response) -> str:
    """At most RESPONSE_LIMIT bytes of the answer, as text without NULs."""
    kept = b""
    for chunk in response.iter_raw():
        kept += chunk
        if len(kept) >= RESPONSE_LIMIT:
            break
    return kept[:RESPONSE_LIMIT].decode("utf-8", "replace").replace("\x00", "")


def send_event(
    client: httpx.Client, guard: AddressGuard, claimed: Claimed, now: dt.datetime
) -> SendResult:
    """POST one event, signed for this attempt, to an address checked just now."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = guard.check(claimed.url)
    except InvalidInput as exc:
        return SendResult(None, f"refused: {exc.detail}", None, took())
    url, headers, extensions = pinned(target)
    headers |= {"content-type": "application/json", "user-agent": USER_AGENT}
    headers |= signed_headers(claimed.secret, claimed.message_id, claimed.body, now)
    content = claimed.body.encode()
    try:
        with client.stream(
            "POST", url, content=content, headers=headers, extensions=extensions
        ) as response:
            body = _read_start(response)
            status, retry_after = response.status_code, _retry_after(response)
    except httpx.TimeoutException:
        return SendResult(None, f"timed out after {TIMEOUT_SECONDS:g} s", None, took())
    except httpx.HTTPError as exc:
        return SendResult(None, f"{type(exc).__name__}: {exc}"[:500], None, took())
    error = None if 200 <= status < 300 else f"HTTP {status}"
    if 300 <= status < 400:
        error = f"HTTP {status}: redirects are not followed"
    return SendResult(status, error, body, took(), retry_after)
