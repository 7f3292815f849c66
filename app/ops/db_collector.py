"""A Prometheus collector whose gauges are read from the database at scrape time, at most once
per CACHE_SECONDS (so every process that serves /metrics reports the same)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator

import structlog
from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

log = structlog.get_logger(__name__)
CACHE_SECONDS = 5.0  # a scrape storm costs at most one set of queries per 5 s


class CachedDatabaseCollector(Collector):
    """Subclasses read their metrics in `_read`; a failed read is logged as
    `unreadable_event` and reports nothing until the next read."""

    unreadable_event = "metrics_unreadable"

    def __init__(self, engine: Callable[[], Engine]) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] = (float("-inf"), [])

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            read_at, metrics = self._cached
            if time.monotonic() - read_at > CACHE_SECONDS:
                try:
                    metrics = self._read()
                except Exception:
                    log.warning(self.unreadable_event, exc_info=True)
                    metrics = []
                self._cached = (time.monotonic(), metrics)
        yield from metrics

    def describe(self) -> Iterable[Metric]:
        return []

    def _read(self) -> list[Metric]:
        raise NotImplementedError
