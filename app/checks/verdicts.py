"""From a match to a verdict with evidence, following the rules in DESIGN.md."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from app.checks.corroboration import Confirmation, corroborate
from app.checks.explanation import candidates_out, explain, match_out
from app.checks.forms import read_written_name
from app.checks.inputs import CheckQuery
from app.checks.match_results import MATCHED, NEEDS_REVIEW
from app.checks.matching import MatchIndex, MatchResult
from app.checks.normalise import as_written, normalise_name
from app.checks.schemas import (
    CheckResult,
    OrganisationOut,
    ParentOut,
    RegisterStamp,
    Setting,
    Verdict,
    WarningOut,
    organisation_fields,
)
from app.checks.snapshot import OrganisationView, Snapshot
from app.config import Settings

_STATUS_VERDICTS = {
    "certified": Verdict.CERTIFIED,
    "affiliate": Verdict.AFFILIATE,
    "working_towards": Verdict.WORKING_TOWARDS,
}


@dataclass(frozen=True, slots=True)
class Clock:
    """The moment a verdict is given, and the freshness rule."""

    now: dt.datetime
    max_age_seconds: float

    @classmethod
    def for_settings(cls, settings: Settings) -> Clock:
        """Now, with the freshness rule from settings."""
        return cls(dt.datetime.now(dt.UTC), settings.max_age_hours * 3600)


def is_stale(snapshot: Snapshot, clock: Clock) -> bool:
    """True when the last successful sync is older than the maximum age (or never was)."""
    age = snapshot.age_seconds(clock.now)
    return age is None or age > clock.max_age_seconds


def register_stamp(snapshot: Snapshot, clock: Clock) -> RegisterStamp:
    """Version and freshness of the snapshot that answered."""
    return _stamp(snapshot, is_stale(snapshot, clock))


def _stamp(snapshot: Snapshot, stale: bool) -> RegisterStamp:
    """One stamp object per freshness: the answers of a snapshot share it, as they share
    organisations; nothing mutates them."""
    return snapshot.memo(
        ("register_stamp", stale),
        lambda: RegisterStamp(
            version=snapshot.info.version,
            last_synced_at=snapshot.info.last_synced_at,
            source_url=snapshot.info.source_url,
            stale=stale,
        ),
    )


def organisation_out(snapshot: Snapshot, org: OrganisationView) -> OrganisationOut:
    """The public view of an organisation, with its parent resolved (built once per
    snapshot: every answer naming the organisation shares it)."""
    return snapshot.memo(("organisation_out", org.id), lambda: _organisation_out(snapshot, org))


def _organisation_out(snapshot: Snapshot, org: OrganisationView) -> OrganisationOut:
    parent = snapshot.organisations.get(org.parent_id) if org.parent_id else None
    return OrganisationOut(
        **organisation_fields(org, list(org.names)),
        parent=ParentOut(id=parent.id, name=parent.name, status=parent.status) if parent else None,
    )


class _Evidence:
    """Collects the verdict, CQC answer and warnings for one query."""

    def __init__(self) -> None:
        self.warnings: list[tuple[str, str]] = []
        self.meets: bool | None = None

    def warn(self, code: str, message: str) -> None:
        self.warnings.append((code, message))


@dataclass(frozen=True, slots=True)
class Ruling:
    """A decided query before it is written out as a CheckResult (see `render`): all that a
    watch compares, without the cost of the response objects."""

    query: CheckQuery
    verdict: Verdict
    meets_cqc_expectation: bool | None
    organisation: OrganisationView | None
    match: MatchResult | None
    confirmations: tuple[Confirmation, ...]
    warnings: tuple[tuple[str, str], ...]  # (code, message)
    note: str
    stale: bool

    def warns(self, code: str) -> bool:
        """True when the ruling carries a warning with this code."""
        return any(c == code for c, _ in self.warnings)


def _end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def _moment(query: CheckQuery) -> dt.datetime | None:
    """The last instant of the date asked about; None for now."""
    return None if query.as_of is None else _end_of(query.as_of) - dt.timedelta(microseconds=1)


def _status_on(org: OrganisationView, query: CheckQuery) -> str | None:
    moment = _moment(query)
    return org.status if moment is None else org.status_at(moment)


def _meets(
    snapshot: Snapshot,
    org: OrganisationView,
    status: str,
    query: CheckQuery,
    evidence: _Evidence,
    today: dt.date,
) -> bool | None:
    day = query.as_of or today
    holder = org
    if status == "affiliate":
        parent = snapshot.organisations.get(org.parent_id) if org.parent_id else None
        if parent is None:
            # Unlinked at the last sync: no certified entry has the name the affiliates page
            # gives, or several do (app/register/repository.link_affiliates).
            evidence.warn(
                "parent_not_certified",
                f"The affiliate's parent provider ({org.parent_name or 'unknown'}) is not "
                "one certified organisation on the register: no certified entry has that "
                "name, or more than one has.",
            )
            return None
        if _status_on(parent, query) != "certified":
            evidence.warn(
                "parent_not_certified",
                f"The affiliate's parent provider ({parent.name}) is not on the certified list.",
            )
            return None
        holder = parent
    if holder.valid_until and holder.valid_until < day:
        evidence.warn(
            "certificate_expired",
            f"The certificate of {holder.name} was valid "
            f"until {holder.valid_until.isoformat()}, before {day.isoformat()}.",
        )
        return None
    return True


def _matched_verdict(
    snapshot: Snapshot, match: MatchResult, query: CheckQuery, evidence: _Evidence, today: dt.date
) -> tuple[Verdict, OrganisationView | None]:
    assert match.organisation_id is not None
    org = snapshot.organisations[match.organisation_id]
    if match.matched_kind == "former":
        evidence.warn(
            "matched_former_name", f"Matched a former name ({match.matched_name}); now {org.name}."
        )
    status = _status_on(org, query)
    if status not in _STATUS_VERDICTS:
        when = f"on {query.as_of.isoformat()}" if query.as_of else "now"
        evidence.warn(
            "not_listed_on_date",
            f"{org.name} is in the mirror's history but was not on the register {when}.",
        )
        evidence.meets = False
        return Verdict.NOT_LISTED, org
    if status in ("certified", "affiliate"):
        evidence.meets = _meets(snapshot, org, status, query, evidence, today)
    else:
        evidence.meets = False
    return _STATUS_VERDICTS[status], org


def _verdict_of(
    snapshot: Snapshot,
    match: MatchResult | None,
    query: CheckQuery,
    evidence: _Evidence,
    today: dt.date,
) -> tuple[Verdict, OrganisationView | None]:
    """The verdict a (corroborated) match gives; no match at all is not listed. `today`
    is the clock's date: a certificate that ended before it has expired."""
    if match is not None and match.outcome == "matched":
        return _matched_verdict(snapshot, match, query, evidence, today)
    if match is not None and match.outcome == "needs_review":
        return Verdict.NEEDS_REVIEW, None
    evidence.meets = False
    return Verdict.NOT_LISTED, None


