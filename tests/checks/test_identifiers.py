"""Certificate numbers and websites: which spellings are the same identifier, which never are,
and what input is refused (app/checks/identifiers.py, app/checks/identifier_index.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.checks.identifier_index import IdentifierChange, IdentifierIndex
from app.checks.identifiers import (
    IdentifierError,
    normalise_certificate_number,
    normalise_website,
    registered_website_key,
)
from app.checks.inputs import validate_query
from app.errors import InvalidInput

TODAY = dt.date(2026, 11, 25)


@pytest.mark.parametrize(
    "written",
    ["ACT2421", "act2421", "act 2421", "ACT-2421", "ACT – 2421", " ACT 24 21 ", "ＡＣＴ２４２１"],
)
def test_certificate_numbers_compare_without_case_spaces_or_hyphens(written: str) -> None:
    assert normalise_certificate_number(written) == "ACT2421"


@pytest.mark.parametrize(
    "written", ["ACT2421!", "<script>", "ACT\x002421", "ACTß21", "x" * 51, "-", "ACT 2421 ✓"]
)
def test_a_certificate_number_that_cannot_be_one_is_refused(written: str) -> None:
    with pytest.raises(IdentifierError):
        normalise_certificate_number(written)


@pytest.mark.parametrize(
    "written",
    [
        "maybo.co.uk",
        "www.maybo.co.uk",
        "MAYBO.CO.UK",
        "https://maybo.co.uk",
        "http://www.maybo.co.uk/",
        "https://www.maybo.co.uk:443/courses/?utm=x#top",
        "maybo.co.uk:8080",
        "maybo.co.uk.",
        "//maybo.co.uk/contact",
        "HTTPS://WWW.MAYBO.CO.UK/Contact-Us/",
        "ｍａｙｂｏ．ｃｏ．ｕｋ",
    ],
)
def test_websites_compare_by_host_whatever_else_is_written(written: str) -> None:
    assert normalise_website(written) == "maybo.co.uk"


def test_an_internationalised_host_compares_in_its_ascii_form() -> None:
    assert normalise_website("https://bücher.example.org.uk/") == "xn--bcher-kva.example.org.uk"
    assert normalise_website("xn--bcher-kva.example.org.uk") == "xn--bcher-kva.example.org.uk"
    assert normalise_website("BÜCHER.example.org.uk") == "xn--bcher-kva.example.org.uk"
    # A Cyrillic "а" in place of the Latin one is another host, visibly so.
    assert normalise_website("mаybo.co.uk") != "maybo.co.uk"
    assert normalise_website("mаybo.co.uk").startswith("xn--")


@pytest.mark.parametrize(
    "written",
    [
        "javascript:alert(1)",
        "ftp://maybo.co.uk",
        "mailto:info@maybo.co.uk",
        "info@maybo.co.uk",
        "https://user:secret@maybo.co.uk/",
        "127.0.0.1",
        "http://[::1]/",
        "localhost",
        "co.uk",
        "https://",
        "maybo..co.uk",
        "maybo.co.uk:port",
        "under_score.co.uk",
        "maybo co uk",
        "maybo.co.uk\\@evil.example",
        "maybo.co.uk\x00",
        "a" * 64 + ".co.uk",
        "https://" + "a" * 2000 + ".co.uk",
    ],
)
def test_a_website_that_cannot_be_one_is_refused(written: str) -> None:
    for _ in range(2):  # hosts are remembered once normalised; a refusal is not
        with pytest.raises(IdentifierError):
            normalise_website(written)


def test_on_a_shared_platform_the_path_names_the_organisation() -> None:
    assert (
        normalise_website("https://www.facebook.com/MayboUK/about") == "facebook.com/maybouk/about"
    )
    assert normalise_website("m.facebook.com/MayboUK") == "facebook.com/maybouk"
    assert registered_website_key("https://www.facebook.com/") is None  # names no one
    assert registered_website_key("not a website") is None


def index(*websites: tuple[int, str]) -> IdentifierIndex:
    return IdentifierIndex.build((org_id, None, site) for org_id, site in websites)


MAYBO = index(
    (1, "https://www.maybo.co.uk/"),
    (2, "https://www.facebook.com/SteadyUK"),
    (3, "https://care.riverside.org.uk/"),
)


def holder(website: str, idx: IdentifierIndex = MAYBO) -> list[int]:
    return [h.organisation_id for h in idx.website_holdings(normalise_website(website), None)]


@pytest.mark.parametrize(
    ("website", "holders"),
    [
        ("maybo.co.uk", [1]),
        ("training.maybo.co.uk", [1]),  # a subdomain is the registered host's
        ("a.b.maybo.co.uk", [1]),
        ("riverside.org.uk", []),  # a parent of a registered host is not it
        ("homes.riverside.org.uk", []),  # nor is a sibling
        ("care.riverside.org.uk", [3]),
        ("maybo.com", []),  # another top-level domain
        ("maybo-uk.co.uk", []),  # a lookalike
        ("maybos.co.uk", []),
        ("maybo.co.uk.evil.example", []),  # the registered host as a prefix
        ("evilmaybo.co.uk", []),
        ("facebook.com/steadyuk/posts", [2]),
        ("facebook.com/other", []),
        ("facebook.com", []),
    ],
)
def test_a_website_belongs_to_a_registered_host_or_its_subdomain_only(
    website: str, holders: list[int]
) -> None:
    assert holder(website) == holders


def test_the_most_specific_registered_host_wins() -> None:
    idx = index((1, "maybo.co.uk"), (2, "training.maybo.co.uk"))
    assert holder("x.training.maybo.co.uk", idx) == [2]
    assert holder("hr.maybo.co.uk", idx) == [1]


def test_a_public_suffix_is_never_a_host_anyone_holds() -> None:
    idx = index((1, "https://www.nhs.uk/"), (2, "https://kent.nhs.uk/"))
    assert holder("severn.nhs.uk", idx) == []
    assert holder("www.kent.nhs.uk", idx) == [2]


def test_identifier_history_answers_who_held_it_on_a_date() -> None:
    changed = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    idx = IdentifierIndex.build(
        [(1, "ACT2000", None), (2, "ACT1000", None)],
        [
            IdentifierChange(1, changed, "certificate_number", "ACT1000", "ACT2000"),
            IdentifierChange(2, changed, "certificate_number", None, "ACT1000"),
        ],
    )
    before, after = changed - dt.timedelta(days=1), changed + dt.timedelta(days=1)
    assert [h.organisation_id for h in idx.certificate_holdings("ACT1000", before)] == [1]
    assert [h.organisation_id for h in idx.certificate_holdings("ACT1000", after)] == [2]
    assert [h.organisation_id for h in idx.certificate_holdings("ACT1000", None)] == [2]
    assert [h.organisation_id for h in idx.certificate_holdings("ACT2000", before)] == []


def test_a_query_needs_a_name_or_an_identifier() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_query(None, None, None, TODAY)
    assert caught.value.code == "name_empty"
    query = validate_query("  ", None, None, TODAY, certificate_number="act-2421")
    assert (query.name, query.certificate_number, query.website) == (None, "ACT2421", None)
    query = validate_query(None, None, None, TODAY, website="https://www.Maybo.co.uk/x")
    assert query.website == "maybo.co.uk"
    assert validate_query("Maybo", None, None, TODAY, "", " ").certificate_number is None


@pytest.mark.parametrize(
    ("certificate", "website", "code"),
    [
        ("ACT/24<21>", None, "certificate_number_invalid"),
        ("A" * 60, None, "certificate_number_invalid"),
        (None, "javascript:alert(1)", "website_invalid"),
        (None, "http://127.0.0.1/", "website_invalid"),
    ],
)
def test_bad_identifiers_are_refused_with_their_own_code(
    certificate: str | None, website: str | None, code: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_query("Maybo", None, None, TODAY, certificate, website)
    assert (caught.value.code, caught.value.status) == (code, 422)


def test_an_index_build_after_a_sync_reuses_the_normalised_websites() -> None:
    registered_website_key.cache_clear()
    index(*((i, f"https://www.org{i}.example.org.uk/") for i in range(50)))
    index(*((i, f"https://www.org{i}.example.org.uk/") for i in range(50)))
    info = registered_website_key.cache_info()
    assert (info.misses, info.hits) == (50, 50)
