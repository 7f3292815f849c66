"""Instructions per GET /v1/check request, counted by callgrind: stable on a busy machine.

Run: .venv/bin/python -m benchmarks.check_callgrind [--requests 1000] [--env NAME=VALUE ...]

The service's ASGI app is driven in-process (no sockets, no HTTP parser), once with a few
requests and once with `--requests` more, each under `valgrind --tool=callgrind`; the
difference in instructions, divided by the extra requests, is what one request costs in the
app: middleware, routing, the lookup, the access log line. System calls are not counted (a
write(2) per log line costs the kernel, not the process), so compare variants with wrk too
(benchmarks/check_bench.py). Settings come from the environment, as `certlookup serve` reads
them; `--env CERTLOOKUP_LOG_LEVEL=WARNING` measures without the access log.

The warm-up asks every one of the names once, so every counted request is answered from the
snapshot's memo, as in the wrk benchmark's steady state (with a shorter warm-up, a
`--requests 300` run counted two hundred first-time lookups). `--keep DIR` keeps both
callgrind output files there, for `callgrind_annotate`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmarks.baseline_app import PATH


def _request_scope(path_and_query: str) -> dict[str, Any]:
    path, _, query = path_and_query.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"user-agent", b"wrk")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _drive(count: int, names: list[str]) -> None:
    from app.main import create_app

    app = create_app()
    paths = [f"{PATH}?name={quote(n)}" for n in names]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200, message

    async with app.router.lifespan_context(app):
        for i in range(len(paths) + count):  # the warm-up asks every name once
            await app(_request_scope(paths[i % len(paths)]), receive, send)


def _instructions(requests: int, env: dict[str, str], log_path: Path, keep: Path | None) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = (keep or Path(tmp)) / f"callgrind.out.{requests}"
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            "benchmarks.check_callgrind",
            "--drive",
            str(requests),
        ]
        with log_path.open("ab") as log:
            subprocess.run(command, env={**os.environ, **env}, stdout=log, stderr=log, check=True)
        summary = re.search(r"^summary:\s+(\d+)", out.read_text(), re.MULTILINE)
        assert summary, "no summary line in the callgrind output"
        return int(summary.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the app")
    parser.add_argument("--keep", type=Path, help="keep the callgrind output files here")
    parser.add_argument("--drive", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    from benchmarks.check_bench import mixed_names

    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        args.keep = args.keep.resolve()
    if args.drive is not None:
        asyncio.run(_drive(args.drive, mixed_names()))
        return
    from benchmarks.common import mirrored_database, service_env

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        settings = mirrored_database(directory / "bench.sqlite3", 3000)
        env = {**service_env(settings), **dict(item.split("=", 1) for item in args.env)}
        log_path = directory / "service.log"
        few = _instructions(0, env, log_path, args.keep)
        many = _instructions(args.requests, env, log_path, args.keep)
        lines = log_path.read_bytes().count(b'"app.access"')
    per_request = (many - few) / args.requests
    print(f"instructions per request: {per_request:,.0f} ({args.requests} requests)")
    print(f"access log lines written (both runs, incl. {2 * len(mixed_names())} warm-up): {lines}")
    print(f"settings: {' '.join(f'{k}={v}' for k, v in sorted(env.items()))}")


if __name__ == "__main__":
    main()
