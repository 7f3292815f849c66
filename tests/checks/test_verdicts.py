"""Verdict rules (DESIGN.md "Verdicts") on hand-built snapshots: no database needed."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from types import MappingProxyType

import pytest

from app.checks.inputs import CheckQuery
from app.checks.matching import IndexEntry, IndexName, MatchIndex
from app.checks.schemas import Setting, Verdict
from app.checks.snapshot import OrganisationView, RegisterInfo, Snapshot, departed_names
from app.checks.verdicts import Clock, decide, decide_many

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
FIRST_SYNC = dt.datetime(2026, 1, 10, 3, tzinfo=dt.UTC)
DAY = 86400


def org(
    id: int,
    name: str,
    status: str,
    *,
    parent_id: int | None = None,
    valid_until: dt.date | None = dt.date(2030, 1, 1),
    history: tuple[tuple[dt.datetime, str], ...] = ((FIRST_SYNC, ""),),
    names: tuple[tuple[str, str], ...] = (),
) -> OrganisationView:
    timeline = tuple((t, s or status) for t, s in history) if history else ()
    return OrganisationView(
        id=id,
        name=name,
        listed_name=name,
        status=status,
        names=((name, "name"), *names),
        certificate_number=None,
        certified_on=None,
        valid_until=valid_until if status == "certified" else None,
        settings=(),
        regions=(),
        website=None,
        parent_id=parent_id,
        parent_name="Parent" if parent_id else None,
        approved_on=None,
        note=None,
        first_seen_at=FIRST_SYNC,
        removed_at=None,
        transitions=tuple(t for t, _ in timeline),
        statuses=tuple(s for _, s in timeline),
    )


def snapshot(
    *orgs: OrganisationView,
    last_synced: dt.datetime | None = NOW,
    first_synced: dt.datetime | None = FIRST_SYNC,
) -> Snapshot:
    def entry(o: OrganisationView) -> IndexEntry:
        return IndexEntry(o.id, o.name, o.status, tuple(IndexName(n, k) for n, k in o.names))

    listed = [o for o in orgs if o.status != "removed"]
    return Snapshot(
        info=RegisterInfo(
            7, "http://register.test", first_synced, last_synced, last_synced, last_synced
        ),
        organisations=MappingProxyType({o.id: o for o in orgs}),
        listed=MatchIndex.build(map(entry, listed)),
        ever_listed=MatchIndex.build(map(entry, orgs)),
        counts=MappingProxyType({}),
        departed=departed_names(orgs),
    )


CLOCK = Clock(NOW, 72 * 3600)
REGISTER = snapshot(
    org(
        1,
        "Harbour Learning Ltd",
        "certified",
        names=(("SafeHands Training", "trading"), ("Calder Steps Ltd", "former")),
    ),
    org(2, "Mendip Care Group", "affiliate", parent_id=1),
    org(3, "Open Horizons Training Ltd", "working_towards"),
    org(4, "Expired Care Training Ltd", "certified", valid_until=dt.date(2025, 1, 1)),
    org(5, "Orphan Homes Ltd", "affiliate", parent_id=3),
    org(6, "St Mary's School", "affiliate", parent_id=1),
)


def check(name: str, snap: Snapshot = REGISTER, clock: Clock = CLOCK, **kw: object) -> dict:
    query = CheckQuery(name, **kw)  # type: ignore[arg-type]
    return decide(snap, query, clock).model_dump(mode="json", by_alias=True)


def codes(result: dict) -> list[str]:
    return [w["code"] for w in result["warnings"]]


def test_certified_provider_meets_cqc_expectation() -> None:
    result = check("harbour learning limited")
    assert result["verdict"] == "certified"
    assert result["meets_cqc_expectation"] is True
    assert result["organisation"]["id"] == 1
    assert result["match"]["method"] == "exact"
    assert result["register"] == {
        "version": 7,
        "last_synced_at": "2026-11-25T12:00:00Z",
        "source_url": "http://register.test",
        "stale": False,
    }


def test_affiliate_of_certified_parent_meets_expectation_and_names_parent() -> None:
    result = check("Mendip Care Group")
    assert (result["verdict"], result["meets_cqc_expectation"]) == ("affiliate", True)
    assert result["organisation"]["parent"]["id"] == 1


def test_affiliate_whose_parent_is_not_certified_is_null_with_warning() -> None:
    result = check("Orphan Homes Ltd")
    assert result["verdict"] == "affiliate"
    assert result["meets_cqc_expectation"] is None
    assert "parent_not_certified" in codes(result)
    (warning,) = [w for w in result["warnings"] if w["code"] == "parent_not_certified"]
    assert "(Open Horizons Training Ltd) is not on the certified list" in warning["message"]


def test_affiliate_left_unlinked_says_its_parent_name_fits_no_one_or_several() -> None:
    # The sync links no parent when the name fits no certified entry or several
    # (app/register/repository.link_affiliates); the answer must not claim the parent
    # is simply absent from the certified list.
    dales = replace(org(2, "Dales Care Group", "affiliate"), parent_name="Acme Safety Training")
    unlinked = snapshot(org(1, "Acme Safety Training Ltd", "certified"), dales)
    result = check("Dales Care Group", unlinked)
    assert (result["verdict"], result["meets_cqc_expectation"]) == ("affiliate", None)
    (warning,) = result["warnings"]
    assert warning["code"] == "parent_not_certified"
    assert warning["message"] == (
        "The affiliate's parent provider (Acme Safety Training) is not one certified "
        "organisation on the register: no certified entry has that name, or more than one has."
    )


def test_the_exact_name_of_a_departed_organisation_is_not_a_listed_lookalike() -> None:
    # "Kestrel Approaches Training Ltd" left the register; "+Kestrel Approaches Training",
    # certified and valid, normalises the same (legal form and "+" dropped). A question that
    # may mean the departed one never gets the lookalike's "certified".
    left = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    register = snapshot(
        org(1, "+Kestrel Approaches Training", "certified"),
        org(
            2,
            "Kestrel Approaches Training Ltd",
            "removed",
            history=((FIRST_SYNC, "certified"), (left, "removed")),
        ),
        org(3, "Acme Safety Training Ltd", "certified"),
        org(4, "Acme Safety Training Ltd", "removed"),
    )
    for written in (
        "Kestrel Approaches Training Ltd",
        "KESTREL APPROACHES  TRAINING LTD",
        "Kestrel Approaches Training Limited",  # either of the two
        "Kestrel Approaches Training Ltd (North East)",  # read as a form: the same name
    ):
        result = check(written, register)
        assert (result["verdict"], result["meets_cqc_expectation"]) == ("needs_review", None)
        assert codes(result) == ["name_of_departed_organisation"]
        assert result["match"] is None
        assert [c["name"] for c in result["candidates"]] == ["+Kestrel Approaches Training"]
        assert "which organisation it is, if any, cannot be decided" in result["explanation"]
        assert "no longer on the register" in result["explanation"]
    # The listed one's own name as written, and a name a listed organisation has too, match.
    for written in ("+Kestrel Approaches Training", "+KESTREL approaches training"):
        assert check(written, register)["verdict"] == "certified", written
    assert check("Acme Safety Training Ltd", register)["organisation"]["id"] == 3
    # On a date it was listed, the departed one is one of two that share the name.
    assert (
        check("Kestrel Approaches Training Ltd", register, as_of=dt.date(2026, 3, 1))["verdict"]
        == "needs_review"
    )


def test_working_towards_does_not_meet_expectation() -> None:
    result = check("Open Horizons Training")
    assert (result["verdict"], result["meets_cqc_expectation"]) == ("working_towards", False)


def test_unlisted_name_is_not_listed_and_does_not_meet_expectation() -> None:
    result = check("Completely Different Consulting")
    assert (result["verdict"], result["meets_cqc_expectation"]) == ("not_listed", False)
    assert result["organisation"] is None


def test_decoy_differing_in_a_distinctive_word_is_never_certified() -> None:
    result = check("St Mark's School")
    assert result["verdict"] in {"not_listed", "needs_review"}
    assert result["organisation"] is None


def test_needs_review_gives_scored_candidates_and_null_expectation() -> None:
    snap = snapshot(
        org(1, "Harbour Learning Ltd", "certified"),
        org(2, "Harbour Learning Ltd", "working_towards"),
    )
    result = check("Harbour Learning", snap)
    assert result["verdict"] == "needs_review"
    assert result["meets_cqc_expectation"] is None
    assert {c["organisation_id"] for c in result["candidates"]} == {1, 2}


def test_expired_certificate_gives_null_and_says_which() -> None:
    result = check("Expired Care Training Ltd")
    assert result["verdict"] == "certified"
    assert result["meets_cqc_expectation"] is None
    assert "certificate_expired" in codes(result)


def test_a_certificate_expires_by_the_clock_of_the_answer() -> None:
    # The day of the answer is the clock's, not the machine's: an evaluation that runs
    # around midnight, or a test clock, sees one date throughout.
    ends = dt.date(2025, 1, 1)
    before = Clock(dt.datetime.combine(ends, dt.time(12), tzinfo=dt.UTC), 10**9)
    after = Clock(dt.datetime.combine(ends + dt.timedelta(days=1), dt.time(), dt.UTC), 10**9)
    assert check("Expired Care Training Ltd", clock=before)["meets_cqc_expectation"] is True
    assert "certificate_expired" in codes(check("Expired Care Training Ltd", clock=after))


def test_stale_register_gives_null_and_warns() -> None:
    stale = snapshot(*REGISTER.organisations.values(), last_synced=NOW - dt.timedelta(days=4))
    result = check("Harbour Learning Ltd", stale)
    assert result["verdict"] == "certified"
    assert result["meets_cqc_expectation"] is None
    assert result["register"]["stale"] is True
    assert "register_stale" in codes(result)


def test_matching_a_former_name_warns() -> None:
    result = check("Calder Steps Ltd")
    assert result["verdict"] == "certified"
    assert result["match"]["method"] == "alias"
    assert "matched_former_name" in codes(result)


def test_trading_name_matches_the_organisation() -> None:
    result = check("SafeHands Training")
    assert result["organisation"]["id"] == 1
    assert result["match"]["matched_name"] == "SafeHands Training"


def test_ofsted_only_setting_says_expectation_does_not_apply_but_keeps_verdict() -> None:
    result = check("Open Horizons Training Ltd", setting=Setting.OFSTED_ONLY)
    assert result["verdict"] == "working_towards"
    assert result["cqc_expectation_applies"] is False
    assert result["meets_cqc_expectation"] is None
    assert "cqc_not_applicable" in codes(result)


def test_as_of_before_first_sync_is_unknown() -> None:
    result = check("Harbour Learning Ltd", as_of=dt.date(2025, 12, 31))
    assert result["verdict"] == "unknown"
    assert result["meets_cqc_expectation"] is None
    assert "before_observation_window" in codes(result)


def test_never_synced_register_answers_unknown() -> None:
    empty = snapshot(first_synced=None, last_synced=None)
    result = check("Harbour Learning Ltd", empty)
    assert result["verdict"] == "unknown"
    assert result["meets_cqc_expectation"] is None
    assert codes(result) == ["never_synced"]


PROMOTED = dt.datetime(2026, 6, 1, 3, tzinfo=dt.UTC)
REMOVED = dt.datetime(2026, 9, 1, 3, tzinfo=dt.UTC)
HISTORY = snapshot(
    org(
        1,
        "Keystone Bridges Consulting Ltd",
        "certified",
        history=((FIRST_SYNC, "working_towards"), (PROMOTED, "certified")),
    ),
    org(
        2, "Pennine Minds Ltd", "removed", history=((FIRST_SYNC, "certified"), (REMOVED, "removed"))
    ),
)


@pytest.mark.parametrize(
    ("as_of", "verdict"),
    [
        (dt.date(2026, 1, 10), "working_towards"),
        (dt.date(2026, 5, 31), "working_towards"),
        (dt.date(2026, 6, 1), "certified"),
        (None, "certified"),
    ],
)
def test_as_of_answers_the_status_that_held_on_that_date(
    as_of: dt.date | None, verdict: str
) -> None:
    assert check("Keystone Bridges Consulting Ltd", HISTORY, as_of=as_of)["verdict"] == verdict


def test_removed_organisation_was_certified_before_removal_and_not_listed_after() -> None:
    before = check("Pennine Minds Ltd", HISTORY, as_of=dt.date(2026, 8, 31))
    after = check("Pennine Minds Ltd", HISTORY, as_of=dt.date(2026, 9, 2))
    assert (before["verdict"], before["organisation"]["id"]) == ("certified", 2)
    assert after["verdict"] == "not_listed"
    assert "not_listed_on_date" in codes(after)


def test_removed_organisation_is_not_listed_now() -> None:
    result = check("Pennine Minds Ltd", HISTORY)
    assert result["verdict"] == Verdict.NOT_LISTED.value
    assert result["organisation"] is None


@pytest.mark.parametrize(
    ("snap", "expected"),
    [
        (REGISTER, {"certified", "affiliate", "needs_review", "not_listed", "unknown"}),
        (HISTORY, {"certified", "working_towards", "not_listed", "unknown"}),
        (snapshot(first_synced=None, last_synced=None), {"unknown"}),
    ],
    ids=["register", "history", "never-synced"],
)
def test_deciding_many_at_once_gives_each_query_its_own_verdict(
    snap: Snapshot, expected: set[str]
) -> None:
    names = [
        "Harbour Learning Ltd",
        "Harbuor Learning",  # a typo: the fuzzy step
        "Mendip Care Group",
        "St Mark's School",
        "Calder Steps",
        "Keystone Bridges Consulting",
        "Pennine Minds Ltd",
        "Nobody At All Ltd",
    ]
    # Now, before the observation window, and two dates of the history.
    dates = [None, dt.date(2025, 12, 1), dt.date(2026, 3, 1), dt.date(2026, 10, 1)]
    queries = [CheckQuery(n, as_of=d) for n in names for d in dates]
    queries.append(CheckQuery("Harbour Learning Ltd", setting=Setting.OFSTED_ONLY))
    got = decide_many(snap, queries, CLOCK)
    assert got == [decide(snap, q, CLOCK) for q in queries]
    assert {str(r.verdict) for r in got} == expected  # the mix reached every path


def test_memo_many_computes_each_missing_answer_once_and_keeps_order() -> None:
    snap = snapshot()
    snap.memo("b", lambda: "cached b")
    asked: list[list[object]] = []

    def compute(missing: list[object]) -> list[str]:
        asked.append(missing)
        return [f"new {k}" for k in missing]

    assert snap.memo_many(["a", "b", "c", "a"], compute) == ["new a", "cached b", "new c", "new a"]
    assert asked == [["a", "c"]]
    assert snap.memo_many(["c", "a"], compute) == ["new c", "new a"]
    assert asked == [["a", "c"]]  # nothing new to compute
