"""Re-answer every watch against a snapshot and raise an event for each changed answer.

It runs inside the transaction that applies a sync (so the events are committed with the
sync, or not at all) and, for answers that change with the date or the data's age alone, in
a transaction of its own under the sync lock (app/watches/upkeep.py). The events and their
webhook deliveries (the outbox) are written in that same transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.checks.inputs import CheckQuery
from app.checks.schemas import CheckResult
from app.checks.snapshot import Snapshot, load_snapshot
from app.checks.verdicts import Clock, Ruling, render, rule_many
from app.config import Settings
from app.gc_pause import collector_paused
from app.models import ApiKey, Watch
from app.watches import repository
from app.watches.answers import (
    WATCH_STATE_FIELDS,
    Answer,
    WatchState,
    change_reasons,
    expiry_notice_due,
    previous_answer,
)
from app.watches.schemas import Reason
from app.watches.service import watch_query
from app.webhooks.outbox import enqueue_deliveries

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class EvaluationReport:
    """What one evaluation did."""

    watches: int = 0
    events: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    registry_version: int = 0
    duration_ms: int = 0


def _answers(
    snapshot: Snapshot, queries: Sequence[CheckQuery], clock: Clock
) -> dict[CheckQuery, tuple[Ruling, Answer]]:
    """Each distinct question answered once (many clients watch the same providers); only
    an answer that changed is written out in full, for its event (see `_event_row`)."""
    unique = list(dict.fromkeys(queries))
    rulings = rule_many(snapshot, unique, clock)
    return {q: (r, Answer.of(r, snapshot)) for q, r in zip(unique, rulings, strict=True)}


def event_body(
    watch: WatchState, reasons: Sequence[Reason], result: CheckResult, now: dt.datetime
) -> str:
    """The watch.changed body, serialised once: the webhook sends exactly these bytes."""
    body: dict[str, Any] = {
        "type": repository.WATCH_CHANGED,
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "data": {
            "watch": {"id": watch.id, "name": watch.name, "reference": watch.reference},
            "reasons": [reason.value for reason in reasons],
            "previous": previous_answer(watch).model_dump(mode="json"),
            "current": result.model_dump(mode="json", by_alias=True),
        },
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def new_message_id() -> str:
    """A webhook-id: unique, stable across retries, without dots (the spec forbids them)."""
    return f"msg_{uuid.uuid4().hex}"


def _active_watches(session: Session) -> Sequence[WatchState]:
    """Watches of keys that are not revoked, oldest first, as rows of the columns an
    evaluation reads."""
    query = (
        select(*(getattr(Watch, name) for name in WATCH_STATE_FIELDS))
        .join(ApiKey, ApiKey.id == Watch.key_id)
        .where(ApiKey.revoked_at.is_(None))
        .order_by(Watch.id)
    )
    return session.execute(query).all()


def evaluate_watches(
    session: Session, snapshot: Snapshot, clock: Clock, settings: Settings
) -> EvaluationReport:
    """Answer every watch now; for each changed answer write an event and its deliveries."""
    started = time.monotonic()
    report = EvaluationReport(registry_version=snapshot.info.version)
    watches = _active_watches(session)
    queries = [watch_query(w) for w in watches]
    answers = _answers(snapshot, queries, clock)
    today, now = clock.now.date(), clock.now
    changed: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for watch, query in zip(watches, queries, strict=True):
        ruling, answer = answers[query]
        notice = expiry_notice_due(answer, today, settings.expiry_notice_days)
        reasons = change_reasons(watch, answer, snapshot, notice)
        values = {**answer.values(), "expiry_notice_for": notice or watch.expiry_notice_for}
        if reasons:
            events.append(_event_row(watch, reasons, render(snapshot, ruling), now))
            report.reasons.update(reason.value for reason in reasons)
        if any(getattr(watch, name) != value for name, value in values.items()):
            changed.append({"id": watch.id, **values})
    _write(session, changed, events, snapshot.info.version, clock, watches)
    report.watches, report.events = len(watches), len(events)
    report.duration_ms = int((time.monotonic() - started) * 1000)
    return report


def evaluate_against_current(
    session: Session, clock: Clock, settings: Settings
) -> EvaluationReport:
    """`evaluate_watches` against the register this transaction sees; its duration counts
    building that snapshot too (a third of the time for 3,000 organisations)."""
    started = time.monotonic()
    with collector_paused():  # tens of thousands of objects made, all alive to the end
        report = evaluate_watches(session, load_snapshot(session), clock, settings)
    report.duration_ms = int((time.monotonic() - started) * 1000)
    return report


def _event_row(
    watch: WatchState, reasons: Sequence[Reason], result: CheckResult, now: dt.datetime
) -> dict[str, Any]:
    return {
        "message_id": new_message_id(),
        "key_id": watch.key_id,
        "watch_id": watch.id,
        "type": repository.WATCH_CHANGED,
        "created_at": now,
        "body": event_body(watch, reasons, result, now),
    }


def _write(
    session: Session,
    changed: list[dict[str, Any]],
    events: list[dict[str, Any]],
    version: int,
    clock: Clock,
    watches: Sequence[WatchState],
) -> None:
    if changed:
        session.execute(update(Watch), changed)
    event_ids = repository.add_events(session, events)
    enqueue_deliveries(
        session,
        [(i, e["key_id"], e["watch_id"]) for i, e in zip(event_ids, events, strict=True)],
        clock.now,
    )
    # Every watch seen is now answered for this version and day (revoked keys' watches too,
    # so that they are not due again). A watch created meanwhile has a higher id and keeps
    # its own answer until the next evaluation.
    highest = max((w.id for w in watches), default=None)
    if highest is None:
        highest = session.scalar(select(func.max(Watch.id)))
    if highest is not None:
        session.execute(
            update(Watch)
            .where(Watch.id <= highest)
            .values(answered_version=version, answered_on=clock.now.date(), answered_at=clock.now)
        )


def evaluate_in_transaction(session: Session, settings: Settings) -> EvaluationReport | None:
    """Evaluate every watch against what this transaction sees; None when there are none.

    Runs in a savepoint: should it fail, its writes are undone and the caller's transaction
    (a sync) goes on; the watches are left behind the registry version, so the next upkeep
    evaluates them and raises the same events.
    """
    if session.scalar(select(Watch.id).limit(1)) is None:
        return None
    try:
        with session.begin_nested():
            report = evaluate_against_current(session, Clock.for_settings(settings), settings)
    except Exception:
        log.exception("watch_evaluation_failed")
        return None
    log.info(
        "watches_evaluated",
        watches=report.watches,
        events=report.events,
        reasons=dict(report.reasons),
        registry_version=report.registry_version,
        duration_ms=report.duration_ms,
    )
    return report
