"""Liveness, readiness and Prometheus metrics (no API key, no rate limit)."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from app.checks.examples import examples
from app.checks.snapshot import Snapshot
from app.checks.verdicts import Clock, register_stamp
from app.errors import Unavailable
from app.ops.heartbeat import Beat, newest_beat
from app.ops.metrics import AppMetrics
from app.routing import PlainRoute

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
    "scheduler": {
        "heartbeat_at": "2026-11-26T09:41:12.052113Z",
        "heartbeat_age_seconds": 12.407,
        "host": "certlookup-scheduler-1",
        "next_sync_at": "2026-11-27T03:00:00Z",
    },
}


class Health(BaseModel):
    """The process is alive."""

    model_config = ConfigDict(json_schema_extra=examples({"status": "ok"}))

    status: str = Field(description="Always `ok`.")


class SchedulerLiveness(BaseModel):
    """The scheduler's newest heartbeat (it writes one every CERTLOOKUP_HEARTBEAT_SECONDS)."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_READINESS["scheduler"]]})

    heartbeat_at: dt.datetime = Field(description="When it last wrote its heartbeat (UTC).")
    heartbeat_age_seconds: float = Field(
        description="Seconds since then: far above CERTLOOKUP_HEARTBEAT_SECONDS (30 by "
        "default) means the scheduler process is down or stuck and the data will age."
    )
    host: str = Field(description="The host (container) the scheduler runs on.")
    next_sync_at: dt.datetime | None = Field(
        description="When the scheduled sync runs next, as the scheduler saw it (UTC)."
    )


def _scheduler_out(beat: Beat | None) -> SchedulerLiveness | None:
    if beat is None:
        return None
    return SchedulerLiveness(
        heartbeat_at=beat.beat_at,
        heartbeat_age_seconds=round(beat.age_seconds(), 3),
        host=beat.host,
        next_sync_at=beat.next_sync_at,
    )


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
    scheduler: SchedulerLiveness | None = Field(
        description="The scheduler's newest heartbeat; null when no scheduler has ever run "
        "against this database. Informational: an old heartbeat does not make this process "
        "unready (it still answers from its data), but the data will age."
    )


HEALTHY = Health(status="ok").model_dump_json().encode()


async def healthz(request: Request) -> Response:
    """Always 200 while the process can answer HTTP; checks nothing else."""
    # A PlainRoute (app/routing.py): probes call it every few seconds, and FastAPI's
    # per-request work for a response_model cost more than the request's whole middleware.
    return Response(HEALTHY, media_type="application/json")


router.add_api_route(
    "/healthz",
    healthz,
    methods=["GET"],
    operation_id="healthz",
    summary="Liveness: the process is up",
    response_model=Health,
    route_class_override=PlainRoute,
)


@dataclass(frozen=True, slots=True)
class DatabaseProbe:
    """What one readiness probe of the database found."""

    reachable: bool
    beat: Beat | None = None
    """The scheduler's newest heartbeat (None: never written, or unreachable)."""


def _probe(engine: Engine) -> DatabaseProbe:
    try:
        return DatabaseProbe(True, newest_beat(engine))
    except Exception:
        return DatabaseProbe(False)


async def _probe_database(app: FastAPI) -> DatabaseProbe:
    # One probe at a time per app: a hung connect must not pile up threads under
    # frequent probes. The caller waits at most DATABASE_TIMEOUT_SECONDS.
    probe: asyncio.Task[DatabaseProbe] | None = getattr(app.state, "database_probe", None)
    if probe is None or probe.done() or probe.get_loop() is not asyncio.get_running_loop():
        probe = asyncio.create_task(run_in_threadpool(_probe, app.state.engine))
        app.state.database_probe = probe
    try:
        return await asyncio.wait_for(asyncio.shield(probe), DATABASE_TIMEOUT_SECONDS)
    except TimeoutError:
        return DatabaseProbe(False)


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
            "successful sync); `scheduler` as when ready.",
        }
    },
)
async def readyz(request: Request) -> Readiness:
    """200 when the database answers within 2 s, the index is loaded and the mirror has synced
    at least once (stale data stays ready, flagged `stale`); else 503 saying which check failed.
    """
    snapshot = request.app.state.holder.snapshot
    database = await _probe_database(request.app)
    checks = {
        "database": "ok" if database.reachable else "unreachable",
        "index": "ok" if snapshot is not None else "not_loaded",
        "sync": _sync_check(snapshot),
    }
    failed = sorted(name for name, result in checks.items() if result != "ok")
    scheduler = _scheduler_out(database.beat)
    if failed or snapshot is None:
        raise Unavailable(
            "not ready: " + ", ".join(f"{name} {checks[name]}" for name in failed),
            code="not_ready",
            headers={"Retry-After": "5"},
            checks=checks,
            scheduler=scheduler.model_dump(mode="json") if scheduler is not None else None,
        )
    settings = request.app.state.settings
    stamp = register_stamp(snapshot, Clock.for_settings(settings))
    return Readiness(
        status="ready",
        checks=checks,
        registry_version=stamp.version,
        last_synced_at=stamp.last_synced_at,
        stale=stamp.stale,
        scheduler=scheduler,
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
