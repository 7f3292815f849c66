"""API keys: generate, hash, create, list, revoke, and the in-memory cache that verifies them.

A key looks like `cl_ab12cd34_<43 url-safe chars>` (256 random bits from `secrets`). Only
HMAC-SHA256(key_pepper, key) and the visible prefix `cl_ab12cd34` are stored; the key itself
is shown once, by `certlookup keys create`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

import structlog
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection, Engine, or_, select, update
from sqlalchemy.orm import Session

from app.db import LoopReader
from app.errors import NotFound, Unavailable
from app.models import ApiKey, utcnow

log = structlog.get_logger(__name__)

KEY_SCHEME = "cl"
CACHE_SECONDS = 5.0
"""A revoked key stops working within this many seconds (plus one database read)."""
MISS_REFRESH_SECONDS = 1.0
"""An unknown key reloads the cache at most this often, so new keys work at once."""
REFRESH_WAIT_SECONDS = 1.0
"""How long a request waits for a reload before answering from the previous key set."""
LAST_USED_EVERY_SECONDS = 60.0
"""`last_used_at` is written at most this often per key and process."""


class Scope(StrEnum):
    """What a key may do: watch implies read; admin implies every scope."""

    READ = "read"
    WATCH = "watch"
    ADMIN = "admin"


_IMPLIED = {
    Scope.ADMIN.value: frozenset(s.value for s in Scope),
    Scope.WATCH.value: frozenset({Scope.READ.value}),
}


def effective_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """The stored scopes plus those they imply (watch implies read; admin implies all)."""
    granted = frozenset(scopes)
    return granted.union(*(_IMPLIED.get(scope, ()) for scope in granted))


def generate_key() -> tuple[str, str]:
    """A new random key and its visible prefix (`cl_` + 8 hex characters)."""
    prefix = f"{KEY_SCHEME}_{secrets.token_hex(4)}"
    return f"{prefix}_{secrets.token_urlsafe(32)}", prefix


def hash_key(key: str, pepper: str) -> str:
    """HMAC-SHA256 of the key under the server-side pepper, as hex."""
    return hmac.digest(pepper.encode(), key.encode(), "sha256").hex()


class KeyHasher:
    """`hash_key` under one pepper, remembered for the keys presented recently.

    Keying an HMAC looks SHA-256 up in OpenSSL, and in a busy server, where that lookup
    misses the CPU cache, it took 7 us a request (benchmarks/reports/check.md). The memo is
    indexed by a BLAKE2b digest of the key (CPython's own, no lookup), so no raw key stays
    in memory; it is bounded, and emptied when full (a flood of made-up keys only costs the
    HMACs it would have cost anyway).
    """

    def __init__(self, pepper: str, size: int = 4096) -> None:
        self._pepper = pepper
        self._size = size
        self._memo: dict[bytes, str] = {}

    def __call__(self, key: str) -> str:
        """The stored form of `key`: what `hash_key(key, pepper)` returns."""
        raw = key.encode()
        tag = hashlib.blake2b(raw, digest_size=32).digest()
        found = self._memo.get(tag)
        if found is None:
            found = hash_key(key, self._pepper)
            if len(self._memo) >= self._size:
                self._memo.clear()
            self._memo[tag] = found
        return found


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A newly created key: the only time the key itself exists outside the client."""

    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    key: str


def create_key(session: Session, name: str, scope: Scope, pepper: str) -> CreatedKey:
    """Store a new key's hash and prefix; return the key (it cannot be recovered later)."""
    key, prefix = generate_key()
    row = ApiKey(
        name=name,
        prefix=prefix,
        key_hash=hash_key(key, pepper),
        scopes=[scope.value],
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return CreatedKey(row.id, name, prefix, (scope.value,), key)


def list_keys(session: Session) -> list[ApiKey]:
    """Every key, revoked or not, oldest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, key_id: int) -> ApiKey:
    """Mark a key revoked (idempotent: the first revocation time is kept)."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no API key with id {key_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row


@dataclass(frozen=True, slots=True)
class ApiClient:
    """The caller of a request: a named API key, or an anonymous public reader."""

    name: str
    scopes: frozenset[str]
    key_id: int | None = None
    prefix: str | None = None


def load_active_keys(bind: Engine | Connection) -> dict[str, ApiClient]:
    """Hash → client for every key that is not revoked."""
    query = select(ApiKey.id, ApiKey.name, ApiKey.prefix, ApiKey.key_hash, ApiKey.scopes)
    with Session(bind) as session:
        rows = session.execute(query.where(ApiKey.revoked_at.is_(None))).all()
    return {
        row.key_hash: ApiClient(row.name, effective_scopes(row.scopes), row.id, row.prefix)
        for row in rows
    }


def record_last_used(engine: Engine, used: Mapping[int, dt.datetime]) -> None:
    """Write last-use times, never moving one backwards."""
    with Session(engine) as session, session.begin():
        for key_id, moment in used.items():
            session.execute(
                update(ApiKey)
                .where(ApiKey.id == key_id)
                .where(or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < moment))
                .values(last_used_at=moment)
            )


class KeyCache:
    """Active keys by hash, reloaded from the database at most every `ttl` seconds.

    Lookups are a dict read on the event loop. A reload (one small SELECT, awaited on the
    loop through `reader` when given, else in the threadpool; see app.db.LoopReader) starts
    when the key set is older than `ttl`, or on an unknown key at most once per
    `MISS_REFRESH_SECONDS`. A request waits up to `REFRESH_WAIT_SECONDS` for it, then answers
    from the previous set. If the database is unreachable the previous set stays in use; only
    before the first successful load does authentication fail (503).
    """

    def __init__(
        self,
        engine: Callable[[], Engine],
        *,
        reader: Callable[[], LoopReader] | None = None,
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._reader = reader
        self.ttl = ttl
        self._clock = clock
        self._keys: Mapping[str, ApiClient] | None = None
        self._attempted_at = float("-inf")
        self._reload: asyncio.Task[None] | None = None
        self._writing: asyncio.Task[None] | None = None
        self._used: dict[int, dt.datetime] = {}
        self._written: dict[int, float] = {}

    async def lookup(self, key_hash: str) -> ApiClient | None:
        """The active key with this hash, or None."""
        if self._keys is None or self._clock() - self._attempted_at >= self.ttl:
            await self._refresh()
        assert self._keys is not None
        client = self._keys.get(key_hash)
        if client is None and self._clock() - self._attempted_at >= MISS_REFRESH_SECONDS:
            await self._refresh()
            client = self._keys.get(key_hash)
        if client is not None and client.key_id is not None:
            self._used[client.key_id] = utcnow()
        return client

    def expire(self) -> None:
        """Reload on the next lookup (tests, and after revoking in-process)."""
        self._attempted_at = float("-inf")

    async def _refresh(self) -> None:
        if (
            self._reload is None
            or self._reload.done()
            or self._reload.get_loop() is not asyncio.get_running_loop()
        ):
            self._attempted_at = self._clock()
            self._reload = asyncio.create_task(self._reload_keys())
        if self._keys is None:
            await asyncio.shield(self._reload)
            if self._keys is None:
                raise Unavailable(
                    "API keys cannot be checked: the database is unreachable",
                    code="auth_unavailable",
                    headers={"Retry-After": "5"},
                )
            return
        await asyncio.wait({self._reload}, timeout=REFRESH_WAIT_SECONDS)

    async def _reload_keys(self) -> None:
        engine = self._engine()
        try:
            if self._reader is not None:
                keys = await self._reader().read(load_active_keys)
            else:
                keys = await run_in_threadpool(load_active_keys, engine)
            self._keys = MappingProxyType(keys)
        except Exception:
            log.warning("api_keys_reload_failed", exc_info=True)
            return
        if self._writing is not None and not self._writing.done():
            return  # the previous write is still going: these times wait for the next reload
        due = self._due_last_used()
        if due:
            # Not awaited: a request that started this reload waits for the reload, and
            # should not wait for a write as well.
            self._writing = asyncio.create_task(self._write_last_used(engine, due))

    async def _write_last_used(self, engine: Engine, due: Mapping[int, dt.datetime]) -> None:
        try:
            await run_in_threadpool(record_last_used, engine, due)
        except Exception:
            log.warning("api_keys_last_used_failed", exc_info=True)

    def _due_last_used(self) -> dict[int, dt.datetime]:
        now = self._clock()
        due = {
            key_id: moment
            for key_id, moment in self._used.items()
            if now - self._written.get(key_id, float("-inf")) >= LAST_USED_EVERY_SECONDS
        }
        for key_id in due:
            del self._used[key_id]
            self._written[key_id] = now
        return due
