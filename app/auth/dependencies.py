"""Who is calling: API keys with read/watch/admin scopes (public reads when configured).

`require_read` / `require_watch` / `require_admin` authenticate from `X-API-Key` or
`Authorization: Bearer`, check the scope, then apply the per-caller rate limit. They only
touch memory: keys are verified against `KeyCache` (see app/auth/keys.py for how fresh it is).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import structlog
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from app.auth.keys import ApiClient, KeyCache, KeyHasher, Scope
from app.config import Settings
from app.errors import Forbidden, Unauthorized
from app.ops.ratelimit import RateLimiter, enforce_rate_limit
from app.web import raw_headers

__all__ = [
    "ANONYMOUS",
    "READ_SECURITY",
    "AdminAccess",
    "ApiClient",
    "ReadAccess",
    "WatchAccess",
    "get_key_cache",
    "read_access_from_headers",
    "require_admin",
    "require_read",
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
ApiKeyHeader = Annotated[str | None, Security(api_key_header)]
BearerHeader = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


def get_key_cache(request: Request) -> KeyCache:
    """This app's key cache, created on first use (no await in between: no race)."""
    state = request.app.state
    cache: KeyCache | None = getattr(state, "key_cache", None)
    if cache is None:
        cache = state.key_cache = KeyCache(lambda: state.engine, reader=lambda: state.reader)
    return cache


def _presented_key(
    header_key: str | None, credentials: HTTPAuthorizationCredentials | None
) -> str | None:
    bearer_key = credentials.credentials if credentials else None
    if header_key and bearer_key and header_key != bearer_key:
        raise Unauthorized(
            "X-API-Key and Authorization carry different keys",
            headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_request"'},
        )
    return header_key or bearer_key


async def _authenticate(request: Request, key: str | None) -> ApiClient:
    settings: Settings = request.app.state.settings
    if key is None:
        if settings.public_read:
            return ANONYMOUS
        raise Unauthorized(
            "an API key is required (X-API-Key or Authorization: Bearer)",
            headers={"WWW-Authenticate": CHALLENGE},
        )
    hasher: KeyHasher = request.app.state.key_hasher
    client = await get_key_cache(request).lookup(hasher(key))
    if client is None:
        raise Unauthorized(
            "the API key is not valid (unknown or revoked)",
            headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_token"'},
        )
    return client


async def _authorise(request: Request, key: str | None, scope: Scope) -> ApiClient:
    client = await _authenticate(request, key)
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
    # Behind a reverse proxy this is the proxy's address unless uvicorn is told to trust
    # its X-Forwarded-For (FORWARDED_ALLOW_IPS / --forwarded-allow-ips).
    return f"addr:{request.client.host if request.client else 'unknown'}"


async def require_read(
    request: Request, header_key: ApiKeyHeader, credentials: BearerHeader
) -> ApiClient:
    """A caller allowed to read: a key with the read scope, or anyone if reads are public."""
    return await _authorise(request, _presented_key(header_key, credentials), Scope.READ)


async def read_access_from_headers(
    request: Request, headers: Mapping[bytes, str] | None = None
) -> ApiClient:
    """`require_read` without dependency injection, for the one hot path that measures it.

    FastAPI resolves each (sub-)dependency at a cost comparable to the whole lookup, so
    GET /v1/check reads the two headers itself (or is handed them, already scanned); it
    declares the same security schemes in its OpenAPI operation, so clients and Swagger UI
    see no difference.
    """
    if headers is None:
        headers = raw_headers(request, b"x-api-key", b"authorization")
    header_key = headers.get(b"x-api-key") or None
    scheme, token = get_authorization_scheme_param(headers.get(b"authorization"))
    credentials = None
    if scheme.lower() == "bearer" and token:
        credentials = HTTPAuthorizationCredentials(scheme=scheme, credentials=token)
    return await _authorise(request, _presented_key(header_key, credentials), Scope.READ)


# The OpenAPI security requirement of every read operation (either scheme will do).
READ_SECURITY: list[dict[str, list[str]]] = [
    {api_key_header.scheme_name: []},
    {bearer.scheme_name: []},
]


async def require_admin(
    request: Request, header_key: ApiKeyHeader, credentials: BearerHeader
) -> ApiClient:
    """A caller whose key has the admin scope."""
    key = _presented_key(header_key, credentials)
    if key is None:
        raise Unauthorized("an admin API key is required", headers={"WWW-Authenticate": CHALLENGE})
    return await _authorise(request, key, Scope.ADMIN)


async def require_watch(
    request: Request, header_key: ApiKeyHeader, credentials: BearerHeader
) -> ApiClient:
    """A caller whose key has the watch scope (public reads never do: watches are owned)."""
    key = _presented_key(header_key, credentials)
    if key is None:
        raise Unauthorized(
            "an API key with the watch scope is required", headers={"WWW-Authenticate": CHALLENGE}
        )
    return await _authorise(request, key, Scope.WATCH)


ReadAccess = Annotated[ApiClient, Depends(require_read)]
WatchAccess = Annotated[ApiClient, Depends(require_watch)]
AdminAccess = Annotated[ApiClient, Depends(require_admin)]
