"""Identifiers as steps of the verdict: a certificate number or website given with a query
finds, confirms or contradicts the organisation (never a false "certified").

- An identifier alone that one organisation lists gives that organisation, matched by
  `certificate_number` or `website`.
- An identifier of the name's match confirms it; so does one of its parent, for an
  affiliate (affiliates have no certificate of their own: they train under their parent's).
- An identifier of another organisation than the name's match, or of anyone when the name
  matches no one, is `identifier_mismatch`: a review naming both, never a verdict.
- A certificate number no organisation lists is `certificate_number_unknown` and never gives
  a verdict: it turns a name's match into a review, and alone it is not listed. One digit
  from a real number is unknown, not a typo.
- A website no organisation lists is `website_unknown`: many list none, so beside a name it
  only warns.
- An identifier several organisations list is `identifier_ambiguous` unless a name (or the
  other identifier) picks one of them. A certificate number listed for a parent and its
  affiliates is the parent's.
- Identifiers never turn a name that needs review into a verdict.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.checks.identifier_index import CERTIFICATE_NUMBER, WEBSITE, Holding
from app.checks.inputs import CheckQuery
from app.checks.matching import MATCHED, NEEDS_REVIEW, NOT_LISTED, Candidate, MatchResult
from app.checks.snapshot import LISTED, Snapshot

SELF, PARENT = "self", "parent"


@dataclass(frozen=True, slots=True)
class Finding:
    """What one identifier given with the query points at, on the date asked about."""

    kind: str  # certificate_number | website
    value: str  # normalised, as compared
    holdings: tuple[Holding, ...]

    @property
    def label(self) -> str:
        return f"{self.kind.replace('_', ' ')} {self.value}"


@dataclass(frozen=True, slots=True)
class Confirmation:
    """An identifier given with the query that belongs to the matched organisation."""

    finding: Finding
    holding: Holding
    relation: str  # self: the organisation's own; parent: its parent's


@dataclass(frozen=True, slots=True)
class Resolution:
    """The match a verdict follows once identifiers are weighed, with what they showed."""

    match: MatchResult | None
    confirmations: tuple[Confirmation, ...] = ()
    warnings: tuple[tuple[str, str], ...] = ()
    note: str = ""  # sentences for the explanation


def corroborate(
    snapshot: Snapshot,
    query: CheckQuery,
    name_match: MatchResult | None,
    moment: dt.datetime | None,
) -> Resolution:
    """Weigh the query's identifiers against the name's match (None: no name was given);
    `moment` is the end of the date asked about (None: now)."""
    findings = _findings(snapshot, query, moment)
    if not findings:
        return Resolution(name_match)
    known = [f for f in findings if f.holdings]
    warnings = [_unknown(f) for f in findings if not f.holdings]
    bad_number = any(f.kind == CERTIFICATE_NUMBER and not f.holdings for f in findings)
    if name_match is None:
        return _by_identifiers(snapshot, known, warnings, bad_number)
    if name_match.outcome == MATCHED:
        return _against_match(snapshot, query, name_match, known, warnings, bad_number)
    return _beside_unmatched(snapshot, query, name_match, known, warnings)


def _findings(snapshot: Snapshot, query: CheckQuery, moment: dt.datetime | None) -> list[Finding]:
    index = snapshot.identifiers
    findings = []
    if query.certificate_number:
        number = query.certificate_number
        held = _on_register(snapshot, index.certificate_holdings(number, moment), moment)
        findings.append(Finding(CERTIFICATE_NUMBER, number, _parents(snapshot, held)))
    if query.website:
        held = _on_register(snapshot, index.website_holdings(query.website, moment), moment)
        findings.append(Finding(WEBSITE, query.website, held))
    return findings


def _on_register(
    snapshot: Snapshot, held: list[Holding], moment: dt.datetime | None
) -> tuple[Holding, ...]:
    """Holdings of organisations on the register at `moment`; for a past date with none,
    those the mirror had seen by then (the verdict then says they were not listed)."""

    def status(holding: Holding) -> str | None:
        org = snapshot.organisations.get(holding.organisation_id)
        if org is None:
            return None
        return org.status if moment is None else org.status_at(moment)

    listed = tuple(h for h in held if status(h) in LISTED)
    if listed or moment is None:
        return listed
    return tuple(h for h in held if status(h) is not None)


def _parents(snapshot: Snapshot, held: tuple[Holding, ...]) -> tuple[Holding, ...]:
    """A certificate number listed for a parent and its affiliates is the parent's."""
    ids = {h.organisation_id for h in held}
    orgs = snapshot.organisations
    return tuple(h for h in held if orgs[h.organisation_id].parent_id not in ids)


