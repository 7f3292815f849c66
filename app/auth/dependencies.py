"""Who is calling: API keys with read/watch/admin scopes (public reads when configured).

`require_read` / `require_watch` / `require_admin` authenticate from `X-API-Key` or
`Authorization: Bearer`, check the scope, then apply the per-caller rate limit. They only
touch memory: keys are verified against `KeyCache` (see app/auth/keys.py for how fresh it is).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any

import structlog
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.datastructures import QueryParams
from starlette.types import Scope as AsgiScope

from app.auth.failures import AuthFailures
from app.auth.keys import ApiClient, KeyCache, KeyHasher, Scope
from app.config import Settings
from app.errors import Forbidden, InvalidInput, Unauthorized
from app.ops.ratelimit import RateLimiter, enforce_rate_limit
from app.web import RepeatedHeader, raw_headers

__all__ = [
    "ANONYMOUS",
    "AUTH_DEPENDENCIES",
    "KEY_IN_QUERY",
    "QUERY_KEY",
    "READ_SECURITY",
    "AdminAccess",
    "ApiClient",
    "ReadAccess",
    "WatchAccess",
    "authenticate",
    "authenticate_for",
    "client_address",
    "get_key_cache",
    "key_headers",
    "presented_key",
    "presented_key_or_query_key",
    "read_access_from_headers",
    "read_access_with_query_key",
    "require_admin",
    "require_read",
    "require_read_query_key",
    "require_watch",
]

ANONYMOUS = ApiClient("anonymous", frozenset({Scope.READ.value}))
CHALLENGE = 'Bearer realm="certlookup"'

# Declared as security schemes so Swagger UI offers an "Authorize" button for both.
api_key_header = APIKeyHeader(
    name="X-API-Key", scheme_name="ApiKey", auto_error=False, description="API key (`cl_..._...`)."
)
bearer = HTTPBearer(
    scheme_name="Bearer", auto_error=False, description="The same API key as a bearer token."
)
QUERY_KEY = "api_key"
# Only for clients that cannot send headers (OpenRefine, see app/reconcile, and the
# organisation page its view link opens): a key in a URL is kept in their settings and
# history, so such routes are read-only. The access log and
# the metrics never record query strings (tests/reconcile/test_access.py).
api_key_query = APIKeyQuery(
    name=QUERY_KEY,
    scheme_name="ApiKeyQuery",
    auto_error=False,
    description="The same API key as the `api_key` query parameter, for clients that cannot "
    "send headers (OpenRefine): accepted by /reconcile and the organisation page "
    "(GET /v1/organisations/{id}, OpenRefine's view link) only. Use a read-scope key.",
)
ApiKeyHeader = Annotated[str | None, Security(api_key_header)]
ApiKeyInQuery = Annotated[str | None, Security(api_key_query)]
BearerHeader = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


def get_key_cache(request: Request) -> KeyCache:
    """This app's key cache, created on first use (no await in between: no race)."""
    state = request.app.state
    cache: KeyCache | None = getattr(state, "key_cache", None)
    if cache is None:
        cache = state.key_cache = KeyCache(lambda: state.engine, reader=lambda: state.reader)
    return cache


KEY_HEADERS = (b"x-api-key", b"authorization")
_HEADER_NAMES = {b"x-api-key": "X-API-Key", b"authorization": "Authorization"}


def presented_key(headers: Mapping[bytes, str]) -> str | None:
    """The API key in X-API-Key or `Authorization: Bearer`, or None if there is none.

    Raises Unauthorized when the two headers carry different keys.
    """
    header_key = headers.get(b"x-api-key") or None
    scheme, token = get_authorization_scheme_param(headers.get(b"authorization"))
    bearer_key = token if scheme.lower() == "bearer" and token else None
    if header_key and bearer_key and header_key != bearer_key:
        raise Unauthorized(
            "X-API-Key and Authorization carry different keys",
            headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_request"'},
        )
    return header_key or bearer_key


def query_key(scope: AsgiScope) -> str | None:
    """The key in the `api_key` query parameter, or None; a 422 when it is repeated."""
    raw = scope.get("query_string")
    if not raw or QUERY_KEY.encode() not in raw:
        return None
    values = QueryParams(raw).getlist(QUERY_KEY)
    if len(values) > 1:
        raise InvalidInput(
            f"the {QUERY_KEY} parameter is repeated: send one key, once",
            code="repeated_parameter",
        )
    return values[0] if values and values[0] else None


def presented_key_or_query_key(scope: AsgiScope) -> str | None:
    """The key in the headers (see presented_key) or in the `api_key` query parameter.

    Raises Unauthorized when both carry a key and the keys differ or a key header is
    repeated; InvalidInput when `api_key` is.
    """
    header_key = presented_key(key_headers(scope["headers"]))
    in_query = query_key(scope)
    if header_key and in_query and header_key != in_query:
        raise Unauthorized(
            f"the headers and the {QUERY_KEY} parameter carry different keys",
            headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_request"'},
        )
    return header_key or in_query


def key_headers(raw: Iterable[tuple[bytes, bytes]], *also: bytes) -> dict[bytes, str]:
    """X-API-Key and Authorization (and the `also` headers) from a raw header list.

    Raises Unauthorized when either key header is repeated: which one would count is not
    for the server to guess.
    """
    try:
        return raw_headers(raw, *KEY_HEADERS, *also, once=KEY_HEADERS)
    except RepeatedHeader as repeated:
        raise Unauthorized(
            f"the {_HEADER_NAMES[repeated.name]} header is repeated: send one key, once",
            code="repeated_header",
            headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_request"'},
        ) from None


def client_address(scope: AsgiScope) -> str:
    """The client's address (the right-most untrusted hop when proxies are trusted)."""
    client = scope.get("client")
    return client[0] if client else "unknown"


