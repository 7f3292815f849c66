"""Helpers shared by the sync tests: dump the mirror, read runs and artifacts, tweak sites."""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import (
    Base,
    Organisation,
    OrganisationEvent,
    RegistryState,
    SyncArtifact,
    SyncLease,
    SyncRun,
)
from app.register import sync as sync_module
from app.register.locks import ADVISORY_LOCK_KEY, LEASE_NAME
from app.register.sync import SyncReport, SyncRequest, run_sync
from scrapers import FetchPolicy
from tests.conftest import SAMPLE_SITE
from tests.support.httpserver import Response, html, routes_from_directory

CERTIFIED = "/certified-organisations/"
CERTIFIED_2 = "/certified-organisations/page/2/"
CERTIFIED_3 = "/certified-organisations/page/3/"
AFFILIATES = "/affiliate-organisations/"
WORKING_TOWARDS = "/working-towards-certification/"


def as_dict(obj: Base) -> dict[str, Any]:
    """Every mapped column of an ORM object, by attribute name."""
    return {attr.key: getattr(obj, attr.key) for attr in inspect(obj).mapper.column_attrs}


def mirror_dump(engine: Engine) -> dict[str, Any]:
    """Everything a lookup can see: organisations, their history and the registry version."""
    with Session(engine) as session:
        orgs = session.scalars(select(Organisation).order_by(Organisation.id)).all()
        events = session.scalars(select(OrganisationEvent).order_by(OrganisationEvent.id)).all()
        state = session.get_one(RegistryState, 1)
        return {
            "organisations": [as_dict(o) for o in orgs],
            "events": [as_dict(e) for e in events],
            "version": state.version,
        }


def organisations(engine: Engine) -> list[Organisation]:
    """All mirrored organisations, detached, in id order."""
    with Session(engine, expire_on_commit=False) as session:
        return list(session.scalars(select(Organisation).order_by(Organisation.id)))


def events(engine: Engine) -> list[OrganisationEvent]:
    """All recorded events, detached, in id order."""
    with Session(engine) as session:
        return list(session.scalars(select(OrganisationEvent).order_by(OrganisationEvent.id)))


def runs(engine: Engine) -> list[SyncRun]:
    """All sync runs, detached, in id order."""
    with Session(engine) as session:
        return list(session.scalars(select(SyncRun).order_by(SyncRun.id)))


def registry(engine: Engine) -> RegistryState:
    """The registry-state row, detached."""
    with Session(engine) as session:
        return session.get_one(RegistryState, 1)


def artifacts(engine: Engine, run_id: int | None = None) -> list[SyncArtifact]:
    """Kept raw pages (of one run, or of all runs), detached, in id order."""
    query = select(SyncArtifact).order_by(SyncArtifact.id)
    if run_id is not None:
        query = query.where(SyncArtifact.sync_run_id == run_id)
    with Session(engine) as session:
        return list(session.scalars(query))


def advisory_locks_held(engine: Engine) -> int:
    """Sessions holding the sync's advisory lock on this database (Postgres)."""
    query = text(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE l.locktype = 'advisory' AND l.objid = :key AND d.datname = current_database()"
    )
    with engine.connect() as conn:
        return int(conn.execute(query, {"key": ADVISORY_LOCK_KEY}).scalar_one())


def lease(engine: Engine) -> SyncLease:
    """The sync lease row (the lock on SQLite), detached."""
    with Session(engine) as session:
        return session.get_one(SyncLease, LEASE_NAME)


# Built once: loading the CA bundle costs ~50 ms per client, and the tests sync ~150 times.
_TLS = ssl.create_default_context()


def local_client() -> httpx.Client:
    """A client like scrapers.make_client's (the crawl sets User-Agent and timeouts per request)."""
    return httpx.Client(
        follow_redirects=True, max_redirects=FetchPolicy().max_redirects, verify=_TLS
    )


def sync(engine: Engine, settings: Settings, source_url: str, **request: Any) -> SyncReport:
    """run_sync against a local site, with a short lock wait."""
    request.setdefault("lock_wait_seconds", 1.0)
    request.setdefault("trigger", "test")
    with local_client() as client:
        return run_sync(engine, settings, SyncRequest(source_url=source_url, **request), client)


def sample_routes() -> dict[str, Response]:
    """The sample site's routes, as a fresh dict the test may change."""
    return routes_from_directory(SAMPLE_SITE)


def sample_text(path: str) -> str:
    """A sample-site page's HTML, by URL path."""
    relative = path.strip("/")
    file = SAMPLE_SITE / relative / "index.html" if relative else SAMPLE_SITE / "index.html"
    return file.read_text(encoding="utf-8")


def edited(path: str, edit: Callable[[str], str]) -> Response:
    """A sample-site page with its HTML edited; the edit must actually change something."""
    before = sample_text(path)
    after = edit(before)
    assert after != before, f"the edit changed nothing on {path}"
    return html(after)


def fast_fetching(monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:
    """Make run_sync's crawl retry quickly (and time out quickly) so fault tests stay fast."""
    original = sync_module.fetch_policy
    defaults: dict[str, Any] = {"backoff_base": 0.01, "connect_timeout": 2.0, "read_timeout": 2.0}

    def policy(settings: Settings) -> FetchPolicy:
        return dataclasses.replace(original(settings), **{**defaults, **changes})

    monkeypatch.setattr(sync_module, "fetch_policy", policy)
