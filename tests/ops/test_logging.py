"""The log: one JSON line per request with all its fields, library records through the same
renderer, and whole lines only, whatever the values and however many threads or workers."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.logging import _SHARED, _render_bytes, access_logger, configure_logging
from app.main import create_app
from tests.conftest import make_settings
from tests.support.processes import certlookup_env, running, unused_port, wait_for_http

ACCESS_FIELDS = {
    "event",
    "request_id",
    "method",
    "path",
    "route",
    "status",
    "duration_ms",
    "client",
    "verdict",
    "timestamp",
    "level",
    "logger",
}


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of the text as a JSON object; fails on any line that is not one."""
    records = [json.loads(line) for line in text.splitlines()]
    assert all(isinstance(record, dict) for record in records)
    return records


def access_lines(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [record for record in records if record["logger"] == "app.access"]


def json_app(database_url: str, level: str = "INFO") -> FastAPI:
    """The app with production's logging (JSON at INFO) and a route that fails.

    Made in the test itself: the log writes to the stderr of the moment, and pytest's capsys
    swaps its stream between a fixture's set-up and the test.
    """
    app = create_app(make_settings(database_url, log_json=True, log_level=level))

    @app.get("/test/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    return app


def test_every_request_gets_one_json_line_with_every_field(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with TestClient(json_app(database_url), raise_server_exceptions=False) as client:
        capsys.readouterr()
        responses = [
            client.get("/v1/check", params={"name": "Acme Training"}),
            client.get("/v1/check", params={"name": "Zoë Lærning ✓"}),
            client.get("/v1/check"),
            client.get("/no/such/path", headers={"X-Request-ID": "caller-7"}),
            client.post("/v1/check/batch", content=b"{not json"),
            client.get("/healthz"),
            client.get("/test/boom"),
        ]
    records = json_lines(capsys.readouterr().err)
    lines = access_lines(records)

    assert [line["request_id"] for line in lines] == [r.headers["X-Request-ID"] for r in responses]
    assert [line["status"] for line in lines] == [r.status_code for r in responses]
    assert [line["path"] for line in lines] == [r.request.url.path for r in responses]
    for line in lines:
        assert set(line) == ACCESS_FIELDS, line
        assert line["method"] in {"GET", "POST"}
        assert isinstance(line["duration_ms"], float)
        stamped = dt.datetime.fromisoformat(line["timestamp"])
        assert line["timestamp"].endswith("Z")
        assert abs(stamped - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert [line["level"] for line in lines] == ["info"] * 6 + ["warning"]
    assert lines[0]["route"] == "/v1/check"
    assert lines[0]["client"] == "anonymous"
    assert lines[0]["verdict"] == responses[0].json()["verdict"]
    assert lines[3]["route"] == "<unmatched>"


def test_library_records_come_out_through_the_same_renderer(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    json_app(database_url)
    capsys.readouterr()
    logging.getLogger("some.library").warning("disk %s is %d%% full", "/var", 97)
    try:
        raise ValueError("bad row")
    except ValueError:
        logging.getLogger("other.library").exception("import failed")
    structlog.get_logger("app.somewhere").warning("app_event", run_id=3)
    records = json_lines(capsys.readouterr().err)

    assert [(r["logger"], r["level"], r["event"]) for r in records] == [
        ("some.library", "warning", "disk /var is 97% full"),
        ("other.library", "error", "import failed"),
        ("app.somewhere", "warning", "app_event"),
    ]
    assert "ValueError: bad row" in records[1]["exception"]
    assert records[2]["run_id"] == 3
    assert all(record["timestamp"].endswith("Z") for record in records)


class Opaque:
    def __repr__(self) -> str:
        return "<opaque>"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("line\nbreak\r\x1b[31m", "line\nbreak\r\x1b[31m"),
        ("lone \ud800 surrogate", "lone \ud800 surrogate"),
        (2**70, 2**70),
        ({1: "int key"}, {"1": "int key"}),
        (Opaque(), "<opaque>"),
    ],
)
def test_every_value_leaves_one_line_of_json(
    database_url: str, capsys: pytest.CaptureFixture[str], value: object, expected: object
) -> None:
    json_app(database_url)
    capsys.readouterr()
    structlog.get_logger("app.values").warning("value", value=value)
    logging.getLogger("lib.values").warning("value %s", value)
    (record, library) = json_lines(capsys.readouterr().err)

    assert record["value"] == expected
    assert library["event"] == f"value {value}"


def test_level_warning_logs_only_failed_requests(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = json_app(database_url, level="WARNING")
    with TestClient(app, raise_server_exceptions=False) as client:
        capsys.readouterr()
        client.get("/healthz")
        failed = client.get("/test/boom")
    lines = access_lines(json_lines(capsys.readouterr().err))

    assert [(line["status"], line["request_id"]) for line in lines] == [
        (500, failed.headers["X-Request-ID"])
    ]


def test_console_format_stays_readable(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(make_settings(database_url, log_json=False, log_level="INFO"))
    with TestClient(app) as client:
        capsys.readouterr()
        response = client.get("/healthz", headers={"X-Request-ID": "console-1"})
    logging.getLogger("some.library").warning("library line")
    lines = capsys.readouterr().err.splitlines()

    assert response.status_code == 200
    (access,) = [line for line in lines if "[app.access]" in line]
    assert "request" in access
    assert "request_id=console-1" in access
    assert "status=200" in access
    assert any("library line" in line and "[some.library]" in line for line in lines)


def test_threads_writing_at_once_leave_whole_lines(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(database_url, log_json=True, log_level="INFO")
    padding = "x" * 3000  # lines long enough that a torn write would show
    start = threading.Barrier(8)

    def write(worker: int) -> None:
        start.wait()
        for i in range(200):
            if worker % 2:
                access.info("request", worker=worker, i=i, padding=padding)
            else:
                logging.getLogger("lib").warning("w%d i%d %s", worker, i, padding)

    path = tmp_path / "stderr.log"
    with path.open("w", encoding="utf-8") as stream, monkeypatch.context() as patch:
        patch.setattr(sys, "stderr", stream)  # a real file, as in production
        configure_logging(settings)
        access = access_logger(settings)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(write, range(8)))
    records = json_lines(path.read_text(encoding="utf-8"))

    assert len(records) == 8 * 200
    assert sum(r["logger"] == "app.access" for r in records) == 4 * 200


@pytest.mark.slow
def test_two_workers_log_every_request_as_whole_lines(database_url: str, tmp_path: Path) -> None:
    port = unused_port()
    env = certlookup_env(database_url, CERTLOOKUP_SCHEDULER="false")
    url = f"http://127.0.0.1:{port}"
    paths = ["/v1/check?name=Acme", "/v1/check", "/no/such/path", "/healthz"] * 100
    with running(
        ["serve", "--port", str(port), "--workers", "2"], env=env, cwd=tmp_path, name="api"
    ) as api:
        wait_for_http(api, f"{url}/healthz")
        # Our own request ids: the start-up polls' lines may still be on their way.
        asked = [(path, f"whole-{i}") for i, path in enumerate(paths)]
        with httpx.Client(base_url=url, timeout=30) as client, ThreadPoolExecutor(8) as pool:
            responses = list(
                pool.map(lambda a: client.get(a[0], headers={"X-Request-ID": a[1]}), asked)
            )
    assert api.returncode == 0, api.tail()

    # Every line is JSON, uvicorn's own included (they were "INFO:     Started ..." lines).
    records = json_lines(api.output())
    lines = [line for line in access_lines(records) if line["request_id"].startswith("whole-")]
    assert sorted(line["request_id"] for line in lines) == sorted(
        r.headers["X-Request-ID"] for r in responses
    )
    assert {line["logger"] for line in records} >= {"app.access", "app.serve", "uvicorn.error"}
    assert "Application startup complete." in {line["event"] for line in records}


@pytest.mark.parametrize("log_json", [True, False])
def test_access_lines_are_what_structlog_would_write_byte_for_byte(
    database_url: str, monkeypatch: pytest.MonkeyPatch, log_json: bool
) -> None:
    """AccessLogger runs the shared processors itself (app/logging.py): same keys, same order,
    same rendering as structlog's own logger with those processors."""
    settings = make_settings(database_url, log_json=log_json, log_level="INFO")
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.setattr(time, "time_ns", lambda: 1_798_765_432_123_456_789)
    configure_logging(settings)
    structlog_way = structlog.wrap_logger(
        structlog.BytesLogger(stream.buffer, name="app.access"),
        processors=[*_SHARED, structlog.processors.format_exc_info, _render_bytes(settings)],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    )
    ours = access_logger(settings)
    fields = {"method": "GET", "path": "/v1/check", "status": 200, "client": None, "n": 1.5}
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id="r-1", client="bound", extra=[1, "ü"])
    try:
        for level in (logging.DEBUG, logging.INFO, logging.WARNING):
            structlog_way.log(level, "request", **fields)
            ours.log(level, "request", **fields)
    finally:
        structlog.contextvars.clear_contextvars()
    lines = stream.buffer.getvalue().splitlines()  # type: ignore[attr-defined]

    assert len(lines) == 4  # DEBUG is below the level: no line from either
    assert lines[0] == lines[1]
    assert lines[2] == lines[3]
    if log_json:
        keys = list(json.loads(lines[0]))  # bound ones in the context's order, not binding's
        assert keys[:6] == [*fields, "event"]
        assert set(keys[6:8]) == {"request_id", "extra"}
        assert keys[8:] == ["level", "logger", "timestamp"]
        assert json.loads(lines[0])["client"] is None  # an explicit field beats a bound one
        assert json.loads(lines[0])["timestamp"] == "2027-01-01T01:03:52.123456Z"