async def authenticate(request: Request, key: str | None) -> ApiClient:
    """The caller a key belongs to (ANONYMOUS without a key when reads are public).

    Raises Unauthorized for a missing or wrong key, RateLimited (auth_rate_limited) for an
    address that has presented too many wrong keys; a wrong key counts against its address.
    """
    settings: Settings = request.app.state.settings
    if key is None:
        if settings.public_read:
            return ANONYMOUS
        raise Unauthorized(
            "an API key is required (X-API-Key or Authorization: Bearer)",
            headers={"WWW-Authenticate": CHALLENGE},
        )
    failures: AuthFailures | None = request.app.state.auth_failures
    if failures is not None:
        failures.refuse_if_limited(client_address(request.scope))
    hasher: KeyHasher = request.app.state.key_hasher
    client = await get_key_cache(request).lookup(hasher(key))
    if client is None:
        if failures is not None:
            failures.record(client_address(request.scope))
        raise Unauthorized(
            "the API key is not valid (unknown or revoked)",
            headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_token"'},
        )
    return client


async def authenticate_for(request: Request, key: str | None, scope: Scope) -> ApiClient:
    """`authenticate`, but the admin and watch scopes need a key even when reads are public."""
    if key is None and scope is not Scope.READ:
        raise Unauthorized(
            f"an API key with the {scope.value} scope is required",
            headers={"WWW-Authenticate": CHALLENGE},
        )
    return await authenticate(request, key)


async def _authorise(request: Request, key: str | None, scope: Scope) -> ApiClient:
    client = await authenticate_for(request, key, scope)
    request.state.api_client = client
    structlog.contextvars.bind_contextvars(client=client.name)
    if scope not in client.scopes:  # a StrEnum member equals (and hashes as) its value
        raise Forbidden(f"this endpoint needs the {scope.value} scope")
    limiter: RateLimiter | None = request.app.state.rate_limiter
    if limiter is not None:
        enforce_rate_limit(request, limiter, _bucket(request, client))
    return client


def _bucket(request: Request, client: ApiClient) -> str:
    if client.key_id is not None:
        return f"key:{client.key_id}"
    return f"addr:{client_address(request.scope)}"


def _request_key(request: Request) -> str | None:
    # FastAPI's own header parameters take the first of repeated headers silently; the
    # raw list shows a repeat. The Security parameters below stay for the OpenAPI document.
    return presented_key(key_headers(request.scope["headers"]))


async def require_read(
    request: Request, header_key: ApiKeyHeader, credentials: BearerHeader
) -> ApiClient:
    """A caller allowed to read: a key with the read scope, or anyone if reads are public."""
    return await _authorise(request, _request_key(request), Scope.READ)


async def read_access_from_headers(
    request: Request, headers: Mapping[bytes, str] | None = None
) -> ApiClient:
    """`require_read` without dependency injection, for the one hot path that measures it.

    FastAPI resolves each (sub-)dependency at a cost comparable to the whole lookup, so
    GET /v1/check reads the two headers itself (or is handed them by `key_headers`, already
    scanned); it declares the same security schemes in its OpenAPI operation, so clients and
    Swagger UI see no difference.
    """
    if headers is None:
        headers = key_headers(request.scope["headers"])
    return await _authorise(request, presented_key(headers), Scope.READ)


async def require_read_query_key(
    request: Request,
    header_key: ApiKeyHeader,
    credentials: BearerHeader,
    in_query: ApiKeyInQuery,
) -> ApiClient:
    """`require_read`, also taking the key from the `api_key` query parameter."""
    return await _authorise(request, presented_key_or_query_key(request.scope), Scope.READ)


async def read_access_with_query_key(request: Request) -> ApiClient:
    """`require_read_query_key` without dependency injection, for a route that needs a key
    only for some requests (the reconciliation manifest is public)."""
    return await _authorise(request, presented_key_or_query_key(request.scope), Scope.READ)


# The OpenAPI security requirement of every read operation (either scheme will do).
READ_SECURITY: list[dict[str, list[str]]] = [
    {api_key_header.scheme_name: []},
    {bearer.scheme_name: []},
]


async def require_admin(
    request: Request, header_key: ApiKeyHeader, credentials: BearerHeader
) -> ApiClient:
    """A caller whose key has the admin scope."""
    return await _authorise(request, _request_key(request), Scope.ADMIN)


async def require_watch(
    request: Request, header_key: ApiKeyHeader, credentials: BearerHeader
) -> ApiClient:
    """A caller whose key has the watch scope (public reads never do: watches are owned)."""
    return await _authorise(request, _request_key(request), Scope.WATCH)


# The scope each auth dependency demands (app/route_guard.py checks keys before bodies).
AUTH_DEPENDENCIES: dict[Callable[..., Any], Scope] = {
    require_read: Scope.READ,
    require_read_query_key: Scope.READ,
    require_watch: Scope.WATCH,
    require_admin: Scope.ADMIN,
}

# The auth dependencies that also take the key from the query string.
KEY_IN_QUERY: frozenset[Callable[..., Any]] = frozenset({require_read_query_key})
# The OpenAPI security requirement of the operations that take a key in the query as well.
READ_SECURITY_WITH_QUERY_KEY: list[dict[str, list[str]]] = [
    *READ_SECURITY,
    {api_key_query.scheme_name: []},
]

ReadAccess = Annotated[ApiClient, Depends(require_read)]
ReadAccessQueryKey = Annotated[ApiClient, Depends(require_read_query_key)]
WatchAccess = Annotated[ApiClient, Depends(require_watch)]
AdminAccess = Annotated[ApiClient, Depends(require_admin)]
