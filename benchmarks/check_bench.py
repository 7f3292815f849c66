"""Benchmark GET /v1/check against a bare FastAPI baseline, plus batch, index build, memory.

Run: .venv/bin/python -m benchmarks.check_bench [--seconds 15] [--rounds 3]
Writes benchmarks/reports/check.md. Needs wrk (apt-get install -y wrk).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy.orm import Session

from app.checks.snapshot import load_snapshot
from app.db import make_engine
from benchmarks.common import (
    REPORTS,
    machine,
    median,
    mirrored_database,
    rss_mib,
    service_env,
    uvicorn_server,
    wrk,
)
from tests.support.sitegen import generate_register

SERVICE = "app.main:create_app"
BASELINE = "benchmarks.baseline_app:create_app"


def mixed_names(count: int = 400, seed: int = 3) -> list[str]:
    """What councils send: exact, re-cased, typo'd and unlisted names, shuffled."""
    rng = random.Random(seed)
    listed = [o["name"] for o in generate_register(3000, 11)]
    unlisted = [o["name"] for o in generate_register(3000, 99)]
    names = []
    for i in range(count):
        name = rng.choice(listed)
        kind = i % 4
        if kind == 1:
            name = name.upper()
        elif kind == 2 and len(name) > 8:
            j = rng.randrange(2, len(name) - 2)
            name = name[:j] + name[j + 1] + name[j] + name[j + 2 :]
        elif kind == 3:
            name = rng.choice(unlisted)
        names.append(name)
    return names


def wrk_script(names: list[str], directory: Path) -> Path:
    """A Lua script cycling wrk through the names."""
    paths = ",\n".join(f'"/v1/check?name={quote(n)}"' for n in names)
    script = directory / "mixed.lua"
    script.write_text(
        f"local paths = {{\n{paths}\n}}\nlocal i = 0\n"
        "request = function()\n  i = i % #paths + 1\n"
        "  return wrk.format('GET', paths[i])\nend\n"
    )
    return script


def time_index_build(settings_url: str, rounds: int = 5) -> float:
    engine = make_engine(settings_url)
    timings = []
    for _ in range(rounds):
        with Session(engine) as session:
            start = time.perf_counter()
            load_snapshot(session)
            timings.append(time.perf_counter() - start)
    engine.dispose()
    return median(timings)


def time_batch(url: str, rounds: int = 5) -> float:
    """Median time of a 1,000-name batch, each round with names drawn afresh.

    Answers are kept per registry version and question, so a repeated batch would be
    answered from memory; fresh draws keep most names new to the process (exact names can
    still repeat between rounds, as they do in real use).
    """
    timings = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for round_number in range(rounds):
            names = mixed_names(1000, seed=1000 + round_number)
            body = {"queries": [{"name": n} for n in names]}
            start = time.perf_counter()
            client.post("/v1/check/batch", json=body).raise_for_status()
            timings.append(time.perf_counter() - start)
    return median(timings)


def http_rounds(
    service_url: str, baseline_url: str, script: Path, seconds: int, rounds: int
) -> tuple[list[dict], list[dict], list[dict]]:
    """Alternate runs so drift in machine load hits all alike.

    Besides the baseline and /v1/check, the service's own /healthz (a constant answer through
    the service's whole stack: middleware, metrics, routing) separates the cost of that stack
    from the cost of the lookup.
    """
    base, serv, health = [], [], []
    wrk(baseline_url + "/constant", seconds=3)
    wrk(service_url + "/v1/check", seconds=3, script=script)
    for _ in range(rounds):
        base.append(wrk(baseline_url + "/constant", seconds=seconds))
        serv.append(wrk(service_url + "/v1/check", seconds=seconds, script=script))
        health.append(wrk(service_url + "/healthz", seconds=seconds))
    return base, serv, health


def memory(directory: Path) -> tuple[float, float]:
    """RSS of one service process with 30,000 organisations, and with none."""
    empty = mirrored_database_empty(directory / "empty.sqlite3")
    big = mirrored_database(directory / "big.sqlite3", 30_000, seed=5)
    readings = []
    for settings in (empty, big):
        with uvicorn_server(SERVICE, service_env(settings)) as (url, pid):
            httpx.get(url + "/v1/check", params={"name": "warm up"}, timeout=30)
            readings.append(rss_mib(pid))
    return readings[0], readings[1]


def mirrored_database_empty(path: Path):  # type: ignore[no-untyped-def]
    from app.db import upgrade_database
    from tests.conftest import make_settings

    settings = make_settings(f"sqlite:///{path}")
    upgrade_database(settings)
    return settings


