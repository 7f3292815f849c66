"""Entry rules: bounded plain text, http(s) websites; what breaks them is said, never served."""

from __future__ import annotations

import pytest

from scrapers.entry_rules import is_web_address, text_problem, vet_rows
from scrapers.rows import ListingRow, ListingStatus

PAGE = "https://register.example/certified-organisations/"


def row(listed: str = "Acme Ltd", **fields: object) -> ListingRow:
    values: dict[str, object] = {
        "status": ListingStatus.CERTIFIED,
        "listed_name": listed,
        "name": listed,
        "source_url": PAGE,
    }
    return ListingRow(**{**values, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "website",
    [
        "https://www.acme.example/",
        "http://acme.example/training?x=1#top",
        "HTTPS://ACME.EXAMPLE",
        "https://127.0.0.1:8443/",
        "www.acme.example",  # written on the page without a link
        "acme.example/training",
    ],
)
def test_http_and_bare_web_addresses_are_kept(website: str) -> None:
    assert is_web_address(website)


@pytest.mark.parametrize(
    "website",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox(1)",
        "ftp://acme.example/",
        "mailto:info@acme.example",
        "https://",
        "https:///path-only",
        'https://acme.example/" onmouseover="alert(1)',
        "https://acme.example/<script>",
        "https://acme.example:99999/",
        "https://acme.example/" + "a" * 1000,
        "see our website",
        "//acme.example/",
        "[31mhttps://acme.example/",
    ],
)
def test_anything_else_is_not_a_web_address(website: str) -> None:
    assert not is_web_address(website)


def test_a_website_that_is_not_a_web_address_is_dropped_and_the_entry_kept_with_a_warning() -> None:
    vetted = vet_rows([row(website="javascript:alert(1)"), row("Bravo Ltd", website="b.example")])

    assert [(r.name, r.website) for r in vetted.rows] == [
        ("Acme Ltd", None),
        ("Bravo Ltd", "b.example"),
    ]
    assert vetted.problems == []
    assert vetted.warnings == [
        f"{PAGE}: 'Acme Ltd': website 'javascript:alert(1)' dropped: not an http(s) address"
    ]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"name": "A" * 301}, "name is 301 characters long (at most 300)"),
        ({"listed_name": "A" * 501}, "listed name is 501 characters long (at most 500)"),
        ({"trading_names": ("<b>Calm</b>",)}, "trading name holds HTML markup"),
        ({"former_names": ("Old\x1b[0m",)}, "former name holds a terminal escape sequence"),
        ({"certificate_number": "ACT" + "1" * 60}, "certificate number is 63 characters long"),
        ({"certificate_number": "ACT\x00123"}, "certificate number holds control characters"),
        ({"certificate_number": "ACT-12/3"}, None),
        ({"certificate_number": "ACT'12"}, "holds characters other than letters, digits"),
        ({"parent_name": "Parent [0;1;31mLtd"}, "certified training provider holds a terminal"),
        ({"note": "n" * 1001}, "note is 1,001 characters long (at most 1,000)"),
        ({"settings": ("Health", "x" * 101)}, "setting is 101 characters long"),
        ({"regions": ("<img src=x>",)}, "region holds HTML markup"),
        ({"extra": (("Label", "<iframe>"),)}, "detail 'Label' holds HTML markup"),
        ({"extra": (("L" * 101, "v"),)}, "detail label is 101 characters long"),
    ],
)
def test_an_entry_whose_text_breaks_a_rule_is_left_out_with_the_reason(
    fields: dict[str, object], problem: str | None
) -> None:
    vetted = vet_rows([row(**fields), row("Bravo Ltd")])

    if problem is None:
        assert (len(vetted.rows), vetted.problems) == (2, [])
        return
    assert [r.name for r in vetted.rows] == ["Bravo Ltd"]
    [reported] = vetted.problems
    assert reported.startswith(f"{PAGE}: 'A")
    assert problem in reported


def test_a_long_value_is_quoted_short_in_the_reason() -> None:
    [problem] = vet_rows([row("<script>" + "x" * 4000)]).problems

    assert problem == (
        f"{PAGE}: '<script>{'x' * 52}...': listed name is 4,008 characters long (at most 500), "
        "name is 4,008 characters long (at most 300)"
    )


@pytest.mark.parametrize(
    "text",
    [
        "St Mary's School [Camden]",
        "A&B Care (formerly A [and] B)",
        "Room 2 - 3m high",
        "Price < 5 and > 3",
        "Ünïcode Care Ltd — Team",
    ],
)
def test_ordinary_names_pass(text: str) -> None:
    assert text_problem(text, 300) is None
