"""A watch's answer comes from the ruling, not the rendered result: the two must agree."""

from __future__ import annotations

import datetime as dt

import pytest

from app.checks.inputs import CheckQuery
from app.checks.schemas import CheckResult, Setting
from app.checks.verdicts import Clock, render, rule_many
from app.watches.answers import Answer
from tests.checks.test_verdicts import CLOCK, NOW, REGISTER, snapshot

NAMES = [
    "Harbour Learning Ltd",  # certified
    "SafeHands Training",  # a trading name
    "Calder Steps",  # a former name
    "Harbuor Learning",  # a typo: the fuzzy step
    "Mendip Care Group",  # an affiliate of a certified parent
    "Orphan Homes Ltd",  # an affiliate whose parent is not certified
    "Open Horizons Training Ltd",  # working towards
    "Expired Care Training Ltd",  # certificate expired
    "St Mark's School",  # needs review
    "Nobody At All Ltd",  # not listed
]


def answer_in(result: CheckResult) -> dict[str, object]:
    """What a watch remembers, read off the response as a client sees it."""
    org = result.organisation
    return {
        "verdict": str(result.verdict),
        "meets_cqc_expectation": result.meets_cqc_expectation,
        "organisation_id": org.id if org else None,
        "organisation_name": org.name if org else None,
        "organisation_status": org.status if org else None,
        "parent_status": org.parent.status if org and org.parent else None,
        "stale": result.register_.stale,
        "expired": any(w.code == "certificate_expired" for w in result.warnings),
    }


@pytest.mark.parametrize(
    "clock",
    [CLOCK, Clock(NOW + dt.timedelta(days=5), 72 * 3600)],  # fresh, then stale
    ids=["fresh", "stale"],
)
def test_the_answer_of_a_ruling_is_the_answer_in_its_rendered_result(clock: Clock) -> None:
    queries = [CheckQuery(n) for n in NAMES]
    queries += [CheckQuery(n, setting=Setting.OFSTED_ONLY) for n in NAMES[:2]]
    rulings = rule_many(REGISTER, queries, clock)
    for ruling in rulings:
        answer = Answer.of(ruling, REGISTER).values()
        assert answer == answer_in(render(REGISTER, ruling)), ruling.query
    verdicts = {str(r.verdict) for r in rulings}
    assert verdicts >= {"certified", "affiliate", "working_towards", "needs_review"}


def test_an_answer_before_the_first_sync_is_unknown_in_both() -> None:
    never = snapshot(last_synced=None, first_synced=None)
    (ruling,) = rule_many(never, [CheckQuery("Harbour Learning Ltd")], CLOCK)
    assert Answer.of(ruling, never).values() == answer_in(render(never, ruling))
    assert Answer.of(ruling, never).verdict == "unknown"
