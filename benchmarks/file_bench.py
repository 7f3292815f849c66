"""File check and receipt benchmark: 10,000 rows through POST /v1/check/file (CSV and XLSX)
against the same rows through POST /v1/check/batch in 1,000-item batches, measured in the
same run; and how fast receipts are issued (one at a time, and with receipts=true).

    .venv/bin/python -m benchmarks.file_bench [--rows 10000] [--rounds 3] [--receipts 300]

The service runs as users run it: `uvicorn --factory app.main:create_app`, one process,
default settings and logging (a JSON access line per request, to a file), development
environment (a receipt key generated once in the data directory), on a SQLite mirror of a
synthetic 3,000-organisation register; only the rate limit is off, so that hundreds of
single receipts a second are not refused. Every measurement gets a freshly started server,
so no answer comes from the memo a previous measurement filled (each measurement decides
every row afresh) and the server's peak RSS (VmHWM) is that measurement's own. Measurements
alternate (batch, CSV, XLSX, ...) round by round, so that drift in the machine's load hits
all alike. Writes benchmarks/reports/files.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import xlsxwriter

from app.config import Settings
from benchmarks.check_bench import load_average, mixed_names, read_key
from benchmarks.common import REPORTS, machine, mirrored_database, service_env, uvicorn_server
from tests.support.sitegen import generate_register

REPORT = REPORTS / "files.md"
SERVICE = "app.main:create_app"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BATCH = 1000
HEADER = ["Bidder ref", "Training provider", "Certificate number", "Website"]


def tender_rows(count: int, seed: int = 7) -> list[list[str]]:
    """Rows as a tender return holds them: mixed names (exact, re-cased, typo'd, unlisted),
    a certificate number on a third of them and a website on a fifth (the register's own,
    so that identifiers confirm matches, as real ones mostly do)."""
    rng = random.Random(seed)
    register = {o["name"]: o for o in generate_register(3000, 11)}
    rows = []
    for i, name in enumerate(mixed_names(count, seed=seed)):
        org = register.get(name, {})
        certificate = org.get("certificate_number") if rng.random() < 0.33 else None
        website = org.get("website") if rng.random() < 0.2 else None
        rows.append([f"B-{i + 1:05d}", name, certificate or "", website or ""])
    return rows


def csv_file(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([HEADER, *rows])
    return buffer.getvalue().encode("utf-8")


def xlsx_file(rows: list[list[str]]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet("Bidders")
    for r, row in enumerate([HEADER, *rows]):
        for c, value in enumerate(row):
            if value:
                sheet.write_string(r, c, value)
    book.close()
    return buffer.getvalue()


def batches(rows: list[list[str]]) -> list[dict[str, object]]:
    """The rows as /v1/check/batch bodies, 1,000 items each, sending each field a row has."""
    items = []
    for _, name, certificate, website in rows:
        item = {"name": name}
        if certificate:
            item["certificate_number"] = certificate
        if website:
            item["website"] = website
        items.append(item)
    return [{"queries": items[i : i + BATCH]} for i in range(0, len(items), BATCH)]


@dataclass
class Reading:
    """One measurement: wall time, the server's RSS before and at its peak, the load."""

    seconds: float
    rss_before_mib: float
    peak_rss_mib: float
    load: float
    count: int


def _memory(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


Work = Callable[[httpx.Client], int]


def measure(settings: Settings, data_dir: Path, log: Path, key: str, work: Work) -> Reading:
    """Start a fresh server, run `work` (it returns how many items it did) and time it."""
    env = {
        **service_env(settings),
        "CERTLOOKUP_ENVIRONMENT": "development",
        "CERTLOOKUP_DATA_DIR": str(data_dir),
    }
    with uvicorn_server(SERVICE, env, log_path=log) as (url, pid):
        headers = {"X-API-Key": key}
        with httpx.Client(base_url=url, headers=headers, timeout=300) as client:
            client.get("/healthz").raise_for_status()
            before = _memory(pid, "VmRSS")
            load = os.getloadavg()[0]
            start = time.perf_counter()
            count = work(client)
            seconds = time.perf_counter() - start
            peak = _memory(pid, "VmHWM")
    return Reading(seconds, before, peak, load, count)


def post_batches(bodies: list[dict[str, object]], receipts: bool = False) -> Work:
    def work(client: httpx.Client) -> int:
        issued = 0
        for body in bodies:
            params = {"receipts": "true"} if receipts else {}
            response = client.post("/v1/check/batch", json=body, params=params)
            response.raise_for_status()
            issued += sum(1 for item in response.json()["results"] if item["receipt_id"])
        return issued or sum(len(b["queries"]) for b in bodies)  # type: ignore[arg-type]

    return work


def post_file(data: bytes, media_type: str, receipts: bool = False) -> Work:
    def work(client: httpx.Client) -> int:
        params = {"receipts": "true"} if receipts else {}
        response = client.post(
            "/v1/check/file", content=data, params=params, headers={"Content-Type": media_type}
        )
        response.raise_for_status()
        return data.count(b"\n") if media_type == "text/csv" else len(response.content)

    return work


def single_receipts(rows: list[list[str]], count: int) -> Work:
    def work(client: httpx.Client) -> int:
        for _, name, certificate, _ in rows[:count]:
            body = {"name": name, "reference": "benchmark"}
            if certificate:
                body["certificate_number"] = certificate
            client.post("/v1/receipts", json=body).raise_for_status()
        return count

    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--receipts", type=int, default=300, help="single receipts to issue")
    args = parser.parse_args()
    load_before = load_average()
    rows = tender_rows(args.rows)
    csv_data, xlsx_data = csv_file(rows), xlsx_file(rows)
    plan: dict[str, Work] = {
        "batch": post_batches(batches(rows)),
        "csv": post_file(csv_data, "text/csv"),
        "xlsx": post_file(xlsx_data, XLSX),
        "batch_receipts": post_batches(batches(rows), receipts=True),
        "csv_receipts": post_file(csv_data, "text/csv", receipts=True),
        "single_receipts": single_receipts(rows, args.receipts),
    }
    readings: dict[str, list[Reading]] = {name: [] for name in plan}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        settings = mirrored_database(directory / "bench.sqlite3", 3000)
        key = read_key(settings)
        log = directory / "service.log"
        for round_number in range(args.rounds):
            for name, work in plan.items():
                reading = measure(settings, directory, log, key, work)
                readings[name].append(reading)
                print(f"round {round_number + 1} {name}: {reading}", flush=True)
        log_lines = len(log.read_bytes().splitlines())
    write_report(args, readings, load_before, len(csv_data), len(xlsx_data), log_lines)


def _median(readings: list[Reading], field: str) -> float:
    return statistics.median(getattr(r, field) for r in readings)


def _row(label: str, readings: list[Reading], baseline: float | None) -> str:
    seconds = _median(readings, "seconds")
    times = ", ".join(f"{r.seconds:.2f}" for r in readings)
    ratio = f"{seconds / baseline:.2f}x" if baseline else "—"
    return (
        f"| {label} | {seconds:.2f} s ({times}) | {ratio} | "
        f"{_median(readings, 'rss_before_mib'):.0f} | {_median(readings, 'peak_rss_mib'):.0f} | "
        f"{', '.join(f'{r.load:.1f}' for r in readings)} |"
    )


def write_report(
    args: argparse.Namespace,
    readings: dict[str, list[Reading]],
    load_before: str,
    csv_bytes: int,
    xlsx_bytes: int,
    log_lines: int,
) -> None:
    rows = args.rows
    batch = _median(readings["batch"], "seconds")
    single = _median(readings["single_receipts"], "seconds")
    batch_receipts = _median(readings["batch_receipts"], "seconds")
    lines = [
        "# File check and receipts benchmark",
        "",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine()}.",
        f"Load average (1, 5, 15 min) before: {load_before}; after: {load_average()}. "
        "The machine is shared with other work: every figure below was taken under that load.",
        "",
        f"Command: `.venv/bin/python -m benchmarks.file_bench --rows {rows} --rounds "
        f"{args.rounds} --receipts {args.receipts}`. {rows:,} rows of a tender return (a "
        f"name, a certificate number on a third, a website on a fifth; exact, re-cased, "
        f"typo'd and unlisted names); CSV {csv_bytes / 1e6:.2f} MB, XLSX "
        f"{xlsx_bytes / 1e6:.2f} MB. One server process, started fresh for each measurement "
        f"(no answers memoised from an earlier one), logging on ({log_lines:,} log lines "
        "written in all). Times are the client's wall time for the whole exchange; memory is "
        "the server's RSS before the request and its peak (VmHWM) after it.",
        "",
        f"Baseline: the same rows through `POST /v1/check/batch`, {rows // BATCH} requests "
        "of 1,000, one after another, in the same run; ratio = time / baseline time.",
        "",
        "| what | median wall time (each round) | vs batch | RSS before, MiB | peak RSS, "
        "MiB | load (1 min) at each round |",
        "|---|---|---|---|---|---|",
        _row(f"{rows:,} rows via /v1/check/batch (baseline)", readings["batch"], batch),
        _row(f"{rows:,}-row CSV via /v1/check/file", readings["csv"], batch),
        _row(f"{rows:,}-row XLSX via /v1/check/file", readings["xlsx"], batch),
        _row("the batches with receipts=true", readings["batch_receipts"], batch),
        _row("the CSV with receipts=true", readings["csv_receipts"], batch),
        _row(f"{args.receipts} single POST /v1/receipts", readings["single_receipts"], None),
        "",
        "Receipt issuing rate (median): "
        f"**{args.receipts / single:.0f} receipts/s** one `POST /v1/receipts` at a time "
        f"(each a full check, a signature and a commit); **{rows / batch_receipts:.0f} "
        f"receipts/s** through batches with `receipts=true` ({rows / batch:.0f} items/s for "
        "the same batches without receipts).",
        "",
        _verdict(readings),
        "",
        NOTES,
    ]
    REPORT.write_text("\n".join(lines) + "\n")
    print(REPORT.read_text())


TARGET_SECONDS = 2.0


def _verdict(readings: dict[str, list[Reading]]) -> str:
    """Whether the CSV and the XLSX met the target, from this run's medians."""
    parts = []
    for kind in ("csv", "xlsx"):
        seconds = _median(readings[kind], "seconds")
        met = "met" if seconds < TARGET_SECONDS else "**not met**"
        parts.append(f"{kind.upper()} {seconds:.2f} s: {met}")
    return (
        f"**Target: 10,000 rows answered in under {TARGET_SECONDS:.0f} s.** "
        + "; ".join(parts)
        + "."
    )


NOTES = """\
The verdict line above is computed from this run's medians; rounds vary by 10-20%, and
machines more. The same code (433fa98) gave CSV 1.72 s, XLSX 2.42 s and batch 2.23 s on
2026-12-02 at 15:13 on one VM (kernel build ...-fc-v1098), and CSV 1.12 s, XLSX 1.69 s and
batch 1.40 s at 15:57 on another (...-fc-v1045): the ratios to the batch hardly moved, the
machine did. On the slower VM the XLSX missed 2 s; the ratio column is the figure to compare
across runs.

What the figures say:

- Deciding the rows is the same `check_many` for both doors and the batch call
  (app/checks/service.py): about 0.9-1.0 s of CPU for these 10,000 rows in-process on the
  faster VM. Writing the answer workbook with XlsxWriter (constant_memory) adds about 0.55 s
  there for 10,000 rows of 15 cells, most of it inside XlsxWriter (the XML of every cell;
  the CSV writer takes 0.05 s for the same rows). Its in-memory mode was about 10% faster
  for 31 MB more; openpyxl's write-only mode was slower (1.3 s against 0.9-1.2 s, measured
  side by side on the slower VM). Neither was worth taking.
- What made deciding faster on 2026-12-02 (the report before: CSV 4.02 s, XLSX 5.12 s,
  batch 4.78 s, at load about 1 on a slower day): the fuzzy step scores a block of queries
  in one set of array operations; the cyclic garbage collector is paused while answers are
  decided (app/gc_pause.py: full collections walked every answer kept so far, again and
  again); normalisation skips NFKC and transliteration for ASCII names; an exact match's
  answer is built once per register key; website hosts are IDNA-encoded once per process.
  Answers are byte-identical to before on 14,252 checks.
- Memory: the server idles at about 160 MiB with the 3,000-organisation index; a 10,000-row
  check takes its peak to about 240-250 MiB whichever door is used. The file is read,
  decided and written 1,000 rows at a time; most of the growth is the answers kept in the
  snapshot's memo (as for the batch), not the file.
- Receipts: with `receipts=true` the same rows take about twice as long: each is the full
  result serialised, signed (joserfc EdDSA: 165 us per 1.6 KB payload measured in-process on
  the slower VM), and a row of about 4.5 KB (the JWS) inserted, all in one transaction per
  batch or file. One receipt per request (`POST /v1/receipts`) is HTTP, a key check, one
  check, one signature and one commit.
"""


if __name__ == "__main__":
    main()
