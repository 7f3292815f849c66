"""Identifier rules as steps of the verdict (app/checks/corroboration.py), on hand-built
snapshots: found by identifier, confirmed, contradicted, unknown, shared, and on past dates."""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import MappingProxyType
from typing import Any

import pytest

from app.checks.identifier_index import IdentifierChange
from app.checks.inputs import CheckQuery
from app.checks.matching import IndexEntry, IndexName, MatchIndex
from app.checks.snapshot import OrganisationView, RegisterInfo, Snapshot, identifier_index
from app.checks.verdicts import Clock, decide, decide_many
from tests.checks.test_verdicts import FIRST_SYNC, NOW, org

CLOCK = Clock(NOW, 72 * 3600)
RENUMBERED = dt.datetime(2026, 6, 1, 3, tzinfo=dt.UTC)


def with_ids(view: OrganisationView, number: str | None = None, site: str | None = None) -> Any:
    return dataclasses.replace(view, certificate_number=number, website=site)


def snapshot(*orgs: OrganisationView, changes: tuple[IdentifierChange, ...] = ()) -> Snapshot:
    def entry(o: OrganisationView) -> IndexEntry:
        return IndexEntry(o.id, o.name, o.status, tuple(IndexName(n, k) for n, k in o.names))

    return Snapshot(
        info=RegisterInfo(3, "http://register.test", FIRST_SYNC, NOW, NOW, NOW),
        organisations=MappingProxyType({o.id: o for o in orgs}),
        listed=MatchIndex.build(entry(o) for o in orgs if o.status != "removed"),
        ever_listed=MatchIndex.build(map(entry, orgs)),
        counts=MappingProxyType({}),
        identifiers=identifier_index(orgs, changes),
    )


REGISTER = snapshot(
    with_ids(org(1, "Harbour Learning Ltd", "certified"), "ACT2421", "https://www.harbour.org.uk/"),
    with_ids(org(2, "Riverside Training Ltd", "certified"), "ACT5550", "https://riverside.co.uk"),
    org(3, "Mendip Care Group", "affiliate", parent_id=1),
    with_ids(org(4, "Open Horizons Training Ltd", "working_towards"), None, "openhorizons.org.uk"),
    # An affiliate that lists its parent's website as its own.
    with_ids(
        org(5, "Calder Homes Ltd", "affiliate", parent_id=2), None, "https://riverside.co.uk/"
    ),
    with_ids(org(6, "Kestrel Own Site Care Ltd", "affiliate", parent_id=1), None, "kestrel.org.uk"),
    org(7, "St Mary's School", "affiliate", parent_id=2),
    with_ids(org(8, "Harbour Learning Trust", "certified"), "ACT8000", None),
)


def check(name: str | None = None, snap: Snapshot = REGISTER, **kw: Any) -> dict[str, Any]:
    query = CheckQuery(name, **kw)
    return decide(snap, query, CLOCK).model_dump(mode="json", by_alias=True)


def codes(result: dict[str, Any]) -> list[str]:
    return [w["code"] for w in result["warnings"]]


def candidate_ids(result: dict[str, Any]) -> set[int]:
    return {c["organisation_id"] for c in result["candidates"]}


def test_certificate_number_alone_gives_its_organisations_verdict() -> None:
    result = check(certificate_number="ACT2421")
    assert (result["verdict"], result["meets_cqc_expectation"]) == ("certified", True)
    assert result["organisation"]["id"] == 1
    assert result["match"]["method"] == "certificate_number"
    assert result["match"]["matched_name"] == "ACT2421"
    assert result["query"] is None
    assert result["certificate_number"] == "ACT2421"
    assert "Found by its certificate number ACT2421" in result["explanation"]


def test_website_alone_gives_its_organisations_verdict_even_from_a_subdomain() -> None:
    result = check(website="training.openhorizons.org.uk")
    assert (result["verdict"], result["organisation"]["id"]) == ("working_towards", 4)
    assert result["match"]["method"] == "website"
    assert result["match"]["matched_name"] == "openhorizons.org.uk"
    assert result["website"] == "training.openhorizons.org.uk"


