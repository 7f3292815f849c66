"""Run `certlookup` commands as real subprocesses for multi-process tests, and always kill them.

Usage::

    env = certlookup_env(database_url, CERTLOOKUP_SCHEDULER="off")
    port = unused_port()
    with running(["serve", "--port", str(port)], env=env, cwd=tmp_path, name="api") as api:
        wait_for_http(api, f"http://127.0.0.1:{port}/readyz")
        ...
    assert api.returncode == 0          # stopped with SIGTERM, exited cleanly
    api.events("index_swapped")         # JSON log lines (CERTLOOKUP_LOG_JSON=true)

Each process gets its own session (process group), so a `serve --workers N` supervisor and its
workers all go down with it. Output (stdout and stderr) goes to ``<cwd>/<name>.log``; the working
directory is a test directory, so no `.env` file from the repository is read.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.support.httpserver import unused_port

__all__ = [
    "CertlookupProcess",
    "certlookup_env",
    "run_certlookup",
    "running",
    "unused_port",
    "wait_for_http",
    "wait_until",
]

_SCRIPT = Path(sys.executable).with_name("certlookup")  # the installed console script
CERTLOOKUP = (
    [str(_SCRIPT)]
    if _SCRIPT.exists()
    else [sys.executable, "-c", "from app.cli import main; main()"]
)
T = TypeVar("T")


def certlookup_env(database_url: str, **settings: str) -> dict[str, str]:
    """This process's environment minus any certlookup settings, plus test-friendly ones."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CERTLOOKUP_") and key != "DATABASE_URL"
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            "CERTLOOKUP_ENVIRONMENT": "test",
            "CERTLOOKUP_PUBLIC_READ": "true",
            "CERTLOOKUP_RATE_LIMIT": "0",
            "CERTLOOKUP_FETCH_PAUSE_SECONDS": "0",
            "CERTLOOKUP_LOG_JSON": "true",
            "CERTLOOKUP_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            # The repository root, so `app` imports however the package is installed.
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
    )
    env.update(settings)
    return env


class CertlookupProcess:
    """One running `certlookup` command, with its output in a log file."""

    def __init__(self, popen: subprocess.Popen[bytes], log_path: Path, name: str) -> None:
        self.popen = popen
        self.log_path = log_path
        self.name = name

    @property
    def returncode(self) -> int | None:
        """The exit code once it has exited, else None."""
        return self.popen.poll()

    def output(self) -> str:
        """Everything the process has written so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """Its JSON log lines (all, or those whose event is `name`); other lines are ignored."""
        found = []
        for line in self.output().splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict) and (name is None or record.get("event") == name):
                    found.append(record)
        return found

    def tail(self, lines: int = 40) -> str:
        """The last lines of its output, for assertion messages."""
        return f"--- {self.name} (exit {self.returncode}) ---\n" + "\n".join(
            self.output().splitlines()[-lines:]
        )

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, wait up to `timeout`, then SIGKILL its whole process group; the exit code."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout)
        self.kill()
        return self.popen.wait()

    def kill(self) -> None:
        """SIGKILL the process group (the process and anything it started); idempotent."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)


def start_certlookup(
    args: Sequence[str], *, env: Mapping[str, str], cwd: Path, name: str
) -> CertlookupProcess:
    """Start `certlookup <args>` in its own process group, output to `<cwd>/<name>.log`."""
    log_path = cwd / f"{name}.log"
    with log_path.open("wb") as log_file:
        popen = subprocess.Popen(
            [*CERTLOOKUP, *args],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return CertlookupProcess(popen, log_path, name)


@contextmanager
def running(
    args: Sequence[str], *, env: Mapping[str, str], cwd: Path, name: str
) -> Iterator[CertlookupProcess]:
    """A started `certlookup` process; stopped (SIGTERM, then SIGKILL) when the block ends."""
    process = start_certlookup(args, env=env, cwd=cwd, name=name)
    try:
        yield process
    finally:
        process.stop()


def run_certlookup(
    args: Sequence[str], *, env: Mapping[str, str], cwd: Path, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """Run a `certlookup` command to completion (killed after `timeout`)."""
    return subprocess.run(
        [*CERTLOOKUP, *args],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_until(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.1,
    processes: Sequence[CertlookupProcess] = (),
) -> T:
    """Poll `probe` until it returns something truthy; fail (with process logs) on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        exited = [p for p in processes if p.returncode is not None]
        if exited or time.monotonic() >= deadline:
            reason = "a process exited" if exited else f"not within {timeout} s"
            logs = "\n".join(p.tail() for p in processes)
            raise AssertionError(f"waiting for {what}: {reason}\n{logs}")
        time.sleep(interval)


def wait_for_http(process: CertlookupProcess, url: str, timeout: float = 30.0) -> httpx.Response:
    """Poll `url` until it answers 200 (the process must stay up meanwhile)."""

    def probe() -> httpx.Response | None:
        try:
            response = httpx.get(url, timeout=2.0)
        except httpx.HTTPError:
            return None
        return response if response.status_code == 200 else None

    return wait_until(probe, timeout=timeout, what=f"{url} to answer 200", processes=[process])
