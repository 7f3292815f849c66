"""Instructions per request through the whole ASGI app, counted by callgrind.

Callgrind's instruction counts do not move with the machine's load, so they show what a
change to the middleware or the hot path costs per request where wrk on a shared machine
cannot. For each kind of request the app (created as `serve` creates it, default logging
included, the log written to /dev/null) answers N and then N + EXTRA requests in two
processes under callgrind; the difference of the two totals over EXTRA is one steady-state
request, without start-up or warm-up.

    .venv/bin/python -m benchmarks.asgi_cost [--extra 1000] [--kinds check,check_keyed,healthz]

Prints one line per kind: instructions per request. Needs valgrind.
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

from benchmarks.check_bench import mixed_names, read_key
from benchmarks.common import ROOT, mirrored_database

ORGANISATIONS = 300
WARM_UP = 300
NAMES = mixed_names(50)


def _scope(path: str, query: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
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
        "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


def _requests(kind: str, key: str) -> list[dict[str, Any]]:
    keyed = [(b"x-api-key", key.encode())]
    if kind == "healthz":
        return [_scope("/healthz", "", [])]
    headers = keyed if kind == "check_keyed" else []
    return [_scope("/v1/check", f"name={quote(name)}", headers) for name in NAMES]


async def _drive(app: Any, scopes: list[dict[str, Any]], count: int) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    for i in range(count):
        template = scopes[i % len(scopes)]
        await app({**template, "headers": list(template["headers"]), "state": {}}, receive, send)
    bad = [s for s in statuses if s != 200]
    if bad:
        raise SystemExit(f"unexpected statuses: {sorted(set(bad))}")


async def _serve_requests(kind: str, key: str, count: int) -> None:
    from app.config import Settings
    from app.main import create_app

    app = create_app(Settings())
    async with app.router.lifespan_context(app):
        await _drive(app, _requests(kind, key), count)


def _child(kind: str, key: str, count: int) -> None:
    # The access log goes to stdout as in production; here stdout is /dev/null.
    asyncio.run(_serve_requests(kind, key, count))


def _instructions(kind: str, key: str, count: int, env: dict[str, str], out: Path) -> int:
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        sys.executable,
        "-m",
        "benchmarks.asgi_cost",
        "--child",
        kind,
        "--key",
        key,
        "--count",
        str(count),
    ]
    subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    totals = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
    assert totals, out
    return int(totals[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", type=int, default=1000)
    parser.add_argument("--kinds", default="check,check_keyed,healthz")
    parser.add_argument("--child")
    parser.add_argument("--key", default="")
    parser.add_argument("--count", type=int, default=0)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.key, args.count)
        return
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        settings = mirrored_database(directory / "bench.sqlite3", ORGANISATIONS)
        env = {
            "DATABASE_URL": settings.sqlalchemy_url,
            "CERTLOOKUP_SCHEDULER": "false",
            "CERTLOOKUP_PUBLIC_READ": "true",
            "CERTLOOKUP_RATE_LIMIT": "1000000/second",
            "CERTLOOKUP_ENVIRONMENT": "test",
        }
        key = read_key(settings)
        for kind in args.kinds.split(","):
            low = _instructions(kind, key, WARM_UP, env, directory / f"{kind}.low")
            high = _instructions(kind, key, WARM_UP + args.extra, env, directory / f"{kind}.hi")
            print(f"{kind}: {(high - low) / args.extra:,.0f} instructions per request")


if __name__ == "__main__":
    main()
