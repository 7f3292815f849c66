"""The FastAPI application: create_app() and its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from fastapi.telemetry import TelemetryConfig

from app.auth.failures import auth_failures_for
from app.auth.keys import KeyHasher
from app.checks.router import router as checks_router
from app.checks.snapshot import SnapshotHolder, read_info
from app.config import Settings, get_settings
from app.db import LoopReader, make_engine, upgrade_database
from app.errors import install_error_handlers
from app.files.router import router as files_router
from app.logging import configure_logging
from app.openapi import install_openapi
from app.ops.docs import install_docs
from app.ops.middleware import install_middleware
from app.ops.router import router as ops_router
from app.ops.scheduler import start_scheduler
from app.ops.scheduler_metrics import SchedulerStateCollector
from app.receipts.keys import load_key_ring
from app.receipts.router import router as receipts_router
from app.reconcile.browser_router import router as reconcile_browser_router
from app.reconcile.router import router as reconcile_router
from app.register.atom import router as atom_router
from app.register.background import BackgroundSyncs
from app.register.history_router import router as history_router
from app.register.router import router as register_router
from app.register.runs_router import router as runs_router
from app.route_guard import guard_routes
from app.routing import add_routes
from app.watches.router import router as watches_router
from app.webhooks.guard import AddressGuard
from app.webhooks.metrics import WatchStateCollector
from app.webhooks.router import router as webhooks_router

log = structlog.get_logger(__name__)
POLL_TIMEOUT_SECONDS = 10.0
API_DESCRIPTION = (
    "Is this training provider's restraint-reduction training certified against the "
    "Restraint Reduction Network Training Standards? Answers from a mirror of the Bild ACT "
    "register, with evidence, freshness and history. See openapi.md."
)


def _operation_id(route: APIRoute) -> str:
    return route.operation_id or route.name


async def _poll_registry(holder: SnapshotHolder, reader: LoopReader, every: float) -> None:
    """Swap in a new snapshot soon after any process changes the registry version.

    The version check is awaited on the loop (see LoopReader); only a rebuild, once per
    new version, goes to the threadpool.
    """
    while True:
        await asyncio.sleep(every)
        try:
            async with asyncio.timeout(POLL_TIMEOUT_SECONDS):
                info = await reader.read(read_info)
            if not holder.needs_rebuild(info):
                holder.update_info(info)
            elif await run_in_threadpool(holder.refresh, info=info):
                log.info(
                    "index_swapped",
                    registry_version=holder.snapshot and holder.snapshot.info.version,
                )
        except Exception:
            log.warning("index_refresh_failed", exc_info=True)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the database, load the index, start the poller (and the scheduler if enabled).

    Each new index is frozen out of the cyclic garbage collector's reach (`gc.freeze`, run
    by the holder after a swap): it is tens of thousands of long-lived objects, and a full
    collection walking them paused a loaded server for ~100 ms, the tail of the GET /v1/check
    latency (benchmarks/reports/check.md). A replaced index holds no reference cycles, so
    reference counting frees it (tests/api/test_app_setup.py). Shutdown unfreezes.
    """
    settings: Settings = app.state.settings
    engine = app.state.engine
    if settings.is_sqlite:
        await run_in_threadpool(upgrade_database, settings)
    holder: SnapshotHolder = app.state.holder
    try:
        await run_in_threadpool(holder.refresh, force=True)
    except Exception:
        log.warning("index_load_failed", exc_info=True)
    app.state.syncs = BackgroundSyncs(engine, settings, holder)
    reader: LoopReader = app.state.reader
    poller = asyncio.create_task(_poll_registry(holder, reader, settings.index_poll_seconds))
    scheduler = start_scheduler(settings, engine, holder) if settings.scheduler else None
    try:
        yield
    finally:
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        await run_in_threadpool(app.state.syncs.shutdown)  # lets an API-started sync finish
        await reader.dispose()
        engine.dispose()
        gc.unfreeze()


def _telemetry(settings: Settings) -> TelemetryConfig:
    """FastAPI's own OpenTelemetry instrumentation, only when asked for.

    Left on, FastAPI looks up the global OpenTelemetry providers on every request even when
    none is configured (~7% of a bare request by callgrind); /metrics covers the same ground.
    """
    enabled = settings.opentelemetry
    return {"tracing": enabled, "metrics": enabled, "logs": enabled, "operation_spans": enabled}


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for the given (or environment) settings."""
    settings = settings or get_settings()
    configure_logging(settings)
    app = FastAPI(
        title="RRN certification lookup",
        version="1.0.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=_operation_id,
        telemetry=_telemetry(settings),
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.sqlalchemy_url)
    app.state.reader = LoopReader(settings.sqlalchemy_url)
    app.state.key_hasher = KeyHasher(settings.key_pepper)
    app.state.auth_failures = auth_failures_for(settings.auth_failure_limit)
    app.state.holder = SnapshotHolder(app.state.engine, on_swap=gc.freeze)
    app.state.receipt_keys = load_key_ring(settings)  # refuses to start without a usable key
    install_error_handlers(app)
    install_middleware(app, settings)
    app.state.metrics.registry.register(WatchStateCollector(lambda: app.state.engine))
    app.state.metrics.registry.register(SchedulerStateCollector(lambda: app.state.engine))
    # Routes match in order: the lookup hot path first, the docs last.
    app.state.address_guard = AddressGuard(allow_private=settings.webhook_allow_private)
    routers = (
        checks_router,
        files_router,
        register_router,
        atom_router,
        history_router,
        runs_router,
        watches_router,
        webhooks_router,
        reconcile_router,
        reconcile_browser_router,
        receipts_router,
    )
    for router in (*routers, ops_router):
        add_routes(app, router)
    install_docs(app)
    install_openapi(app)
    guard_routes(app, settings.max_body_bytes)  # last: it guards the routes added above
    return app