def test_an_identifier_that_agrees_with_the_name_confirms_the_match() -> None:
    result = check(
        "HARBOUR LEARNING LIMITED", certificate_number="ACT2421", website="harbour.org.uk"
    )
    assert (result["verdict"], result["organisation"]["id"]) == ("certified", 1)
    assert result["match"]["method"] == "exact"
    confirmed = {(c["kind"], c["relation"]) for c in result["match"]["confirmed_by"]}
    assert confirmed == {("certificate_number", "self"), ("website", "self")}
    assert result["match"]["confirmed_by"][0]["listed_as"] == "ACT2421"
    assert "confirms the match" in result["explanation"]
    assert result["warnings"] == []


def test_a_parents_certificate_number_with_an_affiliates_name_is_the_affiliate() -> None:
    result = check("Mendip Care Group", certificate_number="ACT2421")
    assert (result["verdict"], result["meets_cqc_expectation"]) == ("affiliate", True)
    assert result["organisation"]["id"] == 3
    [confirmation] = result["match"]["confirmed_by"]
    assert (confirmation["relation"], confirmation["organisation_id"]) == ("parent", 1)
    assert "its parent, Harbour Learning Ltd" in result["explanation"]
    assert "identifier_mismatch" not in codes(result)


def test_another_organisations_certificate_number_is_a_mismatch_never_a_verdict() -> None:
    result = check("Harbour Learning Ltd", certificate_number="ACT5550")
    assert result["verdict"] == "needs_review"
    assert result["meets_cqc_expectation"] is None
    assert result["match"] is None
    assert result["organisation"] is None
    assert codes(result) == ["identifier_mismatch"]
    message = result["warnings"][0]["message"]
    assert "Harbour Learning Ltd" in message
    assert "Riverside Training Ltd" in message
    assert candidate_ids(result) == {1, 2}
    assert message in result["explanation"]


def test_a_sibling_affiliates_parent_number_is_a_mismatch() -> None:
    # St Mary's School trains under Riverside, not under Harbour Learning.
    result = check("St Mary's School", certificate_number="ACT2421")
    assert (result["verdict"], codes(result)) == ("needs_review", ["identifier_mismatch"])


def test_an_unknown_certificate_number_alone_is_not_listed_with_a_warning() -> None:
    result = check(certificate_number="ACT9999")
    assert (result["verdict"], result["meets_cqc_expectation"]) == ("not_listed", False)
    assert codes(result) == ["certificate_number_unknown"]
    assert result["explanation"] == result["warnings"][0]["message"]


@pytest.mark.parametrize("near_miss", ["ACT2420", "ACT2422", "ACT2412", "ACT24210", "ACT421"])
def test_a_number_one_slip_from_a_real_one_is_unknown_not_a_typo(near_miss: str) -> None:
    alone = check(certificate_number=near_miss)
    assert alone["verdict"] == "not_listed"
    assert codes(alone) == ["certificate_number_unknown"]
    # Beside the name of the organisation whose number it resembles, it is a review.
    named = check("Harbour Learning Ltd", certificate_number=near_miss)
    assert (named["verdict"], named["meets_cqc_expectation"]) == ("needs_review", None)
    assert codes(named) == ["certificate_number_unknown"]
    assert candidate_ids(named) == {1}
    assert named["explanation"].startswith("'Harbour Learning Ltd' matches Harbour Learning Ltd")


def test_an_unknown_website_beside_a_matching_name_only_warns() -> None:
    result = check("Harbour Learning Ltd", website="harbour-learning.co.uk")
    assert (result["verdict"], result["organisation"]["id"]) == ("certified", 1)
    assert codes(result) == ["website_unknown"]
    assert result["match"]["confirmed_by"] == []


