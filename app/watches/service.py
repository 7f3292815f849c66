"""Watches: create (one or many), list, read and delete; answers come from app/checks.

A watch is answered exactly as /v1/check answers its name: through `decide_many` over a
snapshot, so one place decides.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.auth.keys import ApiClient
from app.checks.inputs import (
    CheckQuery,
    validate_certificate_number,
    validate_name,
    validate_setting,
    validate_website,
)
from app.checks.schemas import CheckResult, ItemError, Setting
from app.checks.snapshot import Snapshot
from app.checks.verdicts import Clock, Ruling, decide_many, render, rule_many
from app.errors import Conflict, InvalidInput, ServiceError
from app.models import Watch
from app.schemas import has_lone_surrogate
from app.watches import repository
from app.watches.answers import Answer, WatchState, expiry_notice_due
from app.watches.schemas import WatchIn, WatchOut

MAX_REFERENCE_LENGTH = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class WatchSpec:
    """A validated watch to create."""

    query: CheckQuery
    reference: str | None


def watch_query(watch: WatchState) -> CheckQuery:
    """The check a watch stands for: its name, with its identifiers when it has them."""
    return CheckQuery(
        watch.name, None, Setting(watch.setting), watch.certificate_number, watch.website
    )


def validate_reference(raw: str | None) -> str | None:
    """The client's reference stripped (None when blank), or InvalidInput."""
    if raw is None or not raw.strip():
        return None
    if len(raw) > MAX_REFERENCE_LENGTH or _CONTROL.search(raw) or has_lone_surrogate(raw):
        raise InvalidInput(
            f"reference must be at most {MAX_REFERENCE_LENGTH} characters of valid text, "
            "without control characters",
            code="invalid_reference",
        )
    return raw.strip()


def validate_watch(raw: WatchIn) -> WatchSpec:
    """A validated watch from a request item, or InvalidInput with a stable code."""
    query = CheckQuery(
        validate_name(raw.name),
        None,
        validate_setting(raw.setting),
        validate_certificate_number(raw.certificate_number),
        validate_website(raw.website),
    )
    return WatchSpec(query, validate_reference(raw.reference))


def owner_of(client: ApiClient) -> int:
    """The client that owns watches and webhooks: its API key."""
    if client.key_id is None:  # require_watch only lets keyed clients through
        raise ServiceError("watches need an API key", code="forbidden", status=403)
    return client.key_id


@dataclass(frozen=True, slots=True)
class Asked:
    """Where and when watches are answered: the snapshot, the clock, the client's limits."""

    snapshot: Snapshot
    clock: Clock
    limit: int
    notice_days: int


def _row(key_id: int, spec: WatchSpec, ruling: Ruling, asked: Asked) -> dict[str, Any]:
    answer = Answer.of(ruling, asked.snapshot)
    today = asked.clock.now.date()
    return {
        "key_id": key_id,
        "name": spec.query.name,
        "setting": spec.query.setting.value,
        "reference": spec.reference,
        "certificate_number": spec.query.certificate_number,
        "website": spec.query.website,
        "created_at": asked.clock.now,
        **answer.values(),
        # What is already true when the client asks is in `current`: no event for it later.
        "expiry_notice_for": expiry_notice_due(answer, today, asked.notice_days),
        "answered_version": asked.snapshot.info.version,
        "answered_on": today,
        "answered_at": asked.clock.now,
    }


def create_watches(
    session: Session, client: ApiClient, items: Sequence[WatchSpec | ItemError], asked: Asked
) -> list[WatchOut | ItemError]:
    """Create the valid items, in order, up to the client's limit; the rest get errors."""
    key_id = owner_of(client)
    room = asked.limit - repository.count_watches(session, key_id)
    specs = [item for item in items if isinstance(item, WatchSpec)]
    rulings = iter(rule_many(asked.snapshot, [spec.query for spec in specs], asked.clock))
    rows: list[tuple[dict[str, Any], CheckResult]] = []
    outcome: list[ItemError | None] = []
    for item in items:
        if isinstance(item, ItemError):
            outcome.append(item)
            continue
        ruling = next(rulings)
        if len(rows) >= room:
            outcome.append(_limit_error(asked.limit).as_item())
            continue
        rows.append((_row(key_id, item, ruling, asked), render(asked.snapshot, ruling)))
        outcome.append(None)
    created = iter(repository.add_watches(session, [row for row, _ in rows]))
    answers = iter(result for _, result in rows)
    return [
        item if item is not None else watch_out(next(created), next(answers)) for item in outcome
    ]


class _LimitReached(Conflict):
    def as_item(self) -> ItemError:
        return ItemError(code=self.code, detail=self.detail)


def _limit_error(limit: int) -> _LimitReached:
    return _LimitReached(
        f"you already hold the most watches allowed ({limit:,}); delete some first",
        code="watch_limit_reached",
    )


def create_watch(session: Session, client: ApiClient, spec: WatchSpec, asked: Asked) -> WatchOut:
    """Create one watch, or Conflict when the client is at its limit."""
    (created,) = create_watches(session, client, [spec], asked)
    if isinstance(created, ItemError):
        raise _limit_error(asked.limit)
    return created


def watch_out(watch: Watch, current: CheckResult) -> WatchOut:
    """The public view of a watch with its current answer."""
    return WatchOut(
        id=watch.id,
        name=watch.name,
        setting=watch.setting,
        reference=watch.reference,
        certificate_number=watch.certificate_number,
        website=watch.website,
        created_at=watch.created_at,
        verdict=watch.verdict,
        current=current,
    )


def watches_out(watches: Sequence[Watch], snapshot: Snapshot, clock: Clock) -> list[WatchOut]:
    """Watches with their answers now, decided together."""
    results = decide_many(snapshot, [watch_query(w) for w in watches], clock)
    return [watch_out(w, r) for w, r in zip(watches, results, strict=True)]
