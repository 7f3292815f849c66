"""Browse the mirror: organisations, changes, the register catalog, sync runs."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1", tags=["register"])
