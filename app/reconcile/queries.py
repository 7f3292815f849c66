"""Reconciliation queries: parsed from the `queries` JSON, answered by the batch check's own
decision path (app/checks/service.check_many), so a candidate has `match: true` exactly when
/v1/check would auto-match it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from app.checks.schemas import CheckResult, Verdict
from app.checks.service import check_many
from app.checks.snapshot import Snapshot
from app.checks.verdicts import Clock
from app.reconcile.schemas import (
    CandidateOut,
    FeatureOut,
    PropertyValue,
    QueryBatch,
    QueryResult,
    ReconcileResults,
    ReconQuery,
    TypeOut,
)
from app.reconcile.vocabulary import IDENTIFIER_PROPERTIES, TYPES_BY_ID
from app.schemas import has_lone_surrogate

LISTED_VERDICTS = frozenset({Verdict.CERTIFIED, Verdict.AFFILIATE, Verdict.WORKING_TOWARDS})
MATCH_SCORE = 100.0
# Only the match scores 100: OpenRefine re-sorts candidates by score and auto-matches only a
# top candidate with match: true, and 100 reads as "certain" (an identifier a candidate
# lists, contradicted by the name, is still only a candidate).
NOT_MATCH_MAX = 99.0


@dataclass(frozen=True, slots=True)
class CheckInput:
    """What check_many reads of one query (the attributes of a batch item)."""

    name: str | None
    certificate_number: str | None = None
    website: str | None = None


def _invalid(location: Sequence[object], kind: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": tuple(location), "msg": message, "type": kind}])


def parse_field(model: type[QueryBatch], field: str, raw: str) -> QueryBatch:
    """The validated `queries` JSON; a RequestValidationError (422, or 413 for too many)."""
    try:
        batch = model.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False)
        raise RequestValidationError(
            [{**error, "loc": (field, *error["loc"])} for error in errors]
        ) from None
    for key in batch.root:
        if "\x00" in key or has_lone_surrogate(key):
            raise _invalid((field, key), "invalid_encoding", "a query key is not valid text")
    return batch


def _value_text(value: PropertyValue) -> str | None:
    """A property value as identifier text: strings and numbers; an entity or a bool is none."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _identifier(query: ReconQuery, pid: str) -> tuple[str | None, bool]:
    """The query's value for an identifier property, and whether it gave several."""
    values: list[PropertyValue] = []
    for prop in query.properties or ():
        if prop.pid == pid:
            values.extend(prop.v if isinstance(prop.v, list) else [prop.v])
    texts = {text for value in values if (text := _value_text(value)) is not None}
    return (next(iter(texts)) if len(texts) == 1 else None), len(texts) > 1


def check_input(query: ReconQuery) -> CheckInput:
    """The check a query asks for. Two different values for one identifier leave nothing to
    check (an empty result): which one the row meant is not for the service to guess."""
    found = {pid: _identifier(query, pid) for pid in IDENTIFIER_PROPERTIES}
    if any(several for _, several in found.values()):
        return CheckInput(None)
    certificate, _ = found["certificate_number"]
    website, _ = found["website"]
    return CheckInput(query.query, certificate, website)


def _candidate(
    organisation_id: int, name: str, status: str, matched: str, similarity: float, *, match: bool
) -> CandidateOut | None:
    kind = TYPES_BY_ID.get(status)
    if kind is None:
        return None
    score = MATCH_SCORE if match else min(round(similarity, 1), NOT_MATCH_MAX)
    return CandidateOut(
        id=str(organisation_id),
        name=name,
        description=f"{kind.name}; matched {matched}",
        score=score,
        match=match,
        type=[TypeOut(id=kind.id, name=kind.name)],
        features=[FeatureOut(id="name_similarity", value=round(similarity, 1))],
    )


def candidates(result: CheckResult) -> list[CandidateOut]:
    """The check's answer as candidates: the organisation it auto-matched first (match:
    true), then its scored candidates (match: false), best first."""
    found: list[CandidateOut | None] = []
    org, how = result.organisation, result.match
    seen: set[int] = set()
    if result.verdict in LISTED_VERDICTS and org is not None and how is not None:
        seen.add(org.id)
        found.append(
            _candidate(org.id, org.name, org.status, how.matched_name, how.score, match=True)
        )
    for c in result.candidates:
        if c.organisation_id not in seen:
            seen.add(c.organisation_id)
            similarity = c.score
            found.append(
                _candidate(
                    c.organisation_id, c.name, c.status, c.matched_name, similarity, match=False
                )
            )
    kept = [candidate for candidate in found if candidate is not None]
    return sorted(kept, key=lambda c: (not c.match, -c.score))


def _filtered(found: Iterable[CandidateOut], query: ReconQuery) -> list[CandidateOut]:
    wanted = [query.type] if isinstance(query.type, str) else query.type
    kept = [c for c in found if wanted is None or c.type[0].id in wanted]
    return kept[: query.limit] if query.limit is not None else kept


def reconcile(batch: QueryBatch, snapshot: Snapshot, clock: Clock) -> ReconcileResults:
    """Each query's candidates under its key; a query that cannot be checked (an empty or
    bad name, an invalid identifier) gets no candidates rather than failing the batch."""
    queries = batch.root
    items = check_many([check_input(q) for q in queries.values()], snapshot, clock)
    results = {}
    for (key, query), item in zip(queries.items(), items, strict=True):
        found = candidates(item.result) if item.result is not None else []
        results[key] = QueryResult(result=_filtered(found, query))
    return ReconcileResults(results)
