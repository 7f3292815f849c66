"""Each normalisation rule: what it folds together, and what it must keep apart."""

from __future__ import annotations

import pytest

from app.checks.normalise import (
    compact_key,
    fold_text,
    name_tokens,
    normalise_name,
    typo_shaped,
)


def same(a: str, b: str) -> bool:
    return normalise_name(a) == normalise_name(b)


def test_case_is_folded() -> None:
    assert same("STEADY UK", "steady uk")
    assert normalise_name("Straße Care") == "strasse care"  # casefold, not lower


def test_compatibility_forms_and_accents_fold_to_ascii() -> None:
    assert normalise_name("Ｃａｌｍ Ｃａｒｅ") == "calm care"  # full-width letters (NFKC)
    assert normalise_name("Café Société Ltd") == "cafe societe"


def test_apostrophes_of_every_style_are_removed() -> None:
    assert normalise_name("St Mary's School") == "st marys school"
    assert same("St Mary’s School", "St Marys School")
    assert same("O`Connell Associates", "OConnell Associates")


def test_ampersand_plus_and_the_word_and_are_one_form() -> None:
    assert normalise_name("Evolve & Thrive") == "evolve and thrive"
    assert same("Evolve + Thrive", "Evolve and Thrive")
    assert same("Evolve&Thrive", "Evolve and Thrive")


def test_leading_plus_or_ampersand_is_decoration() -> None:
    assert normalise_name("+Positive Minds Training") == "positive minds training"


def test_registered_and_trade_marks_are_removed_without_leaving_letters() -> None:
    assert normalise_name("Safe-Hands® Training Ltd") == "safe hands training"
    assert normalise_name("CalmWay™ Training") == "calmway training"  # not "calmwaytm"
    assert normalise_name("Kestrel© Care") == "kestrel care"


def test_unicode_hyphens_dashes_and_nbsp_become_spaces() -> None:
    assert normalise_name("Beacon\u2011Path\u00a0Consultancy") == "beacon path consultancy"
    assert same("Severn NHS Trust – Team", "Severn NHS Trust - Team")


def test_punctuation_becomes_space_and_spaces_collapse() -> None:
    assert normalise_name("  St Oswald's  (Camden),  School. ") == "st oswalds camden school"


def test_leading_the_is_dropped_but_an_inner_the_is_kept() -> None:
    assert same("The Safer Minds Partnership", "Safer Minds Partnership")
    assert normalise_name("Friends of the Earth") == "friends of the earth"


@pytest.mark.parametrize(
    "suffix",
    [
        "Ltd",
        "Ltd.",
        "Limited",
        "PLC",
        "LLP",
        "LP",
        "CIC",
        "CIO",
        "Community Interest Company",
        "Limited Liability Partnership",
        "Cyf",
    ],
)
def test_legal_suffixes_are_dropped_at_the_end(suffix: str) -> None:
    assert normalise_name(f"Clear Steps Training {suffix}") == "clear steps training"


def test_stacked_legal_suffixes_are_all_dropped() -> None:
    assert same("O'Connell & Rees Associates LLP Ltd", "O'Connell & Rees Associates")


def test_legal_words_inside_a_name_are_kept() -> None:
    assert normalise_name("Limited Edition Training Ltd") == "limited edition training"


def test_and_company_is_dropped_and_co_means_company() -> None:
    assert same("Smith & Co", "Smith")
    assert same("Smith and Company Ltd", "Smith")
    assert same("Acme Co Ltd", "Acme Company Limited")
    assert normalise_name("The Training Company") == "training company"  # kept: not "& Co"


def test_uk_is_part_of_the_name_not_a_legal_form() -> None:
    assert normalise_name("Age UK") == "age uk"  # cleanco would give "age"


def test_nhs_ft_equals_nhs_foundation_trust_anywhere_in_the_name() -> None:
    assert same("Severn NHS FT", "Severn NHS Foundation Trust")
    assert same("Severn NHS F.T.", "Severn NHS Foundation Trust")
    assert same("Severn NHS FT – RRP Team", "Severn NHS Foundation Trust - RRP Team")


def test_nhs_trust_is_not_folded_into_nhs_foundation_trust() -> None:
    assert not same("Severn NHS Trust", "Severn NHS Foundation Trust")


def test_saint_spelt_out_equals_st() -> None:
    assert same("Saint Bede's School", "St Bede's School")


def test_dotted_acronyms_are_joined() -> None:
    assert same("B.I.L.D. Training", "BILD Training")


def test_a_name_made_only_of_a_legal_form_normalises_to_empty() -> None:
    assert normalise_name("Ltd") == ""
    assert normalise_name("The Limited") == ""
    assert normalise_name("®") == ""
    assert fold_text("Ltd") == "ltd"  # the folded text keeps it, for the index's own key


def test_join_compounds_keeps_hyphenated_words_whole() -> None:
    assert normalise_name("Safe-Hands® Training", join_compounds=True) == "safehands training"
    assert normalise_name("Beacon\u2011Path", join_compounds=True) == "beaconpath"


def test_tokens_and_compact_key() -> None:
    assert name_tokens("The Kind & Beacon Training Ltd") == ("kind", "and", "beacon", "training")
    assert compact_key(normalise_name("Beacon-Path Consultancy")) == "beaconpathconsultancy"


def test_odd_input_never_raises() -> None:
    for text in ["", "   ", "\x00\x07", "🙂 Care", "x" * 5000, "&&&", "---", "ﬁne"]:
        assert isinstance(normalise_name(text), str)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("consutlancy", "consultancy"),  # adjacent swap
        ("harbuor", "harbour"),
        ("traiining", "training"),  # doubled letter
        ("asociates", "associates"),  # undoubled letter
        ("consultency", "consultancy"),  # one substitution in a very long word
        ("crae4kids", "care4kids"),  # a slip in the letters of a word with a number
    ],
)
def test_typo_shaped_accepts_one_slip_in_a_long_word(typed: str, meant: str) -> None:
    assert typo_shaped(typed, meant)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("marks", "marys"),  # short words are names, not slips
        ("kent", "trent"),
        ("hadns", "hands"),  # a swap, but in a word too short to be sure
        ("jersey", "mersey"),  # substitution in a medium word
        ("patrices", "patricks"),
        ("consultnacyy", "consultancy"),  # two slips
        ("unit12", "unit21"),  # digits identify
        ("dorchester", "porchester"),  # a changed first letter is another name
    ],
)
def test_typo_shaped_rejects_differences_that_can_be_another_name(typed: str, meant: str) -> None:
    assert not typo_shaped(typed, meant)
