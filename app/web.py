"""HTTP helpers shared by routers: conditional requests (ETag / If-None-Match)."""

from __future__ import annotations

import hashlib
from collections.abc import Container, Iterable, Sequence

from fastapi import Request, Response
from starlette.datastructures import QueryParams

CACHE_CONTROL = "private, no-cache"


def make_etag(*parts: object) -> str:
    """A weak ETag from everything the representation depends on."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=10).hexdigest()
    return f'W/"{digest}"'


class PrerenderedResponse(Response):
    """A 200 whose raw header list was built once, with the body, for an answer that is
    memoised (GET /v1/check): building the headers cost more than sending them.

    Take the headers from `Response(body, media_type=..., headers=...).raw_headers`, so they
    are what that response would send; each response sends a list of its own (a middleware
    may add to it).
    """

    def __init__(self, body: bytes, raw_headers: Iterable[tuple[bytes, bytes]]) -> None:
        self.status_code = 200
        self.body = body
        self.background = None
        self.raw_headers = list(raw_headers)


class RepeatedHeader(ValueError):
    """A header that must appear at most once was sent more than once."""

    def __init__(self, name: bytes) -> None:
        super().__init__(f"the {name.decode('latin-1')} header is repeated")
        self.name = name


def raw_headers(
    headers: Iterable[tuple[bytes, bytes]], *names: bytes, once: Container[bytes] = ()
) -> dict[bytes, str]:
    """The named headers (lower-case bytes) in one pass over the raw list; absent ones left out.

    Cheaper than several `request.headers.get` calls, which each rescan and raise on a miss.
    A repeated header keeps its last value, unless it is named in `once`: then RepeatedHeader.
    """
    wanted = set(names)
    found: dict[bytes, str] = {}
    for name, value in headers:
        if name in wanted:
            if name in found and name in once:
                raise RepeatedHeader(name)
            found[name] = value.decode("latin-1")
    return found


def refuse_repeated(params: QueryParams, names: Iterable[str]) -> None:
    """422 `repeated_parameter` when one of `names` appears more than once in the query.

    Frameworks keep one of the values silently; which one the caller meant is not for the
    server to guess.
    """
    if len(params) == len(params.multi_items()):
        return  # no key appears twice: the common case, one comparison
    for name in names:
        if len(params.getlist(name)) > 1:
            from app.errors import InvalidInput

            raise InvalidInput(
                f"the {name} parameter is repeated: send it once", code="repeated_parameter"
            )


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


def _ranges(accept: str) -> list[tuple[str, float]]:
    """The media ranges of an Accept header with their q-values (a bad q counts as 0)."""
    ranges = []
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media:
            ranges.append((media.lower(), quality))
    return ranges


def preferred_type(accept: str | None, offered: Sequence[str]) -> str:
    """The offered media type the Accept header ranks highest (RFC 9110 section 12.5.1:
    the most specific range decides each type's q; ties go to the first offered)."""
    if not accept:
        return offered[0]
    ranges = _ranges(accept)

    def quality(media: str) -> float:
        kind = media.split("/")[0] + "/*"
        for pattern in (media, kind, "*/*"):
            found = [q for m, q in ranges if m == pattern]
            if found:
                return max(found)
        return 0.0

    best = max(offered, key=lambda media: (quality(media), -offered.index(media)))
    return best if quality(best) > 0 else offered[0]
