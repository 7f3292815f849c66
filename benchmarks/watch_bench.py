"""Watch benchmark: 10,000 watches re-evaluated after a sync that changes 5% of the register,
and webhook delivery throughput to a local receiver.

    .venv/bin/python -m benchmarks.watch_bench [--organisations 3000] [--watches 10000]

For each backend (SQLite file, scratch PostgreSQL database): sync a synthetic register, create
the watches (as 10 clients, names all distinct: every listed name, a variant of each, and
names not on the register), then sync a register with 5% of the organisations changed
(renamed, promoted, demoted, removed, added) and time it, with and without the watches. Then
every client registers a webhook at a receiver on 127.0.0.1 and the outbox is delivered by one
worker (8 sending threads). Writes benchmarks/reports/watches.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.auth.keys import ApiClient, Scope, create_key
from app.checks.inputs import CheckQuery
from app.checks.schemas import Setting
from app.checks.snapshot import load_snapshot
from app.checks.verdicts import Clock
from app.config import Settings
from app.db import make_engine, transaction, upgrade_database
from app.models import DeliveryStatus, WebhookDelivery, utcnow
from app.register.sync import SyncReport, SyncRequest, run_sync
from app.watches.service import Asked, WatchSpec, create_watches
from app.webhooks.delivery import DeliveryWorker
from app.webhooks.guard import AddressGuard
from app.webhooks.schemas import WebhookIn
from app.webhooks.service import create_webhook
from benchmarks.common import REPORTS, machine
from tests.support.databases import scratch_postgres
from tests.support.httpserver import serve_site
from tests.support.receiver import receiving
from tests.support.sitegen import Org, generate_register, generate_site, renamed

REPORT = REPORTS / "watches.md"
NOTES = """
The same evaluation code measured 1.9 s (40% not listed, both backends) and 1.2 / 1.7 s (10%,
SQLite / PostgreSQL) on 2026-12-02 at 15:14 on one VM (kernel build ...-fc-v1098), and
1.26 / 1.34 s and 0.77 / 0.89 s at 16:08 on another (...-fc-v1045): the second VM is about
1.5 times faster at everything here (the sync without watches took 2.5 s there, 1.4 s here).
The target line is computed from this run. The report before (5.2 / 6.2 s and 4.0 / 3.9 s,
under load 2.7-3.7) timed less: its 'evaluation' left out building the snapshot (0.3-0.5 s),
which the table now counts (`evaluate_against_current`, app/watches/evaluation.py).

What changed on 2026-12-02 (answers byte-identical on 14,252 checks: tender rows, mixed names
with as_of and ofsted_only, both eval sets):
- The fuzzy step scores a block of queries in one set of array operations
  (NameScorer.score_many) instead of a dozen numpy calls per query.
- The snapshot is read as columns, not ORM objects, and built with the cyclic garbage
  collector paused (app/gc_pause.py); the watches are read as rows of the columns evaluation
  needs (WatchState), which also makes the bulk update cheaper (no identity map).
- The evaluation itself runs with the collector paused: 2.46 -> 1.87 s (40%) and 1.62 -> 1.34 s
  (10%) in-process, SQLite, same run, on the slower VM. Full collections walked tens of
  thousands of live, just-made objects again and again, finding nothing to free.
- A certificate's expiry is judged by the answer's clock, not a second `datetime.now()` per
  matched answer; an exact match's answer is built once per register key; normalisation skips
  NFKC and transliteration for ASCII names.

The two backends now raise exactly the same events. Until 01a845f they did not (146 against
140 certificate_expiring with 40% not listed): an affiliate naming "Kestrel Approaches
Training Ltd" as its parent was linked to whichever of it and "+Kestrel Approaches Training"
(the same name once normalised) was read first, and PostgreSQL's row order moves with every
update. Affiliates are now linked by the parent's name as written first, and a parent text
that fits several organisations links none, with a warning on the sync run. Two later fixes
moved the counts a little (e.g. 345 -> 343 events, parent_status_changed 10 -> 14, listed
4 -> 2 with 40% not listed): an affiliate whose parent left is no longer handed to a certified
lookalike (49a216b), and a watched name that reads the same as an organisation that left is
no longer answered by the lookalike's verdict (3c7d80a).

What is left: the fuzzy step is still a Python loop per query around the array work
(ranking and the alignment test, about a third of it), plus whole-string shortlisting
(rapidfuzz cdist, about a quarter). Re-deciding only the watches a sync can affect is not
sound for fuzzy answers: they depend on register-wide word weights and vocabulary, which any
sync moves. rapidfuzz's own threads (`workers=-1`) for the shortlist were tried and were not
faster here.

While the evaluation runs inside the sync's transaction, SQLite's write lock is held (as for the
whole apply). An API write in that time (creating a watch or a webhook) waits, up to the 15 s
busy timeout. PostgreSQL readers and writers of other rows are not blocked.