def test_an_unknown_website_alone_is_not_listed() -> None:
    result = check(website="harbour-learning.co.uk")
    assert (result["verdict"], codes(result)) == ("not_listed", ["website_unknown"])


@pytest.mark.parametrize(
    "website", ["harbour.org", "harbour.org.uk.example.com", "org.uk.harbour.co"]
)
def test_lookalike_websites_never_find_the_organisation(website: str) -> None:
    assert check(website=website)["verdict"] == "not_listed"


def test_a_website_shared_by_a_parent_and_its_affiliate_alone_needs_review() -> None:
    result = check(website="www.riverside.co.uk")
    assert result["verdict"] == "needs_review"
    assert codes(result) == ["identifier_ambiguous"]
    assert candidate_ids(result) == {2, 5}
    # The name picks one of them; either one.
    assert check("Calder Homes Ltd", website="riverside.co.uk")["organisation"]["id"] == 5
    assert check("Riverside Training Ltd", website="riverside.co.uk")["organisation"]["id"] == 2
    # And the certificate number picks the parent, whose number it is.
    both = check(certificate_number="ACT5550", website="riverside.co.uk")
    assert (both["verdict"], both["organisation"]["id"]) == ("certified", 2)


def test_a_parents_number_and_an_affiliates_own_website_find_the_affiliate() -> None:
    result = check(certificate_number="ACT2421", website="kestrel.org.uk")
    assert (result["verdict"], result["organisation"]["id"]) == ("affiliate", 6)
    assert result["match"]["method"] == "website"
    assert result["match"]["confirmed_by"][0]["relation"] == "parent"


def test_identifiers_of_two_unrelated_organisations_alone_are_a_mismatch() -> None:
    result = check(certificate_number="ACT2421", website="riverside.co.uk")
    assert (result["verdict"], codes(result)) == ("needs_review", ["identifier_mismatch"])


def test_an_identifier_beside_a_name_that_matches_no_one_is_a_mismatch() -> None:
    result = check("Completely Different Name Ltd", certificate_number="ACT2421")
    assert (result["verdict"], codes(result)) == ("needs_review", ["identifier_mismatch"])
    assert candidate_ids(result) == {1}


def test_identifiers_never_turn_a_name_that_needs_review_into_a_verdict() -> None:
    # "Harbour Learning Services" resembles two organisations; the number is one's.
    result = check("Harbour Learning Services", certificate_number="ACT2421")
    assert result["verdict"] == "needs_review"
    assert "one of the candidates" in result["explanation"]
    assert 1 in candidate_ids(result)


def test_a_certificate_number_of_a_parent_listed_by_its_affiliate_too_is_the_parents() -> None:
    snap = snapshot(
        with_ids(org(1, "Harbour Learning Ltd", "certified"), "ACT2421"),
        with_ids(org(3, "Mendip Care Group", "affiliate", parent_id=1), "ACT2421"),
    )
    assert check(certificate_number="ACT2421", snap=snap)["organisation"]["id"] == 1
    assert check("Mendip Care Group", snap, certificate_number="ACT2421")["verdict"] == "affiliate"


def test_a_certificate_number_two_certified_organisations_list_alone_needs_review() -> None:
    snap = snapshot(
        with_ids(org(1, "Harbour Learning Ltd", "certified"), "ACT2421"),
        with_ids(org(2, "Riverside Training Ltd", "certified"), "ACT2421"),
    )
    result = check(certificate_number="ACT2421", snap=snap)
    assert (result["verdict"], codes(result)) == ("needs_review", ["identifier_ambiguous"])


HISTORY = snapshot(
    with_ids(org(1, "Harbour Learning Ltd", "certified"), "ACT2000"),
    with_ids(
        org(2, "Riverside Training Ltd", "certified", history=((RENUMBERED, "certified"),)),
        "ACT1000",
    ),
    with_ids(
        org(
            3,
            "Pennine Minds Ltd",
            "removed",
            history=((FIRST_SYNC, "certified"), (RENUMBERED, "removed")),
        ),
        "ACT3000",
    ),
    changes=(IdentifierChange(1, RENUMBERED, "certificate_number", "ACT1000", "ACT2000"),),
)


