"""Shared benchmark plumbing: scratch databases, a served synthetic register, servers, wrk."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.config import Settings
from app.db import make_engine, upgrade_database
from app.register.sync import SyncRequest, run_sync
from tests.conftest import make_settings
from tests.support.httpserver import serve_site
from tests.support.sitegen import generate_register, generate_site

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "benchmarks" / "reports"


def machine() -> str:
    """One line naming the machine the figures come from."""
    return (
        f"{platform.node()} · {os.cpu_count()} CPUs · Python {platform.python_version()} · "
        f"{platform.platform()}"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mirrored_database(path: Path, organisations: int, seed: int = 11) -> Settings:
    """A SQLite database holding a synced synthetic register of this size."""
    settings = make_settings(
        f"sqlite:///{path}", fetch_max_pages=10_000, fetch_deadline_seconds=900.0
    )
    upgrade_database(settings)
    orgs = generate_register(organisations, seed)
    with serve_site(generate_site(orgs, seed=seed, page_size=100)) as server:
        engine = make_engine(settings.sqlalchemy_url)
        report = run_sync(engine, settings, SyncRequest(source_url=server.url))
        engine.dispose()
    assert report.ok, report.reason
    return settings


def pinned(cpu: int | None) -> list[str]:
    """A `taskset` prefix running a command on one CPU; nothing when that is not possible."""
    if cpu is None or (os.cpu_count() or 1) < 2 or not shutil.which("taskset"):
        return []
    return ["taskset", "-c", str(cpu)]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def uvicorn_server(
    factory: str,
    env: dict[str, str],
    workers: int = 1,
    cpu: int | None = None,
    log_path: Path | None = None,
) -> Iterator[tuple[str, int]]:
    """Run `uvicorn --factory` in a subprocess; yields its base URL and pid; always stops it.

    With `cpu`, the server runs on that CPU only (see `pinned`); with `log_path`, its output
    (the service logs to stderr) goes to that file instead of this terminal.
    """
    port = free_port()
    command = [
        *pinned(cpu),
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(log_path.open("ab")) if log_path else None
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=log
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            httpx.get(url + "/", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def service_env(settings: Settings) -> dict[str, str]:
    """Environment for running the service on this database with limits off.

    Logging keeps its defaults, as in production: a JSON line on stderr per request.
    """
    return {
        "DATABASE_URL": settings.sqlalchemy_url,
        "CERTLOOKUP_SCHEDULER": "false",
        "CERTLOOKUP_PUBLIC_READ": "true",
        "CERTLOOKUP_RATE_LIMIT": "0",
        "CERTLOOKUP_ENVIRONMENT": "test",
    }


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def wrk(
    url: str,
    *,
    seconds: int,
    connections: int = 64,
    threads: int = 2,
    script: Path | None = None,
    cpu: int | None = None,
) -> dict:
    """Run wrk; returns requests/s, p50 and p99 latency (ms), and non-2xx/socket errors."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        command[1:1] = ["-s", str(script)]
    command[:0] = pinned(cpu)
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = {p: _ms(re.search(rf"\s{p}%\s+([\d.]+)(\w+)", out)) for p in ("50", "99")}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "rps": rps,
        "p50": latency["50"],
        "p99": latency["99"],
        "non2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "none",
    }


def _ms(match: re.Match[str] | None) -> float:
    assert match, "wrk output without a latency line"
    return float(match.group(1)) * _UNITS[match.group(2)]


def median(values: list[float]) -> float:
    return statistics.median(values)


def rss_mib(pid: int) -> float:
    """Resident memory of a process, MiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")