Delivery: one worker with 8 sending threads to a local receiver; each attempt is its own
claim-then-record transactions.
"""
CLIENTS = 10
TARGET_MS = 2000


def bench_settings(url: str) -> Settings:
    return Settings(
        _env_file=None,
        DATABASE_URL=url,
        environment="test",
        scheduler=False,
        fetch_pause_seconds=0.0,
        fetch_deadline_seconds=900.0,
        fetch_max_pages=10_000,
        webhook_allow_private=True,
        log_level="WARNING",
    )


def changed_register(orgs: list[Org], share: float, seed: int) -> tuple[list[Org], int]:
    """A copy with `share` of the organisations changed; how many changed."""
    rng = random.Random(seed)
    changed = [dict(o) for o in orgs]
    count = round(len(orgs) * share)
    picks = rng.sample(range(len(orgs)), count)
    removed: set[int] = set()
    for n, i in enumerate(picks):
        org = changed[i]
        kind = n % 4
        if kind == 0:
            changed[i] = renamed(org, f"{org['name']} Renewed Group")
        elif kind == 1 and org["status"] == "working_towards":
            changed[i] = {**org, "status": "certified", "settings": ["Health"], "regions": []}
        elif kind == 1 or kind == 2:
            changed[i] = {**org, "valid_until": "2026-12-20"}  # now within the notice period
        else:
            removed.add(i)
    kept = [o for i, o in enumerate(changed) if i not in removed]
    added = [
        {**o, "name": f"Newcomer {i} {o['name']}"}
        for i, o in enumerate(generate_register(len(removed), seed + 1))
    ]
    return kept + added, count


def watch_names(orgs: list[Org], total: int, seed: int, not_listed: float = 0.4) -> list[str]:
    """`total` distinct names: listed names and variants of each, then names not listed
    (`not_listed` of the total, or more when the listed ones run out)."""
    rng = random.Random(seed)
    names = [o["name"] for o in orgs]
    variants = [n.replace("Limited", "Ltd") if "Limited" in n else n.lower() for n in names]
    shouted = [n.upper() for n in names]  # as spreadsheets in capitals write them
    listed = list(dict.fromkeys([*names, *variants, *shouted]))
    listed = listed[: total - round(total * not_listed)]
    strangers = [o["name"] + " Holdings" for o in generate_register(total, seed + 7)]
    found = list(dict.fromkeys([*listed, *strangers]))[:total]
    rng.shuffle(found)
    return found


def add_watches(engine: Engine, settings: Settings, names: list[str]) -> list[int]:
    """The watches, as CLIENTS clients in batches of 1,000; the clients' key ids."""
    with Session(engine) as session:
        snapshot = load_snapshot(session)
    asked = Asked(snapshot, Clock.for_settings(settings), len(names), 60)
    keys = []
    with transaction(engine) as session:
        for c in range(CLIENTS):
            keys.append(create_key(session, f"client {c}", Scope.WATCH, "bench"))
    share = len(names) // CLIENTS + 1
    for c, key in enumerate(keys):
        mine = names[c * share : (c + 1) * share]
        for start in range(0, len(mine), 1000):
            specs = [
                WatchSpec(CheckQuery(n, None, Setting.CQC), None)
                for n in mine[start : start + 1000]
            ]
            with transaction(engine) as session:
                create_watches(session, ApiClient(key.name, frozenset(), key.id), specs, asked)
    return [key.id for key in keys]


def timed_sync(
    engine: Engine, settings: Settings, site: dict[str, bytes]
) -> tuple[float, SyncReport]:
    with serve_site(site) as server:
        started = time.perf_counter()
        report = run_sync(engine, settings, SyncRequest(source_url=server.url, trigger="bench"))
        seconds = time.perf_counter() - started
    assert report.ok, report.reason
    return seconds, report


def add_webhooks(engine: Engine, keys: list[int], url: str) -> None:
    """A webhook per client, all at the one local receiver."""
    guard = AddressGuard(allow_private=True)
    with transaction(engine) as session:
        for key_id in keys:
            create_webhook(session, key_id, WebhookIn(url=url), guard, utcnow())


def deliver_all(engine: Engine, settings: Settings) -> dict[str, Any]:
    """Deliver the whole outbox with one worker; how long it took."""
    with Session(engine) as session:
        queued = session.scalar(select(func.count()).select_from(WebhookDelivery)) or 0
    worker = DeliveryWorker(engine, settings, guard=AddressGuard(allow_private=True))
    started = time.perf_counter()
    made = worker.drain(600)
    seconds = time.perf_counter() - started
    worker.close()
    with Session(engine) as session:
        delivered = session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.status == DeliveryStatus.DELIVERED.value)
        )
    return {"queued": queued, "attempts": made, "delivered": delivered or 0, "seconds": seconds}


@contextmanager
def backends(directory: Path) -> Iterator[list[tuple[str, str]]]:
    with scratch_postgres("certlookup_watchbench") as pg:
        yield [("SQLite", f"sqlite:///{directory}/bench.sqlite3"), ("PostgreSQL", pg)]