def _before_window(snapshot: Snapshot, query: CheckQuery) -> bool:
    first = snapshot.info.first_synced_at
    if first is None:
        return True
    return query.as_of is not None and query.as_of < first.date()


def _index_for(snapshot: Snapshot, query: CheckQuery) -> MatchIndex | None:
    """The index that answers the query; None when the answer is unknown without one."""
    if _before_window(snapshot, query):
        return None
    return snapshot.ever_listed if query.as_of else snapshot.listed


def _unless_departed(
    snapshot: Snapshot, name: str, match: MatchResult | None, evidence: _Evidence
) -> MatchResult | None:
    """A match on a listed organisation, unless the name (or a name a form wrote in it, as
    app/checks/forms.py reads it) may as well be that of one no longer on the register
    ("Acme Training Ltd" removed, "Acme Training CIC" listed: the same name once legal form
    and punctuation are ignored). Then it needs review, unless it is the listed
    organisation's own name exactly as written."""
    if match is None or match.outcome != MATCHED or match.organisation_id is None:
        return match
    if not snapshot.departed:
        return match
    matched = snapshot.organisations[match.organisation_id]
    own = {as_written(text) for text in matched.all_names}
    if as_written(name) in own:
        return match  # the listed organisation's own name, exactly
    form = read_written_name(name)
    for asked in (name, *(form.names if form else ())):
        gone = snapshot.departed.get(normalise_name(asked))
        if gone and as_written(asked) not in own:
            left = snapshot.organisations[gone[0]]
            evidence.warn(
                "name_of_departed_organisation",
                f"'{asked}' reads the same as {left.name}, which is no longer on the register, "
                f"as it does as {matched.name} (once legal form and punctuation are ignored): "
                "it may mean either.",
            )
            return replace(
                match,
                outcome=NEEDS_REVIEW,
                method=None,
                score=None,
                matched_name=None,
                matched_kind=None,
                organisation_id=None,
                reason=f"the name may be that of {left.name}, no longer on the register",
            )
    return match


