"""The address guard: webhook URLs reach public HTTPS servers only (no request forgery).

A URL is checked when it is registered and again before every delivery: its host is
resolved and every address must be public, and the delivery then connects to one of the
addresses checked, so a DNS answer that changes in between (DNS rebinding) cannot send a
request inward. `CERTLOOKUP_WEBHOOK_ALLOW_PRIVATE=true` (development and tests; refused in
production) also allows http:// and loopback or private targets.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from app.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., Sequence[tuple[Any, ...]]]
MAX_URL_LENGTH = 2000
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def is_public(address: IPAddress) -> bool:
    """True for a globally routable unicast address, looking inside IPv6 forms that embed
    an IPv4 address (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(embedded)
        if address.teredo is not None:
            return False
    return address.is_global and not address.is_multicast


@dataclass(frozen=True, slots=True)
class Target:
    """A webhook URL that passed the guard, with the addresses it may connect to."""

    url: SplitResult
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


class AddressGuard:
    """Checks webhook URLs and resolves them to addresses it allows."""

    def __init__(self, *, allow_private: bool, resolver: Resolver = socket.getaddrinfo) -> None:
        self.allow_private = allow_private
        self._resolve = resolver

    def parse(self, raw: str) -> SplitResult:
        """The URL split, or InvalidInput (webhook_url_invalid) saying what is wrong."""
        url = _split(raw)
        schemes = ("https", "http") if self.allow_private else ("https",)
        if url.scheme not in schemes:
            raise _invalid("the webhook URL must be https://")
        if not url.hostname:
            raise _invalid("the webhook URL has no host")
        if url.username is not None or url.password is not None:
            raise _invalid("the webhook URL must not carry a user name or password")
        if url.fragment:
            raise _invalid("the webhook URL must not have a #fragment")
        return url

    def check(self, raw: str) -> Target:
        """Parse, resolve and vet a URL; InvalidInput when it may not be called."""
        url = self.parse(raw)
        host = url.hostname or ""
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = self._addresses(host, port)
        refused = [a for a in addresses if not is_public(a)]
        if refused and not self.allow_private:
            raise InvalidInput(
                f"the webhook host {host} resolves to {refused[0]}, which is not a public address",
                code="webhook_url_not_allowed",
            )
        return Target(url, host, port, addresses)

    def _addresses(self, host: str, port: int) -> tuple[IPAddress, ...]:
        try:
            infos = self._resolve(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise InvalidInput(
                f"the webhook host {host} cannot be resolved ({exc})",
                code="webhook_url_unresolvable",
            ) from None
        found: dict[IPAddress, None] = {}
        for info in infos:
            # Strip an IPv6 scope ("fe80::1%eth0"): the address alone decides.
            found[ipaddress.ip_address(str(info[4][0]).split("%")[0])] = None
        if not found:
            raise InvalidInput(
                f"the webhook host {host} has no address", code="webhook_url_unresolvable"
            )
        return tuple(found)


def _split(raw: str) -> SplitResult:
    if len(raw) > MAX_URL_LENGTH or any(ord(c) < 33 or ord(c) == 127 for c in raw):
        raise _invalid(f"the webhook URL must be at most {MAX_URL_LENGTH} characters, no spaces")
    try:
        url = urlsplit(raw)
        url.port  # noqa: B018 (raises ValueError for a port out of range or not a number)
    except ValueError as exc:
        raise _invalid(f"the webhook URL is malformed ({exc})") from None
    return url


def _invalid(detail: str) -> InvalidInput:
    return InvalidInput(detail, code="webhook_url_invalid")
