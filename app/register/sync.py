"""Sync the mirror from the register: scrape, validate, diff, apply in one transaction."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx
import structlog
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import transaction
from app.models import SyncOutcome, utcnow
from app.ops.metrics import record_watch_events
from app.register import repository
from app.register.diff import Diff, diff_listing
from app.register.locks import sync_lock
from app.register.validation import rejection_reasons
from app.watches.evaluation import EvaluationReport, evaluate_in_transaction
from scrapers import FetchPolicy, ScrapeError, make_client, scrape_register
from scrapers.rows import FetchedPage, ScrapeResult

log = structlog.get_logger(__name__)
SERVICE_NAME = "certlookup"


@dataclass(slots=True)
class SyncReport:
    """What a sync did, or would do on a dry run."""

    outcome: SyncOutcome
    run_id: int | None = None
    reason: str | None = None
    diff: Diff = field(default_factory=Diff)
    registry_version: int = 0
    rows_seen: int = 0
    pages_fetched: int = 0
    duration_ms: int = 0
    warnings: list[str] = field(default_factory=list)
    """What was dropped from entries that were kept (see scrapers.entry_rules)."""
    watches: EvaluationReport | None = None
    """The watches re-evaluated with this sync (None: none, or a dry run, or it failed)."""

    @property
    def ok(self) -> bool:
        """True when the mirror now reflects the register (or would, on a dry run)."""
        return self.outcome in {SyncOutcome.APPLIED, SyncOutcome.UNCHANGED, SyncOutcome.DRY_RUN}


def fetch_policy(settings: Settings) -> FetchPolicy:
    """The scraper's politeness and safety limits, from settings."""
    return FetchPolicy(
        user_agent=f"{SERVICE_NAME}/0.1 (+{settings.contact})",
        deadline_seconds=settings.fetch_deadline_seconds,
        max_pages=settings.fetch_max_pages,
        max_page_bytes=settings.fetch_max_page_bytes,
        pause_seconds=settings.fetch_pause_seconds,
    )


@dataclass(slots=True)
class SyncRequest:
    """How a sync was asked for."""

    trigger: str = "cli"
    source_url: str | None = None
    dry_run: bool = False
    force: bool = False
    lock_wait_seconds: float = 5.0
    attempt: int = 1
    """1 for a first try; 2 and up for the scheduler's retries after a failed sync."""
    on_page: Callable[[str], None] | None = None
    on_started: Callable[[int], None] | None = None
    """Called with the run id as soon as the run is recorded (never on a dry run)."""
    source: Callable[[], ScrapeResult] | None = None
    """Where the listing comes from instead of scraping `source_url` (an imported file);
    it raises ScrapeError when it cannot be read."""


def _scrape(
    settings: Settings, source_url: str, request: SyncRequest, client: httpx.Client | None
) -> ScrapeResult:
    if request.source is not None:
        return request.source()
    policy = fetch_policy(settings)
    if client is not None:
        return scrape_register(client, source_url, policy, on_page=request.on_page)
    with make_client(policy) as own_client:
        return scrape_register(own_client, source_url, policy, on_page=request.on_page)


def pages_answered(pages: Sequence[FetchedPage]) -> int:
    """How many requests the register answered (robots.txt included, any HTTP status).

    A request that got no answer (refused, timed out) is kept with the run's pages for
    diagnosis, but fetched nothing: a sync that cannot reach robots.txt fetched 0 pages.
    """
    return sum(1 for page in pages if page.status_code is not None)


def _record_failure(
    engine: Engine,
    settings: Settings,
    run_id: int,
    reason: str,
    pages: list[FetchedPage],
    *,
    lock_held: bool,
) -> SyncReport:
    with transaction(engine) as session:
        if lock_held:
            # Runs still 'running' died mid-way. Not after a failed apply: on Postgres the lock
            # went with the rolled-back transaction, so another run may be live by now.
            repository.mark_interrupted_runs(session, run_id)
        repository.keep_artifacts(session, run_id, pages, settings.artifact_runs_kept)
        repository.registry_state(session).last_attempted_at = utcnow()
        run = repository.finish_run(
            session,
            run_id,
            outcome=SyncOutcome.FAILED.value,
            reason=reason,
            pages_fetched=pages_answered(pages),
        )
        version = repository.registry_state(session).version
    log.warning("sync_failed", run_id=run_id, reason=reason, pages_fetched=pages_answered(pages))
    return SyncReport(
        SyncOutcome.FAILED,
        run_id,
        reason,
        registry_version=version,
        pages_fetched=pages_answered(pages),
        duration_ms=run.duration_ms or 0,
    )


