"""HTTP helpers shared by routers: conditional requests (ETag / If-None-Match)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from fastapi import Request, Response

CACHE_CONTROL = "private, no-cache"


def make_etag(*parts: object) -> str:
    """A weak ETag from everything the representation depends on."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=10).hexdigest()
    return f'W/"{digest}"'


def raw_headers(request: Request, *names: bytes) -> dict[bytes, str]:
    """The named headers (lower-case bytes) in one pass over the raw list; absent ones left out.

    Cheaper than several `request.headers.get` calls, which each rescan and raise on a miss.
    """
    wanted = set(names)
    return {
        name: value.decode("latin-1") for name, value in request.scope["headers"] if name in wanted
    }


def etag_matches(header: str | None, etag: str) -> bool:
    """True when an If-None-Match header names this ETag (weak comparison) or is *."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    tags: Iterable[str] = (tag.strip().removeprefix("W/") for tag in header.split(","))
    return opaque in tags


def not_modified(request: Request, response: Response, etag: str) -> Response | None:
    """Set the ETag; return a 304 to send instead when the client already has this version."""
    response.headers["ETag"] = etag
    response.headers.setdefault("Cache-Control", CACHE_CONTROL)
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": CACHE_CONTROL})
    return None


async def require_json(request: Request) -> None:
    """415 unless the request body is declared as JSON."""
    from app.errors import ServiceError

    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise ServiceError(
            "the request body must be application/json", code="unsupported_media_type", status=415
        )