def _confirmation(snapshot: Snapshot, finding: Finding, org_id: int) -> Confirmation | None:
    for holding in finding.holdings:
        if holding.organisation_id == org_id:
            return Confirmation(finding, holding, SELF)
    parent = snapshot.organisations[org_id].parent_id
    for holding in finding.holdings:
        if parent is not None and holding.organisation_id == parent:
            return Confirmation(finding, holding, PARENT)
    return None


def _names(snapshot: Snapshot, finding: Finding) -> str:
    names = [snapshot.organisations[h.organisation_id].name for h in finding.holdings]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _warning(code: str, message: str) -> tuple[str, str]:
    """A warning for the verdict's evidence (every code is documented in openapi.md)."""
    return code, message


def _unknown(finding: Finding) -> tuple[str, str]:
    if finding.kind == CERTIFICATE_NUMBER:
        return _warning(
            "certificate_number_unknown",
            f"No organisation on the register has the certificate number {finding.value}.",
        )
    return _warning(
        "website_unknown",
        f"No organisation on the register lists the website {finding.value}.",
    )


def _mismatch(snapshot: Snapshot, subject: str, finding: Finding) -> tuple[str, str]:
    return _warning(
        "identifier_mismatch",
        f"{subject}, but the {finding.label} is listed for {_names(snapshot, finding)}.",
    )


def _against_match(
    snapshot: Snapshot,
    query: CheckQuery,
    match: MatchResult,
    known: list[Finding],
    warnings: list[tuple[str, str]],
    bad_number: bool,
) -> Resolution:
    """The name matched: each identifier confirms the match or contradicts it."""
    assert match.organisation_id is not None
    org = snapshot.organisations[match.organisation_id]
    confirmations = []
    for finding in known:
        confirmation = _confirmation(snapshot, finding, org.id)
        if confirmation is None:
            warnings.append(_mismatch(snapshot, f"'{query.name}' matches {org.name}", finding))
        else:
            confirmations.append(confirmation)
    if len(confirmations) < len(known) or bad_number:
        mine = tuple(c for c in match.candidates if c.organisation_id == org.id)[:1]
        lead = "" if len(confirmations) < len(known) else f"'{query.name}' matches {org.name}."
        return _review(snapshot, mine, known, warnings, "identifiers contradict the name", lead)
    note = _confirmed_note(snapshot, confirmations)
    return Resolution(match, tuple(confirmations), tuple(warnings), note)


def _beside_unmatched(
    snapshot: Snapshot,
    query: CheckQuery,
    match: MatchResult,
    known: list[Finding],
    warnings: list[tuple[str, str]],
) -> Resolution:
    """The name needs review or matches no one: identifiers never decide for it."""
    if not known:
        return Resolution(match, (), tuple(warnings), " ".join(m for _, m in warnings))
    near = match.outcome == NEEDS_REVIEW
    notes = []
    for finding in known:
        among = near and any(
            _confirmation(snapshot, finding, c.organisation_id) for c in match.candidates
        )
        if among:
            notes.append(
                f"The {finding.label} is listed for {_names(snapshot, finding)}, "
                "one of the candidates."
            )
        else:
            how = "no organisation on the register closely enough" if near else "no organisation"
            warnings.append(_mismatch(snapshot, f"'{query.name}' matches {how}", finding))
    review = _review(snapshot, match.candidates, known, warnings, match.reason)
    return Resolution(review.match, (), review.warnings, " ".join([review.note, *notes]).strip())