def test_as_of_uses_the_certificate_numbers_as_they_were_on_that_date() -> None:
    may, july = dt.date(2026, 5, 31), dt.date(2026, 7, 1)
    assert check(certificate_number="ACT1000", snap=HISTORY, as_of=may)["organisation"]["id"] == 1
    assert check(certificate_number="ACT1000", snap=HISTORY, as_of=july)["organisation"]["id"] == 2
    assert check(certificate_number="ACT1000", snap=HISTORY)["organisation"]["id"] == 2
    old = check(certificate_number="ACT2000", snap=HISTORY, as_of=may)
    assert (old["verdict"], codes(old)) == ("not_listed", ["certificate_number_unknown"])
    # The old number beside the organisation's name on a date it held it confirms it.
    then = check("Harbour Learning Ltd", HISTORY, certificate_number="ACT1000", as_of=may)
    assert then["verdict"] == "certified"
    assert then["match"]["confirmed_by"]


def test_a_removed_organisations_number_is_unknown_now_and_its_own_before() -> None:
    now = check(certificate_number="ACT3000", snap=HISTORY)
    assert codes(now) == ["certificate_number_unknown"]
    before = check(certificate_number="ACT3000", snap=HISTORY, as_of=dt.date(2026, 5, 1))
    assert (before["verdict"], before["organisation"]["id"]) == ("certified", 3)
    after = check(certificate_number="ACT3000", snap=HISTORY, as_of=dt.date(2026, 7, 1))
    assert (after["verdict"], codes(after)) == ("not_listed", ["not_listed_on_date"])


def test_deciding_many_with_identifiers_matches_deciding_one_at_a_time() -> None:
    queries = [
        CheckQuery(None, certificate_number="ACT2421"),
        CheckQuery("Harbour Learning Ltd", certificate_number="ACT5550"),
        CheckQuery("Mendip Care Group", certificate_number="ACT2421"),
        CheckQuery(None, website="riverside.co.uk"),
        CheckQuery("Harbour Learning Ltd"),
        CheckQuery(None, certificate_number="ACT9999"),
    ]
    together = decide_many(REGISTER, queries, CLOCK)
    one_by_one = [decide(REGISTER, q, CLOCK) for q in queries]
    assert [r.model_dump() for r in together] == [r.model_dump() for r in one_by_one]


def test_every_warning_of_a_review_is_in_its_explanation() -> None:
    for kw in (
        {"name": "Harbour Learning Ltd", "certificate_number": "ACT5550"},
        {"name": "Harbour Learning Ltd", "certificate_number": "ACT9999"},
        {"name": "Nobody Ltd", "website": "harbour.org.uk"},
        {"name": None, "website": "riverside.co.uk"},
        {"name": None, "certificate_number": "ACT2421", "website": "riverside.co.uk"},
    ):
        result = check(**kw)
        assert result["verdict"] == "needs_review", kw
        for warning in result["warnings"]:
            assert warning["message"] in result["explanation"], kw


def test_warnings_from_reading_a_written_name_reach_the_verdict_and_its_explanation() -> None:
    disagree = check("Harbour Learning Ltd t/a Riverside Training Ltd")
    assert (disagree["verdict"], codes(disagree)) == ("needs_review", ["names_disagree"])
    assert disagree["warnings"][0]["message"] in disagree["explanation"]
    shared = check("St Mary's School (Leeds)")
    assert (shared["verdict"], codes(shared)) == ("needs_review", ["common_name_qualified"])
    assert shared["meets_cqc_expectation"] is None
    both = check("Harbour Learning Ltd (North West)", certificate_number="ACT2421")
    assert (both["verdict"], both["organisation"]["id"]) == ("certified", 1)
    assert "read as a qualifier" in both["match"]["reason"]
