"""Certificate numbers and websites: the forms in which two of them are the same identifier.

Certificate numbers compare without case, spaces or hyphens (`act 2421` is `ACT2421`).
Websites compare by host: scheme, `www.`, case, port, path, query and a trailing dot do not
count, and an internationalised name compares in its ASCII (punycode) form, so a lookalike
written in another script never equals the real host. A subdomain of a registered host is
that host's (`training.maybo.co.uk` is `maybo.co.uk`'s); a parent, sibling or lookalike is
not. On a few shared platforms the path, not the host, names the organisation
(`facebook.com/maybo`): there the path is kept and compared by its leading segments.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from functools import cache, lru_cache
from urllib.parse import urlsplit

import idna
from publicsuffixlist import PublicSuffixList

MAX_CERTIFICATE_LENGTH = 50
MAX_WEBSITE_LENGTH = 2000
# Separators people put inside certificate numbers ("ACT-2421", "ACT 2421", "ACT/2421").
_CERTIFICATE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212_./]+")
_CERTIFICATE = re.compile(r"[A-Z0-9]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
# Hosts shared by many organisations, where the path names one of them. A registered website
# on one of these counts only with its path; the bare platform never identifies anyone.
PATH_PLATFORMS = frozenset(
    {
        "facebook.com",
        "fb.com",
        "instagram.com",
        "linkedin.com",
        "twitter.com",
        "x.com",
        "youtube.com",
        "tiktok.com",
        "linktr.ee",
        "sites.google.com",
        "github.com",
        "www.gov.uk",
        "www.nhs.uk",
    }
)


@cache
def _public_suffixes() -> PublicSuffixList:
    """The Public Suffix List, bundled with the package and never fetched: `co.uk`, `nhs.uk`
    or `blogspot.com` are where many organisations' domains live, never one's own domain.
    Loaded on first use: parsing it costs about as much as the rest of start-up."""
    return PublicSuffixList()


class IdentifierError(ValueError):
    """The text cannot be the identifier it was given as; the message says why."""


def normalise_certificate_number(raw: str) -> str:
    """The comparable form of a certificate number: `ACT2421` from `act 2421`, `ACT-2421`."""
    if len(raw) > MAX_CERTIFICATE_LENGTH:
        raise IdentifierError(f"is longer than {MAX_CERTIFICATE_LENGTH} characters")
    if _CONTROL.search(raw):
        raise IdentifierError("contains control characters")
    text = _CERTIFICATE_SEPARATORS.sub("", unicodedata.normalize("NFKC", raw))
    if not text.isascii() or not _CERTIFICATE.fullmatch(text.upper()):
        raise IdentifierError("must be letters and digits, such as ACT2421")
    return text.upper()


def normalise_website(raw: str) -> str:
    """The comparable form of a website: its host (`maybo.co.uk`), or on a shared platform
    the host and the path in lower case (`facebook.com/maybo`)."""
    text = raw.strip()
    if len(text) > MAX_WEBSITE_LENGTH:
        raise IdentifierError(f"is longer than {MAX_WEBSITE_LENGTH} characters")
    if _CONTROL.search(text) or any(c.isspace() for c in text) or "\\" in text:
        raise IdentifierError("contains spaces, backslashes or control characters")
    scheme = _SCHEME.match(text)
    if scheme and scheme[1].lower() not in ("http", "https"):
        raise IdentifierError("must be an http or https address")
    try:
        parts = urlsplit(text if scheme or text.startswith("//") else "//" + text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise IdentifierError("is not a web address") from None
    if "@" in parts.netloc:
        raise IdentifierError("looks like an e-mail address, not a website")
    host = _ascii_host(parts.hostname or "")
    platform = next((s for s in _suffixes(host) if s in PATH_PLATFORMS), None)
    if platform is None:
        return host
    segments = [s.lower() for s in parts.path.split("/") if s]
    return "/".join([platform, *segments])


@lru_cache(maxsize=1 << 14)
def _ascii_host(hostname: str) -> str:
    """The host in lower-case ASCII (IDNA 2008 with UTS 46 mapping), without `www.`.
    Cached: IDNA encoding is most of a website check, and tender returns repeat hosts (an
    error is raised again each time, not cached)."""
    hostname = hostname.removesuffix(".")
    if not hostname:
        raise IdentifierError("has no host name")
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        pass
    else:
        raise IdentifierError("is an IP address, not a domain name")
    try:
        host = idna.encode(hostname, uts46=True, std3_rules=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise IdentifierError("is not a valid domain name") from None
    if host.startswith("www.") and not _public_suffixes().is_public(host[4:]):
        host = host[4:]
    if "." not in host:
        raise IdentifierError("needs a domain name such as example.org.uk")
    if _public_suffixes().is_public(host):
        raise IdentifierError("is a public suffix (such as co.uk), not one organisation's domain")
    return host


def _suffixes(host: str) -> list[str]:
    """The host and each parent domain that is not a public suffix, longest first."""
    labels = host.split(".")
    found = []
    for i in range(len(labels) - 1):
        domain = ".".join(labels[i:])
        if _public_suffixes().is_public(domain):
            break
        found.append(domain)
    return found


def website_lookup_keys(website: str) -> list[str]:
    """The registered forms a normalised website may belong to, most specific first: the
    host and its parent domains, or on a platform the path and its leading parts."""
    host, _, path = website.partition("/")
    if host in PATH_PLATFORMS:
        segments = path.split("/") if path else []
        return ["/".join([host, *segments[:n]]) for n in range(len(segments), 0, -1)]
    return _suffixes(host)


@lru_cache(maxsize=1 << 16)
def registered_website_key(listed: str) -> str | None:
    """The form a website as the register lists it is found by; None when it names no one
    (not a web address, or a bare shared platform). Cached: every index build after a sync
    meets the same websites again."""
    try:
        key = normalise_website(listed)
    except IdentifierError:
        return None
    host, _, path = key.partition("/")
    return None if host in PATH_PLATFORMS and not path else key


@lru_cache(maxsize=1 << 16)
def registered_certificate_key(listed: str) -> str | None:
    """The form a certificate number as the register lists it is found by, if it is one."""
    try:
        return normalise_certificate_number(listed)
    except IdentifierError:
        return None
