"""Memory and time of the CSV exports (GET /v1/organisations?format=csv, /v1/changes).

Run:  .venv/bin/python -m benchmarks.export_bench [--organisations 300 3000]

For each size, a synthetic register (tests.support.sitegen) is synced into a scratch SQLite
database, then the export generators run exactly as the endpoints stream them
(app/register/export.py: rows read CHUNK_ROWS at a time, written as CSV chunks), consumed
and dropped. The baseline, measured in the same run on the same database, reads every
organisation at once (`select(Organisation)` .all()) and writes the whole CSV into one
string: what an export without streaming would hold. Figures: tracemalloc peak (Python
allocations) and wall time; the claim to check is that the streamed peak stays flat as the
register grows while the baseline's grows with it.
"""

from __future__ import annotations

import argparse
import csv
import io
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.db import make_engine, transaction, upgrade_database
from app.models import Organisation
from app.register import export
from app.register.changes import ChangeFilter
from app.register.sync import SyncRequest, run_sync
from tests.conftest import make_settings
from tests.support.httpserver import serve_site
from tests.support.sitegen import generate_register, generate_site


def _measure(work: Callable[[], Any]) -> tuple[float, float]:
    """(peak MB of Python allocations, seconds) of one call."""
    tracemalloc.start()
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6, elapsed


def _drain(chunks: Iterable[bytes]) -> int:
    return sum(len(chunk) for chunk in chunks)


def _all_at_once(engine: Any) -> int:
    with transaction(engine) as session:
        orgs = session.scalars(select(Organisation).order_by(Organisation.name)).all()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerows(export.organisation_row(org) for org in orgs)
        return len(buffer.getvalue())


def bench(size: int, directory: Path) -> dict[str, float]:
    database = f"sqlite:///{directory / f'export-{size}.sqlite3'}"
    settings = make_settings(database, fetch_max_pages=5000, fetch_deadline_seconds=600.0)
    upgrade_database(settings)
    engine = make_engine(settings.sqlalchemy_url)
    with serve_site(generate_site(generate_register(size, seed=11), seed=11)) as site:
        report = run_sync(engine, settings, SyncRequest(trigger="bench", source_url=site.url))
    assert report.ok, report.reason
    with transaction(engine) as session:
        ids = list(session.scalars(select(Organisation.id).order_by(Organisation.name)))
    columns = export.ORGANISATION_COLUMNS
    streamed = _measure(
        lambda: _drain(export.csv_chunks(columns, export.organisation_rows(engine, ids)))
    )
    changes = _measure(
        lambda: _drain(
            export.csv_chunks(
                export.CHANGE_COLUMNS, export.change_rows(engine, ChangeFilter(), None)
            )
        )
    )
    baseline = _measure(lambda: _all_at_once(engine))
    engine.dispose()
    return {
        "organisations_peak_mb": streamed[0],
        "organisations_s": streamed[1],
        "changes_peak_mb": changes[0],
        "changes_s": changes[1],
        "baseline_peak_mb": baseline[0],
        "baseline_s": baseline[1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--organisations", type=int, nargs="+", default=[300, 3000])
    sizes = parser.parse_args().organisations
    with tempfile.TemporaryDirectory() as scratch:
        for size in sizes:
            figures = bench(size, Path(scratch))
            ratio = figures["organisations_peak_mb"] / figures["baseline_peak_mb"]
            print(
                f"{size:>6} organisations: streamed peak {figures['organisations_peak_mb']:.2f} MB "
                f"in {figures['organisations_s']:.2f} s; changes peak "
                f"{figures['changes_peak_mb']:.2f} MB in {figures['changes_s']:.2f} s; "
                f"all-at-once baseline {figures['baseline_peak_mb']:.2f} MB in "
                f"{figures['baseline_s']:.2f} s (streamed/baseline {ratio:.2f}x)"
            )


if __name__ == "__main__":
    main()
