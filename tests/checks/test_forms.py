"""Names as forms write them (app/checks/forms.py, app/checks/written.py): each form matches
its organisation, and the forms that may mean another body never do."""

from __future__ import annotations

import pytest

from app.checks.forms import is_qualifier, read_written_name
from app.checks.matching import IndexEntry, IndexName, MatchIndex, MatchResult
from app.checks.normalise import normalise_name


def index(*names: str | tuple[str, ...]) -> MatchIndex:
    entries = []
    for i, item in enumerate(names, start=1):
        name, *aliases = (item,) if isinstance(item, str) else item
        known = (IndexName(name, "name"), *(IndexName(a, "trading") for a in aliases))
        entries.append(IndexEntry(i, name, "certified", known))
    return MatchIndex.build(entries)


REGISTER = index(
    "Beacon-Path Consultancy",  # 1
    ("Evolve & Thrive Training Ltd", "CalmPath Training"),  # 2
    "Wessex Behaviour Support Services",  # 3
    "St Mary's School",  # 4
    "Kent County Council",  # 5
    "Severn NHS Foundation Trust",  # 6
    "Safer Voices Training Ltd",  # 7
    "Harbour Learning Ltd",  # 8
    "Harbour Learning Scotland Ltd",  # 9
    "Open Minds Care Limited",  # 10
    "Riverside Centre for Organisation Development",  # 11
)


def match(query: str) -> MatchResult:
    return REGISTER.match(query)


def matched(query: str) -> int | None:
    result = match(query)
    return result.organisation_id if result.outcome == "matched" else None


@pytest.mark.parametrize(
    ("query", "org"),
    [
        ("Beacon-Path Consultancy (North East)", 1),
        ("Beacon-Path Consultancy (Yorkshire and the Humber)", 1),
        ("Beacon-Path Consultancy (Leeds)", 1),
        ("Beacon-Path Consultancy - Leeds office", 1),
        ("Beacon-Path Consultancy – Dundee Office", 1),
        ("Beacon-Path Consultancy - Stoke-on-Trent", 1),
        ("Severn NHS Foundation Trust – Training Team", 6),
        ("Severn NHS Foundation Trust – Learning and Development", 6),
        ("Severn NHS FT – Reducing Restrictive Practice Team", 6),
        ("Safer Voices Training Ltd - Head Office", 7),
        ("Safer Voices Training Ltd (Company No. 01234567)", 7),
        ("Safer Voices Training Ltd, company number 01234567", 7),
        ("Safer Voices Training Ltd [Reg. 01234567]", 7),
        ("Safer Voices Training Ltd (SC123456)", 7),
        ("Safer Voices Training Ltd, Registered Charity No. 1234567", 7),
        ("Safer Voices Training Ltd (London) - Training Department", 7),
        ("Safer Voices Training Ltd.", 7),
        ("Safer Voices Trainnig Ltd (North West)", 7),  # a typo and a qualifier
    ],
)
def test_qualifiers_after_a_name_are_read_off(query: str, org: int) -> None:
    assert matched(query) == org, match(query).reason


@pytest.mark.parametrize(
    ("query", "org"),
    [
        ("Evolve & Thrive Training Ltd t/a CalmPath Training", 2),
        ("Evolve and Thrive Training Limited T/A CalmPath Training", 2),
        ("Evolve & Thrive Training Ltd trading as CalmPath Training", 2),
        ("Evolve & Thrive Training Ltd (t/a CalmPath Training)", 2),
        ("Evolve & Thrive Training Ltd t/a Some Unlisted Name", 2),  # the legal name is listed
        ("Some Unlisted Company Ltd t/a CalmPath Training", 2),  # the trading name is listed
        ("Evolve & Thrive Training Ltd (formerly Old Name Ltd)", 2),
    ],
)
def test_either_of_two_joined_names_may_be_the_listed_one(query: str, org: int) -> None:
    assert matched(query) == org, match(query).reason


def test_two_joined_names_of_different_organisations_need_review() -> None:
    result = match("Safer Voices Training Ltd t/a CalmPath Training")
    assert result.outcome == "needs_review"
    assert [code for code, _ in result.warnings] == ["names_disagree"]
    assert {c.organisation_id for c in result.candidates} >= {2, 7}