def _by_identifiers(
    snapshot: Snapshot, known: list[Finding], warnings: list[tuple[str, str]], bad_number: bool
) -> Resolution:
    """No name: the identifiers alone, which must agree on one organisation."""
    if not known:
        reason = "no organisation on the register has these identifiers"
        result = MatchResult(NOT_LISTED, None, None, None, None, None, (), reason)
        return Resolution(result, (), tuple(warnings), " ".join(m for _, m in warnings))
    agreeing: dict[int, list[Confirmation]] = {}
    for org_id in dict.fromkeys(h.organisation_id for f in known for h in f.holdings):
        found = [c for f in known if (c := _confirmation(snapshot, f, org_id))]
        if len(found) == len(known):
            agreeing[org_id] = found
    own = [o for o, cs in agreeing.items() if all(c.relation == SELF for c in cs)]
    chosen = own if len(own) == 1 else list(agreeing)
    if len(chosen) == 1 and not bad_number:
        return _found(snapshot, chosen[0], agreeing[chosen[0]], warnings)
    if bad_number:
        reason = "the certificate number is not on the register"
    elif not agreeing:
        first, second = known
        warnings.append(
            _mismatch(
                snapshot, f"The {first.label} is listed for {_names(snapshot, first)}", second
            )
        )
        reason = "the identifiers point at different organisations"
    else:
        shared = next((f for f in known if len(f.holdings) > 1), known[0])
        warnings.append(
            _warning(
                "identifier_ambiguous",
                f"The {shared.label} is listed for "
                f"{len(shared.holdings)} organisations: {_names(snapshot, shared)}.",
            )
        )
        reason = "the identifiers fit several organisations"
    return _review(snapshot, (), known, warnings, reason)


def _found(
    snapshot: Snapshot,
    org_id: int,
    confirmations: list[Confirmation],
    warnings: list[tuple[str, str]],
) -> Resolution:
    """A match by identifier: the first of the organisation's own finds it, any other
    confirms it."""
    org = snapshot.organisations[org_id]
    primary = next(c for c in confirmations if c.relation == SELF)
    others = [c for c in confirmations if c is not primary]
    candidate = Candidate(org.id, org.name, org.status, primary.holding.listed_as, 100.0)
    reason = f"the {primary.finding.kind.replace('_', ' ')} is listed for this organisation"
    result = MatchResult(
        MATCHED,
        primary.finding.kind,
        100.0,
        primary.holding.listed_as,
        primary.finding.kind,
        org.id,
        (candidate,),
        reason,
    )
    note = " ".join([f"Found by its {primary.finding.label}.", _confirmed_note(snapshot, others)])
    return Resolution(result, tuple(others), tuple(warnings), note.strip())


def _confirmed_note(snapshot: Snapshot, confirmations: list[Confirmation]) -> str:
    notes = []
    for c in confirmations:
        if c.relation == SELF:
            notes.append(f"The {c.finding.label} is its own, which confirms the match.")
        else:
            parent = snapshot.organisations[c.holding.organisation_id].name
            notes.append(
                f"The {c.finding.label} is that of its parent, {parent}, which confirms the match."
            )
    return " ".join(notes)


def _review(
    snapshot: Snapshot,
    candidates: tuple[Candidate, ...],
    known: list[Finding],
    warnings: list[tuple[str, str]],
    reason: str,
    lead: str = "",
) -> Resolution:
    """Needs review: the name's candidates, then the organisations the identifiers name."""
    listed = list(candidates)
    seen = {c.organisation_id for c in listed}
    for finding in known:
        for holding in finding.holdings:
            if holding.organisation_id not in seen:
                seen.add(holding.organisation_id)
                org = snapshot.organisations[holding.organisation_id]
                listed.append(Candidate(org.id, org.name, org.status, holding.listed_as, 100.0))
    result = MatchResult(NEEDS_REVIEW, None, None, None, None, None, tuple(listed), reason)
    note = " ".join([lead, *(m for _, m in warnings)]).strip()
    return Resolution(result, (), tuple(warnings), note)