NOTES = [
    "## Reading the figures",
    "",
    "- The lookup itself is cheap: /v1/check answers at about the rate of the same service's",
    "  /healthz, because every answer is computed once per registry version and question",
    "  (the snapshot's memo) and the handler reads its parameters and key without dependency",
    "  injection. The batch row shows the cost of answering names not seen before.",
    "- The gap to the bare baseline is the service's own per-request stack, which the baseline",
    "  does not have, and it shows in /healthz just the same, p99 tail included. Measured",
    "  in-process (ASGI calls, no sockets) on this machine: the baseline ~34 us a request;",
    "  the request-id/access-log/metrics middleware adds ~10 us; each included router a",
    "  request passes adds ~8 us of route matching in this FastAPI version (/v1/check is",
    "  matched first); the check handler with key check, validation and memo ~15 us more.",
    "- Not met: 0.80x of the baseline's throughput and p99 < 20 ms. Flattening the routers",
    "  into the app's route table measured /healthz 70 -> 52 us in-process but bypasses",
    "  FastAPI's include machinery (dependency overrides stop applying), so it was not kept.",
    "- The p99 tail is not pinned down. It is the same on /healthz, so it is not the lookup;",
    "  it is not the cyclic GC (unchanged with gc disabled) nor the index poller (unchanged",
    "  with a 1,000 s poll). A bare app with one router included showed p99 32-50 ms for a",
    "  constant endpoint against 12-18 ms at the top level, but flattening this service's",
    "  routers left its own tail about where it was (one run, machine busy). The tail only",
    "  appears when the server is saturated: at 8 connections (wrk, 10 s) /v1/check had p99",
    "  3.6 ms and max 21 ms against the baseline's 2.7 ms and 9 ms.",
    "",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        settings = mirrored_database(directory / "bench.sqlite3", 3000)
        build = time_index_build(settings.sqlalchemy_url)
        names = mixed_names()
        script = wrk_script(names, directory)
        env = service_env(settings)
        with (
            uvicorn_server(SERVICE, env) as (service_url, _),
            uvicorn_server(BASELINE, env) as (baseline_url, _),
        ):
            base, serv, health = http_rounds(
                service_url, baseline_url, script, args.seconds, args.rounds
            )
            batch = time_batch(service_url)
        rss_empty, rss_big = memory(directory)
    write_report(args, build, base, serv, health, batch, rss_empty, rss_big)


def write_report(
    args: argparse.Namespace,
    build: float,
    base: list[dict],
    serv: list[dict],
    health: list[dict],
    batch: float,
    rss_empty: float,
    rss_big: float,
) -> None:
    b_rps, s_rps = median([r["rps"] for r in base]), median([r["rps"] for r in serv])
    s_p50, s_p99 = median([r["p50"] for r in serv]), median([r["p99"] for r in serv])
    b_p50, b_p99 = median([r["p50"] for r in base]), median([r["p99"] for r in base])
    errors = sum(r["non2xx"] for r in serv)
    ratio = s_rps / b_rps
    h_rps, h_p99 = median([r["rps"] for r in health]), median([r["p99"] for r in health])
    rows = [
        (
            "GET /v1/check throughput vs baseline",
            f"{ratio:.2f}x ({s_rps:,.0f} vs {b_rps:,.0f} req/s)",
            ">= 0.80x",
            ratio >= 0.8,
        ),
        (
            "GET /v1/check p50 / p99",
            f"{s_p50:.2f} / {s_p99:.2f} ms (baseline {b_p50:.2f} / {b_p99:.2f} ms)",
            "p99 < 20 ms",
            s_p99 < 20,
        ),
        (
            "same service, GET /healthz (its stack alone) vs baseline",
            f"{h_rps / b_rps:.2f}x ({h_rps:,.0f} req/s, p99 {h_p99:.2f} ms)",
            "reference",
            True,
        ),
        ("GET /v1/check vs the service's own /healthz", f"{s_rps / h_rps:.2f}x", "reference", True),
        ("non-2xx responses during runs", str(errors), "0", errors == 0),
        (
            "POST /v1/check/batch, 1,000 names drawn afresh",
            f"{batch * 1000:.0f} ms",
            "< 500 ms",
            batch < 0.5,
        ),
        ("index build, 3,000 organisations", f"{build * 1000:.0f} ms", "< 1 s", build < 1),
        (
            "process RSS, 30,000 organisations",
            f"{rss_big:.0f} MiB (empty register: "
            f"{rss_empty:.0f} MiB; +{rss_big - rss_empty:.0f} MiB)",
            "stated",
            True,
        ),
    ]
    lines = [
        "# GET /v1/check benchmark",
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        f"- command: `.venv/bin/python -m benchmarks.check_bench --seconds {args.seconds} "
        f"--rounds {args.rounds}`",
        "- server: uvicorn, 1 process, `--no-access-log`, same settings for both apps; "
        "wrk -t2 -c64 on loopback, on the same 2 cores as the server.",
        "- baseline: `benchmarks/baseline_app.py`, a bare FastAPI `async def` returning a "
        "constant dict; runs alternate baseline/service, medians reported.",
        "- load: 400 mixed names (exact, upper case, a swapped-letter typo, unlisted) against a "
        "mirrored 3,000-organisation synthetic register (SQLite).",
        "",
        "| measure | result | target | ok |",
        "|---|---|---|---|",
        *[f"| {m} | {r} | {t} | {'yes' if ok else 'NO'} |" for m, r, t, ok in rows],
        "",
        "Per round (req/s): baseline "
        + ", ".join(f"{r['rps']:,.0f}" for r in base)
        + "; service "
        + ", ".join(f"{r['rps']:,.0f}" for r in serv),
        "",
    ]
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / "check.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