@pytest.mark.parametrize(
    ("query", "org"),
    [
        ("Wessex Behavior Support Services", 3),
        ("Riverside Center for Organization Development", 11),
        ("Wessex Behavioral Support Services", None),  # another word, not a spelling
    ],
)
def test_us_spellings_are_the_same_words(query: str, org: int | None) -> None:
    assert matched(query) == org


@pytest.mark.parametrize(
    "query",
    [
        "St Mary's School (Leeds)",
        "St Mary's School - Camden",
        "St Mary's School (Company No. 01234567)",
        "Kent County Council - Maidstone office",
        "Kent County Council (South East)",
    ],
)
def test_a_qualifier_on_a_name_many_bodies_share_needs_review(query: str) -> None:
    result = match(query)
    assert result.outcome == "needs_review"
    assert [code for code, _ in result.warnings] == ["common_name_qualified"]


def test_the_shared_name_itself_still_matches() -> None:
    assert matched("St Marys School") == 4
    assert matched("KENT COUNTY COUNCIL") == 5


def test_a_qualifier_that_another_organisations_name_carries_needs_review() -> None:
    # "Harbour Learning Scotland Ltd" is listed too: the qualifier may name it.
    for query in ("Harbour Learning Ltd (Scotland)", "Harbour Learning Ltd - Scotland office"):
        result = match(query)
        assert result.outcome == "needs_review"
        assert [code for code, _ in result.warnings] == ["qualifier_names_another"]
        assert {c.organisation_id for c in result.candidates} == {8, 9}
    assert matched("Harbour Learning Ltd (North West)") == 8


@pytest.mark.parametrize(
    "query",
    [
        "Safer Voices Training Holdings Group plc",
        "Safer Voices Training Holdings Ltd",
        "Safer Voices Training (Holdings) Ltd",
        "Safer Voices Training Ltd (Holdings)",
        "Safer Voices Training Ltd - Care Services Ltd",
        "Safer Voices Training (Scotland) Ltd",
        "Safer Voices Training Ltd (in liquidation)",
        "Safer Voices Training International",
        "Open Minds Care Limited t/a Safer Voices Training Ltd (Holdings)",
    ],
)
def test_forms_that_may_name_another_body_are_never_matched(query: str) -> None:
    result = match(query)
    if result.outcome == "matched":
        # Only the listed legal name of a t/a pair may match, never the holding company.
        assert "Holdings" in query
        assert result.organisation_id == 10
    else:
        assert result.outcome in {"needs_review", "not_listed"}


@pytest.mark.parametrize(
    ("text", "qualifier"),
    [
        ("North East", True),
        ("Leeds", True),
        ("King's Lynn", True),
        ("Training Team", True),
        ("Head Office", True),
        ("Holdings", False),
        ("UK Holdings", False),
        ("Care Services Ltd", False),
        ("in liquidation", False),
        ("City of London", False),
        ("The Academy Trust", False),
        ("Riverside Positive Behaviour Services Partnership", False),
    ],
)
def test_what_counts_as_a_qualifier(text: str, qualifier: bool) -> None:
    assert is_qualifier(text) is qualifier


def test_a_plain_name_has_nothing_to_read_apart() -> None:
    assert read_written_name("Safer Voices Training Ltd") is None
    assert read_written_name("St Mary's School, Camden") is None  # a comma is part of a name
    assert read_written_name("(Leeds)") is None  # nothing before the qualifier


def test_a_name_listed_with_its_qualifier_matches_exactly_first() -> None:
    listed = index("Trent Training (North)")
    result = listed.match("Trent Training (North)")
    assert (result.outcome, result.method) == ("matched", "exact")


def test_us_spelling_is_folded_in_normalisation() -> None:
    assert normalise_name("Behavior Center Organization Program") == normalise_name(
        "Behaviour Centre Organisation Programme"
    )


def test_when_both_joined_names_are_one_organisations_the_first_written_is_reported() -> None:
    result = match("Evolve & Thrive Training Ltd trading as CalmPath Training")
    assert (result.organisation_id, result.method) == (2, "exact")
    assert result.matched_name == "Evolve & Thrive Training Ltd"
    reversed_ = match("CalmPath Training t/a Evolve & Thrive Training Ltd")
    assert (reversed_.organisation_id, reversed_.method) == (2, "alias")
