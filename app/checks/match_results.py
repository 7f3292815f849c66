"""What a name match says: its outcome, the name that matched, and scored candidates."""

from __future__ import annotations

from dataclasses import dataclass

MATCHED, NEEDS_REVIEW, NOT_LISTED = "matched", "needs_review", "not_listed"


@dataclass(frozen=True, slots=True)
class Candidate:
    organisation_id: int
    name: str
    status: str
    matched_name: str
    score: float


@dataclass(frozen=True, slots=True)
class MatchResult:
    outcome: str  # "matched" | "needs_review" | "not_listed"
    method: str | None  # "exact" | "alias" | "fuzzy"; None unless matched
    score: float | None
    matched_name: str | None
    matched_kind: str | None
    organisation_id: int | None
    candidates: tuple[Candidate, ...]
    reason: str
    warnings: tuple[tuple[str, str], ...] = ()
    """(code, message) pairs the verdict passes on, e.g. two joined names that disagree."""
