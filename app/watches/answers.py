"""A watch's answer as it is remembered, and why a new answer differs from the last one sent."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from app.checks.snapshot import Snapshot
from app.checks.verdicts import Ruling
from app.watches.schemas import OrganisationBrief, PreviousAnswer, Reason

LISTED_VERDICTS = frozenset({"certified", "affiliate", "working_towards"})
# The fields of Watch that hold the last answer sent (see Answer.values).
ANSWER_FIELDS = (
    "verdict",
    "meets_cqc_expectation",
    "organisation_id",
    "organisation_name",
    "organisation_status",
    "parent_status",
    "stale",
    "expired",
)


class WatchState(Protocol):
    """What evaluating a watch reads of it: a Watch, or a row of these columns
    (app/watches/evaluation.py reads rows: 10,000 ORM objects cost a sixth of an evaluation)."""

    id: int
    key_id: int
    name: str
    setting: str
    reference: str | None
    certificate_number: str | None
    website: str | None
    verdict: str
    meets_cqc_expectation: bool | None
    organisation_id: int | None
    organisation_name: str | None
    organisation_status: str | None
    parent_status: str | None
    stale: bool
    expired: bool
    expiry_notice_for: dt.date | None


WATCH_STATE_FIELDS = tuple(WatchState.__annotations__)
"""The Watch columns a WatchState holds."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What a client is told about one watch, reduced to what an event compares."""

    verdict: str
    meets_cqc_expectation: bool | None
    organisation_id: int | None
    organisation_name: str | None
    organisation_status: str | None
    parent_status: str | None
    stale: bool
    expired: bool
    valid_until: dt.date | None
    """The certificate date that counts: the organisation's, or an affiliate's parent's."""

    @classmethod
    def of(cls, ruling: Ruling, snapshot: Snapshot) -> Answer:
        """The answer in a ruling (the snapshot gives the parent and its certificate date:
        the organisation's own, or an affiliate's parent's)."""
        org = ruling.organisation
        parent = snapshot.organisations.get(org.parent_id) if org and org.parent_id else None
        holder = None
        if org is not None and ruling.verdict in ("certified", "affiliate"):
            holder = parent or org
        return cls(
            verdict=str(ruling.verdict.value),
            meets_cqc_expectation=ruling.meets_cqc_expectation,
            organisation_id=org.id if org else None,
            organisation_name=org.name if org else None,
            organisation_status=org.status if org else None,
            parent_status=parent.status if parent else None,
            stale=ruling.stale,
            expired=ruling.warns("certificate_expired"),
            valid_until=holder.valid_until if holder else None,
        )

    def values(self) -> dict[str, Any]:
        """The Watch columns that remember this answer."""
        return {name: getattr(self, name) for name in ANSWER_FIELDS}


def expiry_notice_due(answer: Answer, today: dt.date, notice_days: int) -> dt.date | None:
    """The valid-until date to give notice of, when it falls within the notice period."""
    until = answer.valid_until
    if until is None or answer.expired or not today <= until <= today + dt.timedelta(notice_days):
        return None
    return until


def _match_reasons(before: WatchState, after: Answer, left_register: bool) -> list[Reason]:
    was_listed = before.verdict in LISTED_VERDICTS
    is_listed = after.verdict in LISTED_VERDICTS
    if is_listed and not was_listed:
        return [Reason.LISTED]
    if was_listed and not is_listed and (after.verdict == "not_listed" or left_register):
        return [Reason.REMOVED]
    if was_listed and is_listed and before.organisation_id == after.organisation_id:
        reasons = []
        if before.organisation_status != after.organisation_status:
            reasons.append(Reason.STATUS_CHANGED)
        if before.parent_status != after.parent_status:
            reasons.append(Reason.PARENT_STATUS_CHANGED)
        if before.organisation_name != after.organisation_name:
            reasons.append(Reason.RENAMED)
        return reasons
    if before.verdict != after.verdict or before.organisation_id != after.organisation_id:
        return [Reason.MATCH_CHANGED]
    return []


def change_reasons(
    before: WatchState, after: Answer, snapshot: Snapshot, notice_for: dt.date | None
) -> list[Reason]:
    """Why `after` differs from the answer last sent for `before`; empty when it does not.

    `notice_for` is the certificate date now within the notice period (expiry_notice_due).
    An organisation that left the register is `removed` even when the name now only
    resembles others (needs_review).
    """
    previous = snapshot.organisations.get(before.organisation_id or 0)
    left_register = previous is None or previous.status == "removed"
    reasons = _match_reasons(before, after, left_register)
    if notice_for is not None and notice_for != before.expiry_notice_for:
        reasons.append(Reason.CERTIFICATE_EXPIRING)
    if after.expired and not before.expired:
        reasons.append(Reason.CERTIFICATE_EXPIRED)
    if after.stale != before.stale:
        reasons.append(Reason.STALE if after.stale else Reason.FRESH)
    if not reasons and before.meets_cqc_expectation != after.meets_cqc_expectation:
        # Every cause of a changed CQC answer has a reason above; this is a safety net, so
        # that a changed answer is never left unsent.
        reasons.append(Reason.MATCH_CHANGED)
    return reasons


def previous_answer(watch: WatchState) -> PreviousAnswer:
    """The last answer sent for a watch, as an event's `previous`."""
    organisation = None
    if watch.organisation_id is not None:
        organisation = OrganisationBrief(
            id=watch.organisation_id,
            name=watch.organisation_name or "",
            status=watch.organisation_status or "",
            parent_status=watch.parent_status,
        )
    return PreviousAnswer(
        verdict=watch.verdict,
        meets_cqc_expectation=watch.meets_cqc_expectation,
        organisation=organisation,
    )
