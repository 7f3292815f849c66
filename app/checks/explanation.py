"""The words and evidence of a verdict: its explanation, match and candidates."""

from __future__ import annotations

from app.checks.corroboration import Confirmation
from app.checks.inputs import CheckQuery
from app.checks.matching import MatchResult
from app.checks.schemas import CandidateOut, IdentifierOut, MatchOut, Verdict
from app.checks.snapshot import Snapshot


def explain(verdict: Verdict, organisation: str | None, query: CheckQuery, note: str) -> str:
    """The verdict in a sentence or two; `note` says what the identifiers showed."""
    if verdict is Verdict.NEEDS_REVIEW and note:
        return f"{note} A person should review the candidates."
    if verdict is Verdict.NOT_LISTED and query.name is None and note:
        return note
    tense = "was" if query.as_of else "is"
    when = f" on {query.as_of.isoformat()}" if query.as_of else ""
    name = organisation or query.describe()
    texts = {
        Verdict.CERTIFIED: f"{name} {tense} a certified training service{when}.",
        Verdict.AFFILIATE: f"{name} {tense} an affiliate of a certified provider{when}.",
        Verdict.WORKING_TOWARDS: f"{name} {tense} working towards certification{when}: "
        f"its training {tense} not yet certified.",
        Verdict.NOT_LISTED: f"No organisation on the register{when} matches {name}.",
        Verdict.NEEDS_REVIEW: f"{name} resembles names on the register, but not "
        "closely enough to decide: a person should review the candidates.",
        Verdict.UNKNOWN: f"The mirror has no record of the register{when}: it knows "
        "nothing from before its first successful sync.",
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
