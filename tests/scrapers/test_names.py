from __future__ import annotations

import pytest

from scrapers.names import clean_text, split_listed_name


def test_trading_name_is_split_off_and_kept_as_alias() -> None:
    split = split_listed_name("Harbour Learning Ltd t/a SafeHands Training")
    assert split.name == "Harbour Learning Ltd"
    assert split.trading_names == ("SafeHands Training",)
    assert split.former_names == ()


@pytest.mark.parametrize("marker", ["t/a", "T/A", "trading as", "Trading As"])
def test_trading_name_marker_is_case_insensitive(marker: str) -> None:
    split = split_listed_name(f"Harbour Learning Ltd {marker} SafeHands Training")
    assert split.name == "Harbour Learning Ltd"
    assert split.trading_names == ("SafeHands Training",)


def test_several_trading_names_are_all_kept_in_order() -> None:
    split = split_listed_name("Acme Ltd t/a Calm Path t/a Safe Path")
    assert split.name == "Acme Ltd"
    assert split.trading_names == ("Calm Path", "Safe Path")


def test_former_name_in_parentheses_becomes_former_name() -> None:
    split = split_listed_name("Pennine Minds Ltd (formerly Calder Steps Ltd)")
    assert split.name == "Pennine Minds Ltd"
    assert split.former_names == ("Calder Steps Ltd",)
    assert split.trading_names == ()


def test_former_and_trading_names_together() -> None:
    split = split_listed_name("Acme Ltd t/a Calm Path (formerly  Old Acme Ltd)")
    assert split.name == "Acme Ltd"
    assert split.trading_names == ("Calm Path",)
    assert split.former_names == ("Old Acme Ltd",)


def test_formerly_known_as_is_understood() -> None:
    assert split_listed_name("New Ltd (Formerly known as Old Ltd)").former_names == ("Old Ltd",)


def test_parentheses_that_are_not_a_former_name_stay_in_the_name() -> None:
    split = split_listed_name("St Mary's (Camden) Ltd")
    assert split.name == "St Mary's (Camden) Ltd"
    assert split.former_names == ()


@pytest.mark.parametrize("dash", ["–", "—", "-"])
def test_nhs_team_suffix_is_removed_so_the_trust_is_the_organisation(dash: str) -> None:
    split = split_listed_name(
        f"Mersey NHS Foundation Trust {dash} Reducing Restrictive Practice Team"
    )
    assert split.name == "Mersey NHS Foundation Trust"
    assert split.team == "Reducing Restrictive Practice Team"


def test_nhs_team_suffix_with_non_breaking_spaces_around_the_dash() -> None:
    split = split_listed_name("Kent NHS Trust\u00a0–\u00a0Positive Behaviour Team")
    assert split.name == "Kent NHS Trust"


def test_dash_in_a_name_that_is_not_an_nhs_trust_is_kept() -> None:
    assert split_listed_name("Calm – Steps Ltd").name == "Calm – Steps Ltd"


def test_hyphenated_nhs_trust_name_without_spaced_dash_is_kept() -> None:
    name = "Tees, Esk and Wear Valleys NHS Foundation Trust"
    assert split_listed_name(name).name == name


def test_nbsp_and_runs_of_whitespace_collapse_to_single_spaces() -> None:
    assert clean_text("  Safe\u00a0Hands \n\t Training\u202fLtd  ") == "Safe Hands Training Ltd"


def test_curly_apostrophes_and_non_breaking_hyphens_are_preserved() -> None:
    assert clean_text("St Anne’s School") == "St Anne’s School"
    assert clean_text("Beacon\u2011Path Consultancy") == "Beacon\u2011Path Consultancy"


def test_nul_and_control_characters_are_removed() -> None:
    assert clean_text("Ac\x00me\x07 Training\x1b Ltd\x85") == "Acme Training Ltd"


def test_invisible_format_characters_are_removed() -> None:
    assert clean_text("Acme\u200b Training\ufeff Ltd\u00ad") == "Acme Training Ltd"


def test_listed_name_is_cleaned_before_splitting() -> None:
    split = split_listed_name("Acme\x00 Ltd\u00a0t/a\u00a0Calm\u00a0Path")
    assert split.name == "Acme Ltd"
    assert split.trading_names == ("Calm Path",)


def test_plain_name_is_unchanged() -> None:
    split = split_listed_name("Safe-Hands® Training Ltd")
    assert (split.name, split.trading_names, split.former_names, split.team) == (
        "Safe-Hands® Training Ltd",
        (),
        (),
        None,
    )