def _decide(
    session: Session,
    settings: Settings,
    request: SyncRequest,
    run_id: int | None,
    scrape: ScrapeResult,
    source_url: str,
) -> SyncReport:
    """Inside the locked transaction: diff, validate, then apply, reject or only report."""
    mirror = repository.load_mirror(session)
    diff = diff_listing(mirror, scrape.rows)
    reasons = rejection_reasons(mirror, scrape, diff, settings.max_removed_share)
    state = repository.registry_state(session)
    report = SyncReport(
        SyncOutcome.DRY_RUN,
        run_id,
        "; ".join(reasons) or None,
        diff,
        state.version,
        len(scrape.rows),
        pages_answered(scrape.pages),
        warnings=list(scrape.warnings),
    )
    if request.dry_run or run_id is None:
        return report
    now = utcnow()
    repository.mark_interrupted_runs(session, run_id)
    state.last_attempted_at = now
    if reasons and not request.force:
        report.outcome = SyncOutcome.REJECTED
        repository.keep_artifacts(session, run_id, scrape.pages, settings.artifact_runs_kept)
    else:
        if reasons:
            report.reason = "forced past: " + report.reason if report.reason else None
        if diff.changes:
            repository.apply_diff(session, diff, version=state.version + 1, run_id=run_id, now=now)
        # On every accepted run, not only after changes: links made by older rules are
        # mended at the next sync, and an ambiguous parent is warned of while it lasts.
        linking = repository.link_affiliates(session)
        report.warnings += linking.warnings
        changed = bool(diff.changes or linking.relinked)
        report.outcome = SyncOutcome.APPLIED if changed else SyncOutcome.UNCHANGED
        if changed:  # a new registry version: every process rebuilds its snapshot
            state.version += 1
            state.last_changed_at = now
        state.first_synced_at = state.first_synced_at or now
        state.last_synced_at = now
        state.source_url = source_url
        # In this transaction: the events commit with the sync or not at all.
        report.watches = evaluate_in_transaction(session, settings)
    report.registry_version = state.version
    run = repository.finish_run(
        session,
        run_id,
        outcome=report.outcome.value,
        reason=report.reason,
        added=diff.added,
        changed=diff.changed,
        removed=diff.removed,
        rows_seen=report.rows_seen,
        pages_fetched=report.pages_fetched,
        registry_version=state.version,
        warnings=report.warnings,
    )
    report.duration_ms = run.duration_ms or 0
    return report


def run_sync(
    engine: Engine,
    settings: Settings,
    request: SyncRequest | None = None,
    client: httpx.Client | None = None,
) -> SyncReport:
    """Run one sync under the database-wide lock; the mirror changes only if it is applied."""
    request = request or SyncRequest()
    source_url = (request.source_url or settings.source_url).rstrip("/")
    started = time.monotonic()
    with sync_lock(
        engine,
        wait_seconds=request.lock_wait_seconds,
        lease_seconds=settings.fetch_deadline_seconds + 300,
    ) as lock:
        run_id = (
            None
            if request.dry_run
            else repository.start_run(
                engine,
                trigger=request.trigger,
                source_url=source_url,
                forced=request.force,
                attempt=request.attempt,
            )
        )
        if run_id is not None and request.on_started is not None:
            request.on_started(run_id)
        try:
            scrape = _scrape(settings, source_url, request, client)
        except ScrapeError as exc:
            if run_id is None:
                return SyncReport(
                    SyncOutcome.FAILED, reason=exc.reason, pages_fetched=pages_answered(exc.pages)
                )
            return _record_failure(engine, settings, run_id, exc.reason, exc.pages, lock_held=True)
        try:
            with lock.apply() as session:
                report = _decide(session, settings, request, run_id, scrape, source_url)
        except Exception as exc:
            log.exception("sync_apply_failed", run_id=run_id)
            if run_id is None:
                raise
            return _record_failure(
                engine, settings, run_id, f"apply failed: {exc}", scrape.pages, lock_held=False
            )
    report.duration_ms = int((time.monotonic() - started) * 1000)
    if report.watches is not None:
        record_watch_events(report.watches.reasons)
    log.info(
        "sync_finished",
        run_id=run_id,
        trigger=request.trigger,
        attempt=request.attempt,
        outcome=report.outcome.value,
        reason=report.reason,
        added=report.diff.added,
        changed=report.diff.changed,
        removed=report.diff.removed,
        registry_version=report.registry_version,
        duration_ms=report.duration_ms,
        warnings=len(report.warnings),
    )
    for warning in report.warnings:
        log.warning("sync_entry_warning", run_id=run_id, warning=warning)
    return report