def one_backend(name: str, url: str, args: argparse.Namespace, not_listed: float) -> dict[str, Any]:
    settings = bench_settings(url)
    if url.startswith("sqlite"):
        upgrade_database(settings)
    engine = make_engine(url)
    orgs = generate_register(args.organisations, args.seed)
    changed, count = changed_register(orgs, 0.05, args.seed)
    first, second = (
        generate_site(orgs, seed=args.seed, page_size=100),
        generate_site(changed, seed=args.seed, page_size=100),
    )
    timed_sync(engine, settings, first)
    # Without watches: the same change, then back (so the register is as before).
    without, _ = timed_sync(engine, settings, second)
    timed_sync(engine, settings, first)
    names = watch_names(orgs, args.watches, args.seed, not_listed)
    started = time.perf_counter()
    keys = add_watches(engine, settings, names)
    creating = time.perf_counter() - started
    with receiving() as receiver:
        add_webhooks(engine, keys, receiver.url)
        with_watches, report = timed_sync(engine, settings, second)
        evaluation = report.watches
        assert evaluation is not None
        delivery = deliver_all(engine, settings)
        delivery["received"] = len(receiver.received)
    engine.dispose()
    return {
        "changed": count,
        "sync_without": without,
        "sync_with": with_watches,
        "creating": creating,
        "evaluation_ms": evaluation.duration_ms,
        "watches": evaluation.watches,
        "events": evaluation.events,
        "reasons": dict(evaluation.reasons),
        "delivery": delivery,
    }


def write_report(results: dict[str, Any], args: argparse.Namespace, command: str) -> None:
    lines = [
        "# Watch benchmark",
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        f"- command: `{command}`",
        f"- load average (1/5/15 min) before: {results['load']}; the machine is shared with "
        "other engineers' tests and benchmarks.",
        f"- register: {args.organisations:,} synthetic organisations (`tests.support.sitegen`, "
        f"seed {args.seed}), served on 127.0.0.1; the second sync changes 5% of them "
        "(renamed, promoted, certificate date moved into the notice period, removed; as many "
        "added as removed).",
        "- creating the watches (through the service, 1,000 a transaction) took "
        + ", ".join(f"{n} {r['creating']:.1f} s" for n, r in results["backends"].items())
        + ".",
        f"- watches: {args.watches:,} over {CLIENTS} clients, all names distinct: listed names "
        "and a variant of each, and a share of names that are not listed (each row says "
        "which): those go through fuzzy matching, the costly path. 40% is a worst case on "
        "purpose; a council's list of commissioned providers is mostly listed names.",
        "- 'evaluation' is the time inside the sync's transaction spent on the watches "
        "(building the snapshot in that transaction, deciding every watch, writing the "
        "changed answers, events and outbox rows); the sync times are whole `run_sync` calls "
        "(fetch from the local server included).",
        "- delivery: one webhook per client (registered before the second sync, so the "
        "outbox rows are written in its transaction and counted in 'evaluation') at one "
        "receiver on 127.0.0.1 (a threaded http.server answering 200 at once, checking no "
        "signatures), drained by one worker with 8 sending threads.",
        "",
        "| backend, names | sync, no watches | sync with watches | evaluation | watches | events "
        "| deliveries | delivery time | deliveries/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results["backends"].items():
        d = r["delivery"]
        rate = d["delivered"] / d["seconds"] if d["seconds"] else 0.0
        lines.append(
            f"| {name} | {r['sync_without']:.2f} s | {r['sync_with']:.2f} s | "
            f"{r['evaluation_ms'] / 1000:.2f} s | {r['watches']:,} | {r['events']:,} | "
            f"{d['delivered']:,} of {d['queued']:,} | {d['seconds']:.2f} s | {rate:.0f} |"
        )
    verdicts = [
        f"{name} {r['evaluation_ms'] / 1000:.2f} s: "
        + ("met" if r["evaluation_ms"] < TARGET_MS else "**not met**")
        for name, r in results["backends"].items()
    ]
    lines += ["", f"**Target: {args.watches:,} watches evaluated in well under 2 s.** Under 2 s: "]
    lines[-1] += "; ".join(verdicts) + "."
    lines += ["", "Events by reason:", ""]
    for name, r in results["backends"].items():
        lines.append(f"- {name}: " + ", ".join(f"{k} {v}" for k, v in sorted(r["reasons"].items())))
    lines += ["", "## Notes", "", NOTES.strip(), ""]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organisations", type=int, default=3000)
    parser.add_argument("--watches", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--not-listed",
        type=lambda text: [float(v) for v in text.split(",")],
        default=[0.4, 0.1],
        help="shares of watch names not on the register, one run each (comma-separated)",
    )
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    results: dict[str, Any] = {"load": load, "backends": {}}
    for share in args.not_listed:
        with tempfile.TemporaryDirectory() as scratch, backends(Path(scratch)) as found:
            for name, url in found:
                row = f"{name}, {share:.0%} not listed"
                results["backends"][row] = one_backend(name, url, args, share)
                print(row, results["backends"][row], flush=True)
    command = ".venv/bin/python -m benchmarks.watch_bench"
    write_report(results, args, command)
    print(REPORT.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
