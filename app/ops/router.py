"""Liveness, readiness and Prometheus metrics (no API key, no rate limit)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, text

from app.checks.examples import examples
from app.checks.snapshot import Snapshot
from app.checks.verdicts import Clock, register_stamp
from app.errors import Unavailable
from app.ops.metrics import AppMetrics

router = APIRouter(tags=["operations"])
DATABASE_TIMEOUT_SECONDS = 2.0
PROBLEM: dict[str, Any] = {"model": None, "content": {"application/problem+json": {}}}
METRICS_EXAMPLE = (
    "# HELP certlookup_verdicts_total Verdicts given, by verdict.\n"
    "# TYPE certlookup_verdicts_total counter\n"
    'certlookup_verdicts_total{verdict="certified"} 3.0\n'
)


EXAMPLE_READINESS: dict[str, Any] = {
    "status": "ready",
    "checks": {"database": "ok", "index": "ok", "sync": "ok"},
    "registry_version": 12,
    "last_synced_at": "2026-11-26T03:00:41.369075Z",
    "stale": False,
}


class Health(BaseModel):
    """The process is alive."""

    model_config = ConfigDict(json_schema_extra=examples({"status": "ok"}))

    status: str = Field(description="Always `ok`.")


class Readiness(BaseModel):
    """Ready to serve: the database answers, the lookup index is loaded and the mirror has
    synced successfully at least once (it may be stale: see `stale`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_READINESS]})

    status: str = Field(description="`ready`.")
    checks: dict[str, str] = Field(
        description="Each check and its result: `database`, `index` and `sync` (the mirror "
        "has synced successfully at least once), all `ok` when ready."
    )
    registry_version: int = Field(description="Registry version of the loaded index.")
    last_synced_at: dt.datetime | None = Field(description="Last successful sync (UTC).")
    stale: bool = Field(description="True when the data is older than max_age_hours.")


@router.get(
    "/healthz",
    operation_id="healthz",
    summary="Liveness: the process is up",
    response_model=Health,
)
async def healthz() -> Health:
    """Always 200 while the process can answer HTTP; checks nothing else."""
    return Health(status="ok")


def _select_one(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


async def _database_reachable(app: FastAPI) -> bool:
    # One probe at a time per app: a hung connect must not pile up threads under
    # frequent probes. The caller waits at most DATABASE_TIMEOUT_SECONDS.
    probe: asyncio.Task[bool] | None = getattr(app.state, "database_probe", None)
    if probe is None or probe.done() or probe.get_loop() is not asyncio.get_running_loop():
        probe = asyncio.create_task(run_in_threadpool(_select_one, app.state.engine))
        app.state.database_probe = probe
    try:
        return await asyncio.wait_for(asyncio.shield(probe), DATABASE_TIMEOUT_SECONDS)
    except TimeoutError:
        return False


def _sync_check(snapshot: Snapshot | None) -> str:
    """`ok` once the mirror has synced successfully: before that every answer is `unknown`."""
    if snapshot is None:
        return "unknown"  # nothing is known until the index loads
    return "ok" if snapshot.info.last_synced_at is not None else "never_synced"


@router.get(
    "/readyz",
    operation_id="readyz",
    summary="Readiness: database reachable, lookup index loaded, mirror synced once",
    response_model=Readiness,
    responses={
        503: {
            **PROBLEM,
            "description": "not_ready: `checks` says which check failed (`database: "
            "unreachable`, `index: not_loaded`, `sync: never_synced` until the first "
            "successful sync).",
        }
    },
)
async def readyz(request: Request) -> Readiness:
    """200 when the database answers within 2 s, the index is loaded and the mirror has synced
    at least once (stale data stays ready, flagged `stale`); else 503 saying which check failed.
    """
    snapshot = request.app.state.holder.snapshot
    checks = {
        "database": "ok" if await _database_reachable(request.app) else "unreachable",
        "index": "ok" if snapshot is not None else "not_loaded",
        "sync": _sync_check(snapshot),
    }
    failed = sorted(name for name, result in checks.items() if result != "ok")
    if failed or snapshot is None:
        raise Unavailable(
            "not ready: " + ", ".join(f"{name} {checks[name]}" for name in failed),
            code="not_ready",
            headers={"Retry-After": "5"},
            checks=checks,
        )
    settings = request.app.state.settings
    stamp = register_stamp(snapshot, Clock.for_settings(settings))
    return Readiness(
        status="ready",
        checks=checks,
        registry_version=stamp.version,
        last_synced_at=stamp.last_synced_at,
        stale=stamp.stale,
    )


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics of this process",
    response_class=Response,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}, "example": METRICS_EXAMPLE}},
            "description": "Prometheus text format.",
        }
    },
)
async def metrics(request: Request) -> Response:
    """Request, verdict and sync counters and register gauges, for this process only."""
    app_metrics: AppMetrics = request.app.state.metrics
    # In the threadpool: the watch and outbox gauges read the database (app/webhooks/metrics).
    body, content_type = await run_in_threadpool(app_metrics.render, request.headers.get("accept"))
    return Response(body, media_type=content_type)
