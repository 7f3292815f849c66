"""The words and evidence of a verdict: its explanation, match and candidates."""

from __future__ import annotations

from collections.abc import Sequence

from app.checks.corroboration import Confirmation
from app.checks.inputs import CheckQuery
from app.checks.matching import MatchResult
from app.checks.schemas import CandidateOut, IdentifierOut, MatchOut, Verdict
from app.checks.snapshot import Snapshot

# Warnings after which a certified or affiliate listing cannot be called certified training.
UNRELIABLE = frozenset({"certificate_expired", "parent_not_certified", "register_stale"})


def explain(
    verdict: Verdict,
    organisation: str | None,
    query: CheckQuery,
    note: str,
    warnings: Sequence[tuple[str, str]] = (),
) -> str:
    """The verdict in a sentence or two, then every warning (code, message) the words do not
    already carry.

    `note` says what the identifiers showed. After an UNRELIABLE warning a certified or
    affiliate listing is not called certified training: meets_cqc_expectation is null then.
    """
    confirmed = not any(code in UNRELIABLE for code, _ in warnings)
    text = _lead(verdict, organisation, query, note, confirmed)
    unsaid = [message for _, message in warnings if message not in text]
    return " ".join([text, *unsaid]).strip()


def _lead(
    verdict: Verdict, organisation: str | None, query: CheckQuery, note: str, confirmed: bool
) -> str:
    if verdict is Verdict.NEEDS_REVIEW and note:
        return f"{note} A person should review the candidates."
    if verdict is Verdict.NOT_LISTED and query.name is None and note:
        return note
    tense = "was" if query.as_of else "is"
    when = f" on {query.as_of.isoformat()}" if query.as_of else ""
    name = organisation or query.describe()
    if not confirmed and verdict in (Verdict.CERTIFIED, Verdict.AFFILIATE):
        listed = "certified" if verdict is Verdict.CERTIFIED else "an affiliate"
        then = "then" if query.as_of else "now"
        return (
            f"{name} {tense} listed as {listed}{when}, but whether its training {tense} "
            f"certified {then} cannot be confirmed. {note}"
        ).strip()
    texts = {
        Verdict.CERTIFIED: f"{name} {tense} a certified training service{when}.",
        Verdict.AFFILIATE: f"{name} {tense} an affiliate of a certified provider{when}.",
        Verdict.WORKING_TOWARDS: f"{name} {tense} working towards certification{when}: "
        f"its training {tense} not yet certified.",
        Verdict.NOT_LISTED: f"No organisation on the register{when} matches {name}.",
        # Near misses, names several organisations share, lookalikes of one that left.
        Verdict.NEEDS_REVIEW: f"{name} resembles names on the register, but which "
        "organisation it is, if any, cannot be decided: a person should review the candidates.",
        Verdict.UNKNOWN: f"The mirror has no record of the register{when}.",
    }
    return f"{texts[verdict]} {note}".strip()


def candidates_out(match: MatchResult) -> list[CandidateOut]:
    """The scored candidates, best first."""
    return [
        CandidateOut(
            organisation_id=c.organisation_id,
            name=c.name,
            status=c.status,
            matched_name=c.matched_name,
            score=round(c.score, 1),
        )
        for c in match.candidates
    ]


def match_out(
    snapshot: Snapshot, match: MatchResult, confirmations: tuple[Confirmation, ...]
) -> MatchOut:
    """How the query found its organisation, with the identifiers that confirm it."""
    return MatchOut(
        method=match.method or "exact",
        score=round(match.score or 0.0, 1),
        matched_name=match.matched_name or "",
        matched_kind=match.matched_kind,
        reason=match.reason,
        confirmed_by=[
            IdentifierOut(
                kind=c.finding.kind,
                value=c.finding.value,
                listed_as=c.holding.listed_as,
                organisation_id=c.holding.organisation_id,
                organisation_name=snapshot.organisations[c.holding.organisation_id].name,
                relation=c.relation,
            )
            for c in confirmations
        ],
    )