def rule_many(snapshot: Snapshot, queries: Sequence[CheckQuery], clock: Clock) -> list[Ruling]:
    """`rule` for each query, in order, with each index matching all its names in one go."""
    asked: dict[int, tuple[MatchIndex, list[int]]] = {}
    for i, query in enumerate(queries):
        index = _index_for(snapshot, query)
        if index is not None and query.name is not None:
            asked.setdefault(id(index), (index, []))[1].append(i)
    matches: dict[int, MatchResult] = {}
    for index, positions in asked.values():
        found = index.match_many([queries[i].name or "" for i in positions])
        matches.update(zip(positions, found, strict=True))
    return [rule(snapshot, query, clock, matches.get(i)) for i, query in enumerate(queries)]


def decide_many(
    snapshot: Snapshot, queries: Sequence[CheckQuery], clock: Clock
) -> list[CheckResult]:
    """`decide` for each query, in order (see `rule_many`)."""
    return [render(snapshot, ruling) for ruling in rule_many(snapshot, queries, clock)]


def decide(
    snapshot: Snapshot, query: CheckQuery, clock: Clock, match: MatchResult | None = None
) -> CheckResult:
    """The verdict for one validated query against one snapshot, with its evidence."""
    return render(snapshot, rule(snapshot, query, clock, match))


def rule(
    snapshot: Snapshot, query: CheckQuery, clock: Clock, match: MatchResult | None = None
) -> Ruling:
    """The verdict for one validated query against one snapshot; `match` is the query's
    match when already known (see `rule_many`)."""
    evidence = _Evidence()
    stale = is_stale(snapshot, clock)
    org: OrganisationView | None = None
    confirmations: tuple[Confirmation, ...] = ()
    note = ""
    index = _index_for(snapshot, query)
    if index is None:
        verdict, match = Verdict.UNKNOWN, None
        if snapshot.info.first_synced_at is None:
            evidence.warn(
                "never_synced",
                "The mirror has not synced the register successfully "
                "yet, so it cannot say who is listed.",
            )
        else:
            evidence.warn(
                "before_observation_window",
                "The date is before the mirror's first "
                "successful sync, so what the register said then is not known.",
            )
    else:
        if match is None and query.name is not None:
            match = index.match(query.name)
        if query.as_of is None and query.name is not None:
            match = _unless_departed(snapshot, query.name, match, evidence)
        named = match.warnings if match else ()  # how the written name was read
        resolution = corroborate(snapshot, query, match, _moment(query))
        for code, message in (*named, *resolution.warnings):
            evidence.warn(code, message)
        match, confirmations = resolution.match, resolution.confirmations
        note = " ".join([*(message for _, message in named), resolution.note]).strip()
        verdict, org = _verdict_of(snapshot, match, query, evidence, clock.now.date())
    if stale and verdict is not Verdict.UNKNOWN:
        evidence.warn(
            "register_stale",
            "The mirror has not synced successfully within the "
            "maximum age; the register may have changed since.",
        )
        evidence.meets = None
    applies = query.setting is Setting.CQC
    if not applies:
        evidence.warn(
            "cqc_not_applicable",
            "Ofsted/DfE-only settings may use training that "
            "is not certified; the CQC expectation does not apply.",
        )
    return Ruling(
        query=query,
        verdict=verdict,
        meets_cqc_expectation=evidence.meets if applies else None,
        organisation=org,
        match=match,
        confirmations=confirmations,
        warnings=tuple(evidence.warnings),
        note=note,
        stale=stale,
    )


def render(snapshot: Snapshot, ruling: Ruling) -> CheckResult:
    """A ruling as the API answers it."""
    query, org, match = ruling.query, ruling.organisation, ruling.match
    return CheckResult(
        query=query.name,
        certificate_number=query.certificate_number,
        website=query.website,
        as_of=query.as_of,
        verdict=ruling.verdict,
        meets_cqc_expectation=ruling.meets_cqc_expectation,
        cqc_expectation_applies=query.setting is Setting.CQC,
        explanation=explain(
            ruling.verdict, org.name if org else None, query, ruling.note, ruling.warnings
        ),
        organisation=organisation_out(snapshot, org) if org else None,
        match=match_out(snapshot, match, ruling.confirmations)
        if match and match.outcome == "matched"
        else None,
        candidates=candidates_out(match) if match else [],
        warnings=[WarningOut(code=code, message=message) for code, message in ruling.warnings],
        register_=_stamp(snapshot, ruling.stale),
    )
