"""Matching names as forms write them: the rules that turn the matches of a written name's
parts (app/checks/forms.py) into one answer, with the zero-false-match guarantee.

- A name with qualifiers read off (region, town, team, company number) is its core name's
  match, unless another organisation fits the whole written name at least as well and
  carries a qualifier's word ("Beacon Training (Scotland)" beside a listed "Beacon Training
  Scotland"), or the core is a name many bodies share ("St Mary's School", "X County
  Council"): there a qualifier may mean a different body, so it is a review.
- Two names joined by "t/a" (or "(formerly ...)"): either may be the listed one. One known
  name gives its organisation; two known names of different organisations are a review.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.checks.forms import WrittenName
from app.checks.match_results import MATCHED, NEEDS_REVIEW, Candidate, MatchResult
from app.checks.normalise import fold_text, normalise_name
from app.checks.similarity import ORGANISATION_TYPE_WORDS

# The last word of a name that many bodies share by design: one per parish, town or county.
SHARED_KINDS = frozenset(
    "school schools academy college church chapel nursery surgery hospice parish council "
    "cathedral".split()
)
_QUALIFIER_NOISE = ORGANISATION_TYPE_WORDS | {
    "office", "team", "department", "dept", "unit", "division", "branch", "site", "hub",
    "head", "learning", "development", "no", "number", "reg", "company", "registered",
}  # fmt: skip


def is_commonly_shared(name: str) -> bool:
    """True for a name many bodies share: a saint's name, or a school, church, council..."""
    words = normalise_name(name).split()
    return bool(words) and (words[0] == "st" or words[-1] in SHARED_KINDS)


def resolve_written(
    written: WrittenName, whole: MatchResult, parts: Mapping[str, MatchResult]
) -> MatchResult:
    """The answer for a written name, from the match of the whole text and of each part."""
    results = [parts[name] for name in written.names]
    matched: dict[int | None, MatchResult] = {}
    for r in results:  # the first name written wins where both name one organisation
        if r.outcome == MATCHED:
            matched.setdefault(r.organisation_id, r)
    if len(matched) > 1:
        return _disagreeing(written, results, whole)
    if not matched:
        return _best_unmatched(results, whole)
    result = next(iter(matched.values()))
    if written.joined:
        result = _with_reason(result, f"{result.reason}, of one of the names joined in the query")
    if written.qualifiers:
        return _qualified(written, result, whole)
    return result


def _qualified(written: WrittenName, result: MatchResult, whole: MatchResult) -> MatchResult:
    """A match of the core name, checked against what the qualifiers might mean."""
    name = next(c.name for c in result.candidates if c.organisation_id == result.organisation_id)
    qualifiers = ", ".join(f"'{q}'" for q in written.qualifiers)
    if is_commonly_shared(name):
        warning = _warning(
            "common_name_qualified",
            f"{name} is a name many bodies share; {qualifiers} may mean a different one.",
        )
        return _review(result.candidates, whole, "a qualifier on a shared name", warning)
    rival = _better_fit(written, result.organisation_id, whole)
    if rival is not None:
        warning = _warning(
            "qualifier_names_another",
            f"{rival.name} fits the whole name, qualifier and all, as well as {name} does.",
        )
        return _review(
            result.candidates, whole, "another organisation fits the whole name", warning
        )
    return _with_reason(result, f"{result.reason}, with {qualifiers} read as a qualifier")


def _better_fit(written: WrittenName, org_id: int | None, whole: MatchResult) -> Candidate | None:
    """Another candidate for the whole written name that scores at least as well as the
    core's organisation and has one of the qualifiers' own words in its name."""
    words = {
        w
        for q in written.qualifiers
        for w in fold_text(q).split()
        if w not in _QUALIFIER_NOISE and not w.isdigit()
    }
    if not words:
        return None
    own = max((c.score for c in whole.candidates if c.organisation_id == org_id), default=0.0)
    return next(
        (
            c
            for c in whole.candidates
            if c.organisation_id != org_id
            and c.score >= own
            and words & set(fold_text(c.matched_name).split())
        ),
        None,
    )


def _disagreeing(
    written: WrittenName, results: list[MatchResult], whole: MatchResult
) -> MatchResult:
    pairs = [
        f"'{name}' matches {_matched_name(r)}"
        for name, r in zip(written.names, results, strict=True)
        if r.outcome == MATCHED
    ]
    warning = _warning(
        "names_disagree",
        f"The names joined in the query point at different organisations: {' but '.join(pairs)}.",
    )
    candidates = tuple(c for r in results for c in r.candidates[:1] if r.outcome == MATCHED)
    return _review(candidates, whole, "the joined names point at different organisations", warning)


def _matched_name(result: MatchResult) -> str:
    return next(c.name for c in result.candidates if c.organisation_id == result.organisation_id)


def _best_unmatched(results: list[MatchResult], whole: MatchResult) -> MatchResult:
    """No part matched: the parts' reviews (candidates together), else the whole's answer."""
    reviews = [r for r in results if r.outcome == NEEDS_REVIEW]
    if not reviews:
        return whole
    seen: dict[int, Candidate] = {}
    for candidate in (c for r in reviews for c in r.candidates):
        seen.setdefault(candidate.organisation_id, candidate)
    ranked = tuple(sorted(seen.values(), key=lambda c: -c.score))
    return MatchResult(NEEDS_REVIEW, None, None, None, None, None, ranked[:5], reviews[0].reason)


def _warning(code: str, message: str) -> tuple[str, str]:
    """A warning for the verdict's evidence (every code is documented in openapi.md)."""
    return code, message


def _review(
    candidates: tuple[Candidate, ...],
    whole: MatchResult,
    reason: str,
    warning: tuple[str, str],
) -> MatchResult:
    listed = {c.organisation_id: c for c in (*candidates, *whole.candidates)}
    return MatchResult(
        NEEDS_REVIEW,
        None,
        None,
        None,
        None,
        None,
        tuple(listed.values())[:5],
        reason,
        (warning,),
    )


def _with_reason(result: MatchResult, reason: str) -> MatchResult:
    return MatchResult(
        result.outcome,
        result.method,
        result.score,
        result.matched_name,
        result.matched_kind,
        result.organisation_id,
        result.candidates,
        reason,
        result.warnings,
    )
