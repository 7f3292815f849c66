"""Prometheus metrics: one `CollectorRegistry` per app, exposed at /metrics.

Per process: every uvicorn worker and replica has its own counters. Scrape each replica (run
one worker per container), or use prometheus-client's multiprocess mode if you run several
workers in one container. Register gauges (`certlookup_register_*`) are read from the
in-memory snapshot at scrape time, so they cost nothing per request.
"""

from __future__ import annotations

import threading
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client import (
    GC_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from app.checks.snapshot import SnapshotHolder
from app.models import SyncOutcome, utcnow

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "<unmatched>"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

# A `_created` gauge beside every counter and histogram series doubles the series count for
# a timestamp no dashboard here reads (and OpenMetrics scrapers get it in the sample anyway).
disable_created_metrics()

_sync_lock = threading.Lock()
_sync_outcomes: Tally[str] = Tally({o.value: 0 for o in SyncOutcome if o != SyncOutcome.RUNNING})


def record_sync(outcome: str) -> None:
    """Count one finished sync run by outcome (applied, unchanged, rejected, failed, dry_run).

    Process-wide and thread-safe: call it from the scheduler or CLI sync. Every app in the
    process reports it as `certlookup_sync_runs_total{outcome}`.
    """
    value = getattr(outcome, "value", outcome)
    with _sync_lock:
        _sync_outcomes[str(value)] += 1


_watch_lock = threading.Lock()
_watch_event_reasons: Tally[str] = Tally()
_delivery_outcomes: Tally[str] = Tally()


def record_watch_events(reasons: Mapping[str, int]) -> None:
    """Count committed watch events by reason (an event with two reasons counts under both)."""
    with _watch_lock:
        _watch_event_reasons.update(reasons)


def record_delivery(outcome: str) -> None:
    """Count one webhook delivery attempt by outcome (delivered, retrying, failed)."""
    with _watch_lock:
        _delivery_outcomes[outcome] += 1


class WatchActivityCollector(Collector):
    """Reads the process-wide watch-event and delivery tallies at scrape time."""

    def collect(self) -> Iterable[Metric]:
        with _watch_lock:
            reasons = sorted(_watch_event_reasons.items())
            outcomes = sorted(_delivery_outcomes.items())
        events = CounterMetricFamily(
            "certlookup_watch_events",
            "Watch events raised in this process, by reason.",
            labels=["reason"],
        )
        for reason, count in reasons:
            events.add_metric([reason], count)
        yield events
        deliveries = CounterMetricFamily(
            "certlookup_webhook_deliveries",
            "Webhook delivery attempts made by this process, by outcome.",
            labels=["outcome"],
        )
        for outcome, count in outcomes:
            deliveries.add_metric([outcome], count)
        yield deliveries

    def describe(self) -> Iterable[Metric]:
        return []


class SyncOutcomeCollector(Collector):
    """Reads the process-wide sync tallies at scrape time."""

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily(
            "certlookup_sync_runs",
            "Sync runs finished in this process, by outcome.",
            labels=["outcome"],
        )
        with _sync_lock:
            tallies = sorted(_sync_outcomes.items())
        for outcome, count in tallies:
            family.add_metric([outcome], count)
        yield family

    def describe(self) -> Iterable[Metric]:
        return []


class RegisterCollector(Collector):
    """Data age, registry version and organisation counts from the current snapshot."""

    def __init__(self, holder: Callable[[], SnapshotHolder | None], max_age_seconds: float):
        self._holder = holder
        self._max_age = max_age_seconds

    def collect(self) -> Iterator[Metric]:
        holder = self._holder()
        snapshot = holder.snapshot if holder is not None else None
        yield _gauge(
            "certlookup_index_loaded", "1 when the lookup index is loaded.", snapshot is not None
        )
        if snapshot is None:
            return
        yield _gauge(
            "certlookup_register_version", "Registry version in the index.", snapshot.info.version
        )
        age = snapshot.age_seconds(utcnow())
        if age is not None:
            yield _gauge(
                "certlookup_register_data_age_seconds",
                "Seconds since the last successful sync.",
                age,
            )
        stale = age is None or age > self._max_age
        yield _gauge(
            "certlookup_register_stale", "1 when the data is older than max_age_hours.", stale
        )
        counts = GaugeMetricFamily(
            "certlookup_register_organisations",
            "Organisations in the index, by status.",
            labels=["status"],
        )
        for status, count in sorted(snapshot.counts.items()):
            counts.add_metric([status], count)
        yield counts

    def describe(self) -> Iterable[Metric]:
        return []


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


class AppMetrics:
    """The metrics of one app: HTTP requests, verdicts, sync runs, register state, process."""

    def __init__(self, holder: Callable[[], SnapshotHolder | None], max_age_seconds: float) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "certlookup_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "certlookup_http_request_duration_seconds",
            "HTTP request latency by method, route template and status.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._verdicts = Counter(
            "certlookup_verdicts",
            "Verdicts given by /v1/check, batch items and file rows, by kind.",
            ["verdict"],
            registry=self.registry,
        )
        self.registry.register(SyncOutcomeCollector())
        self.registry.register(WatchActivityCollector())
        self.registry.register(RegisterCollector(holder, max_age_seconds))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.registry.register(GC_COLLECTOR)
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._verdict_children: dict[str, Counter] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request (route is the template, e.g. /v1/organisations/{id})."""
        key = (method if method in METHODS else "OTHER", route, status)
        children = self._children.get(key)
        if children is None:
            labels = (key[0], route, str(status))
            children = self._children[key] = (
                self._requests.labels(*labels),
                self._latency.labels(*labels),
            )
        children[0].inc()
        children[1].observe(seconds)

    def observe_verdict(self, verdict: object, count: int = 1) -> None:
        """Count `count` verdicts of one kind (a Verdict enum member or its string value)."""
        label = str(getattr(verdict, "value", verdict))
        child = self._verdict_children.get(label)
        if child is None:
            child = self._verdict_children[label] = self._verdicts.labels(label)
        child.inc(count)

    def render(self, accept: str | None) -> tuple[bytes, str]:
        """The exposition body and its content type (OpenMetrics if the scraper asks)."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type
