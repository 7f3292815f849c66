"""How the app is put together: its route table, FastAPI's telemetry switch, and keeping
the lookup index out of the garbage collector's way."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import threading
from dataclasses import replace
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.checks import snapshot as snapshot_module
from app.checks.router import router as checks_router
from app.checks.snapshot import RegisterInfo, SnapshotHolder, load_snapshot, read_info
from app.config import Settings
from app.db import LoopReader, make_engine
from app.errors import InvalidInput, install_error_handlers
from app.main import _operation_id, _telemetry
from app.ops.router import router as ops_router
from app.register.router import router as register_router
from app.register.runs_router import router as runs_router
from app.register.sync import SyncReport
from app.routing import PlainRoute, add_routes
from tests.api.conftest import SyncSite, register_dev
from tests.conftest import make_settings
from tests.support.sitegen import generate_site

ROUTERS = (checks_router, register_router, runs_router, ops_router)


def _bare_app() -> FastAPI:
    return FastAPI(generate_unique_id_function=_operation_id)


def test_copied_routes_document_exactly_what_include_router_would() -> None:
    included, copied = _bare_app(), _bare_app()
    for router in ROUTERS:
        included.include_router(router)
        add_routes(copied, router)
    assert copied.openapi() == included.openapi()
    assert len(copied.openapi()["paths"]) >= 8


def test_the_service_route_table_holds_only_its_own_routes(app: FastAPI) -> None:
    # No included-router indirection: every path operation is a route of the app itself.
    api_routes = [route for route in app.router.routes if isinstance(route, APIRoute)]
    assert {route.path for route in api_routes} >= {"/v1/check", "/v1/organisations", "/healthz"}
    kinds = {type(route).__name__ for route in app.router.routes}
    assert kinds <= {"Route", "APIRoute", "PlainRoute", "Mount"}, kinds


def _real_value() -> str:
    return "real"


_override_router = APIRouter(prefix="/v9")


@_override_router.get("/who")
async def _who(value: Annotated[str, Depends(_real_value)]) -> dict[str, str]:
    return {"value": value}


def test_the_app_dependency_overrides_apply_to_copied_routes() -> None:
    app = _bare_app()
    add_routes(app, _override_router)
    with TestClient(app) as client:
        assert client.get("/v9/who").json() == {"value": "real"}
        app.dependency_overrides[_real_value] = lambda: "override"
        assert client.get("/v9/who").json() == {"value": "override"}


def test_add_routes_refuses_what_it_cannot_copy() -> None:
    outer, inner = APIRouter(), APIRouter()

    @inner.get("/x")
    async def x() -> None:
        return None

    outer.include_router(inner)
    with pytest.raises(TypeError, match="APIRoutes only"):
        add_routes(_bare_app(), outer)


async def _plain(request: Request) -> Response:
    if request.query_params.get("fail"):
        raise InvalidInput("fail was set")
    return Response(b"{}", media_type="application/json")


async def _takes_a_query_parameter(name: str) -> Response:
    return Response(name)


def _plain_takes_ten() -> None:
    return None


def test_a_plain_route_passes_the_request_through_and_keeps_the_error_handlers() -> None:
    app = _bare_app()
    install_error_handlers(app)
    app.router.add_api_route("/p", _plain, route_class_override=PlainRoute)
    with TestClient(app) as client:
        assert client.get("/p").content == b"{}"
        failed = client.get("/p", params={"fail": "1"})
    assert failed.status_code == 422
    assert failed.headers["content-type"] == "application/problem+json"
    assert "/p" in app.openapi()["paths"]


@pytest.mark.parametrize("endpoint", [_takes_a_query_parameter, _plain_takes_ten])
def test_a_plain_route_refuses_endpoints_fastapi_would_have_to_serve(endpoint: Any) -> None:
    with pytest.raises(TypeError, match="PlainRoute endpoint"):
        _bare_app().router.add_api_route("/p", endpoint, route_class_override=PlainRoute)


def test_a_plain_route_refuses_a_body_limit_it_would_not_apply() -> None:
    with pytest.raises(TypeError, match="max_body_size"):
        _bare_app().router.add_api_route(
            "/p", _plain, route_class_override=PlainRoute, max_body_size=10
        )


def test_the_check_endpoint_is_a_plain_route(app: FastAPI) -> None:
    (check,) = [r for r in app.router.routes if getattr(r, "path", None) == "/v1/check"]
    assert isinstance(check, PlainRoute)


@pytest.mark.parametrize("enabled", [True, False])
def test_fastapi_telemetry_follows_the_setting(enabled: bool) -> None:
    settings: Settings = make_settings("sqlite://", opentelemetry=enabled)
    config = _telemetry(settings)
    assert {config[k] for k in ("tracing", "metrics", "logs", "operation_spans")} == {enabled}


def test_a_replaced_index_is_freed_by_reference_counting(
    sample_synced: SyncReport, api_settings: Settings
) -> None:
    # Frozen objects are never collected as cycles: the index must hold none, or every swap
    # would leak the one it replaced.
    engine = make_engine(api_settings.sqlalchemy_url)
    try:
        with Session(engine) as session:
            load_snapshot(session)  # warm caches (SQLAlchemy compiled statements, interning)
        gc.collect()
        gc.disable()
        before = len(gc.get_objects())
        with Session(engine) as session:
            snapshot = load_snapshot(session)
        built = len(gc.get_objects()) - before
        del snapshot
        left = len(gc.get_objects()) - before
    finally:
        gc.enable()
        engine.dispose()
    assert built > 500  # the sample register: ~100 organisations and their names
    assert left < 50, f"{left} of {built} objects outlived the snapshot"


def test_the_index_is_frozen_while_the_app_runs_and_released_at_shutdown(
    sample_synced: SyncReport, app: FastAPI
) -> None:
    gc.unfreeze()
    with TestClient(app):
        assert gc.get_freeze_count() > 1000  # the index (and all else alive at the swap)
    assert gc.get_freeze_count() == 0


def test_on_swap_runs_after_each_rebuild_only(
    sample_synced: SyncReport, api_settings: Settings, sync_site: SyncSite
) -> None:
    swaps: list[int] = []
    engine = make_engine(api_settings.sqlalchemy_url)
    holder = SnapshotHolder(engine, on_swap=lambda: swaps.append(1))
    try:
        assert holder.refresh(force=True)
        assert len(swaps) == 1
        assert not holder.refresh()
        assert len(swaps) == 1
        orgs = register_dev()
        orgs.pop()
        sync_site(generate_site(orgs))
        assert holder.refresh()
        assert len(swaps) == 2
    finally:
        engine.dispose()


def test_refresh_uses_the_state_it_is_given_instead_of_reading_it_again(
    sample_synced: SyncReport, api_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(api_settings.sqlalchemy_url)
    holder = SnapshotHolder(engine)
    try:
        assert holder.refresh(force=True)
        assert holder.snapshot is not None
        current = holder.snapshot.info
        later = replace(current, last_attempted_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))

        def no_read(bind: object) -> RegisterInfo:
            raise AssertionError("refresh read the registry state again")

        monkeypatch.setattr(snapshot_module, "read_info", no_read)
        assert not holder.refresh(info=later)  # same version: no rebuild, new times taken
        assert holder.snapshot.info == later
    finally:
        engine.dispose()


def test_the_loop_reader_reads_on_the_event_loop_thread(database_url: str) -> None:
    reader = LoopReader(database_url)
    threads: list[int] = []

    def work(connection: Connection) -> RegisterInfo:
        threads.append(threading.get_ident())
        return read_info(connection)

    async def main() -> RegisterInfo:
        try:
            return await reader.read(work)
        finally:
            await reader.dispose()

    info = asyncio.run(main())
    assert info.version == 0
    assert threads == [threading.get_ident()]  # asyncio.run's loop runs on this thread
