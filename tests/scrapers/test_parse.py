from __future__ import annotations

import datetime as dt

import pytest

from scrapers.layout import ListingLayout
from scrapers.parse import (
    PageError,
    parse_affiliates_page,
    parse_certified_page,
    parse_working_towards_page,
)
from scrapers.rows import ListingStatus

URL = "https://register.example/certified-organisations/"


def page(main: str) -> bytes:
    """A whole UTF-8 page around some main content."""
    head = '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
    return f"{head}<body><main>{main}</main></body></html>".encode()


ENTRY = """
<div class="wrap"><div class="inner">
<article class="directory-entry">
  <h2 class="directory-entry__name"><a href="/x/">  O&#39;Connell&nbsp;&amp;
     Rees \u00a0Associates LLP t/a Calm&nbsp;Path </a></h2>
  <dl class="directory-entry__details">
    <dt>REGIONS:</dt><dd>London ,  South East,</dd>
    <div><dt>Website</dt>
      <dd><a href="https://oconnell.example/" rel="nofollow">oconnell.example</a></dd></div>
    <dt>Accrediting body</dt><dd>Bild&nbsp;ACT</dd>
    <dt>date certified:</dt><dd>8 Mar 2022</dd>
    <dt>Certificate valid until</dt><dd>07/01/2027</dd>
    <dt>Training delivered to</dt><dd>Health;Social care ; Education</dd>
    <dt>Certificate Number</dt><dd> ACT3580 </dd>
  </dl>
</article></div></div>
"""


def test_certified_entry_fields_are_read_whatever_the_label_order_case_and_wrapping() -> None:
    parsed = parse_certified_page(page(f'<div class="directory">{ENTRY}</div>'), URL)
    assert parsed.problems == []
    [row] = parsed.rows
    assert row.status is ListingStatus.CERTIFIED
    assert row.listed_name == "O'Connell & Rees Associates LLP t/a Calm Path"
    assert row.name == "O'Connell & Rees Associates LLP"
    assert row.trading_names == ("Calm Path",)
    assert row.certificate_number == "ACT3580"
    assert row.certified_on == dt.date(2022, 3, 8)
    assert row.valid_until == dt.date(2027, 1, 7)
    assert row.settings == ("Health", "Social care", "Education")
    assert row.regions == ("London", "South East")
    assert row.website == "https://oconnell.example/"
    assert row.extra == (("Accrediting body", "Bild ACT"),)
    assert row.source_url == URL


def test_certified_entry_with_no_details_gives_a_row_with_empty_fields() -> None:
    html = '<article class="directory-entry"><h3 class="directory-entry__name">Acme</h3></article>'
    [row] = parse_certified_page(page(html), URL).rows
    assert (row.name, row.certified_on, row.settings, row.website) == ("Acme", None, (), None)


def test_certified_entry_without_a_name_is_skipped_with_a_problem() -> None:
    html = (
        '<article class="directory-entry"><h3 class="directory-entry__name"> </h3></article>'
        '<article class="directory-entry"><h3 class="directory-entry__name">Acme</h3></article>'
    )
    parsed = parse_certified_page(page(html), URL)
    assert [row.name for row in parsed.rows] == ["Acme"]
    assert len(parsed.problems) == 1
    assert "#1 has no name" in parsed.problems[0]


def test_unparseable_date_is_a_problem_and_the_rest_of_the_entry_is_kept() -> None:
    html = """<article class="directory-entry"><h3 class="directory-entry__name">Acme</h3>
      <dl class="directory-entry__details"><dt>Date certified</dt><dd>sometime in 2022</dd>
      <dt>Certificate number</dt><dd>ACT1</dd></dl></article>"""
    parsed = parse_certified_page(page(html), URL)
    [row] = parsed.rows
    assert (row.certified_on, row.certificate_number) == (None, "ACT1")
    assert parsed.problems == [f"{URL}: 'Acme': cannot read certified_on 'sometime in 2022'"]


def test_website_without_a_link_keeps_the_written_text() -> None:
    html = """<article class="directory-entry"><h3 class="directory-entry__name">Acme</h3>
      <dl class="directory-entry__details">
      <dt>Website</dt><dd>www.acme.example</dd></dl></article>"""
    [row] = parse_certified_page(page(html), URL).rows
    assert row.website == "www.acme.example"


def test_next_link_is_resolved_against_the_page_url() -> None:
    nav = '<nav class="pagination"><a class="next page-numbers" href="page/2/#top">Next</a></nav>'
    parsed = parse_certified_page(page(ENTRY + nav), URL)
    assert parsed.next_url == URL + "page/2/"


def test_last_page_has_no_next_url() -> None:
    nav = '<nav class="pagination"><a class="prev" href="/certified-organisations/">Prev</a></nav>'
    assert parse_certified_page(page(ENTRY + nav), URL).next_url is None


def test_page_whose_markup_changed_gives_no_rows_and_says_why() -> None:
    html = '<div class="org"><h3>Acme</h3></div>'
    parsed = parse_certified_page(page(html), URL)
    assert parsed.rows == []
    assert "no entries match 'article.directory-entry'" in parsed.problems[0]


def test_a_changed_selector_in_the_layout_adapts_the_parser() -> None:
    html = '<div class="org"><h3 class="org-name">Acme</h3></div>'
    layout = ListingLayout(entry="div.org", entry_name=".org-name")
    assert [r.name for r in parse_certified_page(page(html), URL, layout=layout).rows] == ["Acme"]


def test_nul_and_control_characters_never_reach_a_row() -> None:
    html = (
        '<article class="directory-entry"><h3 class="directory-entry__name">Ac\x00me\x01 Ltd</h3>'
    )
    [row] = parse_certified_page(page(html), URL).rows
    assert row.name == "Acme Ltd"


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(PageError, match="is not valid UTF-8"):
        parse_certified_page(b"<html><body>Caf\xe9</body></html>", URL)


def test_page_without_closing_html_tag_is_refused_as_truncated() -> None:
    with pytest.raises(PageError, match="page looks truncated"):
        parse_certified_page(page(ENTRY)[:-20], URL)


AFFILIATES = """<table class="affiliates">
<thead><tr><th>Approved</th><th>Region</th><th>Certified training provider</th>
<th>Affiliate Organisation:</th></tr></thead>
<tbody>
<tr><td>May 2022</td><td>Wales</td>
  <td>Mersey NHS Foundation Trust – Reducing Restrictive Practice Team</td>
  <th scope="row">St Anne’s School</th></tr>
<tr><td>Sept 2021</td><td></td><td></td><td>Lonely Care Ltd</td></tr>
<tr><td>whenever</td><td>London</td><td>Acme Ltd</td><td>Vague Homes Ltd</td></tr>
<tr><td>June 2020</td><td>London</td><td>Acme Ltd</td><td></td></tr>
</tbody></table>"""


def test_affiliate_columns_are_found_by_header_text_in_any_order() -> None:
    parsed = parse_affiliates_page(page(AFFILIATES), URL)
    first = parsed.rows[0]
    assert first.status is ListingStatus.AFFILIATE
    assert first.name == "St Anne’s School"
    assert first.parent_name == "Mersey NHS Foundation Trust – Reducing Restrictive Practice Team"
    assert first.regions == ("Wales",)
    assert first.approved_on == dt.date(2022, 5, 1)


def test_affiliate_problems_are_reported_not_raised() -> None:
    parsed = parse_affiliates_page(page(AFFILIATES), URL)
    assert [r.name for r in parsed.rows] == [
        "St Anne’s School",
        "Lonely Care Ltd",
        "Vague Homes Ltd",
    ]
    assert parsed.rows[1].parent_name is None
    assert parsed.rows[2].approved_on is None
    assert any(
        "'Lonely Care Ltd': affiliate has no certified training provider" in p
        for p in parsed.problems
    )
    assert any("cannot read approved 'whenever'" in p for p in parsed.problems)
    assert any("affiliate row #4 has no name; skipped" in p for p in parsed.problems)


def test_affiliates_page_without_the_table_gives_no_rows_and_a_problem() -> None:
    parsed = parse_affiliates_page(page("<table><tr><td>x</td></tr></table>"), URL)
    assert parsed.rows == []
    assert "no table matches 'table.affiliates'" in parsed.problems[0]


def test_affiliates_table_without_a_name_column_gives_no_rows_and_a_problem() -> None:
    table = '<table class="affiliates"><tr><th>Organisation</th></tr><tr><td>Acme</td></tr></table>'
    parsed = parse_affiliates_page(page(table), URL)
    assert parsed.rows == []
    assert any("no 'name' column" in p for p in parsed.problems)


@pytest.mark.parametrize("dash", ["–", "—", "-", "&ndash;", "&#8212;"])
def test_working_towards_note_follows_any_dash(dash: str) -> None:
    html = f'<ul class="working-towards"><li><strong>Calm Ltd</strong> {dash} applied May 2025</li>'
    [row] = parse_working_towards_page(page(html), URL).rows
    assert (row.status, row.name, row.note) == (
        ListingStatus.WORKING_TOWARDS,
        "Calm Ltd",
        "applied May 2025",
    )


def test_working_towards_name_may_itself_contain_a_dash() -> None:
    html = (
        '<ul class="working-towards"><li><strong>Kent NHS Trust – RRP Team</strong> – applied</li>'
        "<li><strong>Plain&nbsp;Ltd</strong></li></ul>"
    )
    rows = parse_working_towards_page(page(html), URL).rows
    assert [(r.listed_name, r.name, r.note) for r in rows] == [
        ("Kent NHS Trust – RRP Team", "Kent NHS Trust", "applied"),
        ("Plain Ltd", "Plain Ltd", None),
    ]


def test_working_towards_item_without_strong_name_is_skipped_with_a_problem() -> None:
    html = '<ul class="working-towards"><li>Nameless – applied</li><li><strong>A</strong></li>'
    parsed = parse_working_towards_page(page(html), URL)
    assert [r.name for r in parsed.rows] == ["A"]
    assert parsed.problems == [f"{URL}: working-towards item #1 has no name; skipped"]


def test_empty_working_towards_list_is_not_a_problem_but_a_missing_list_is() -> None:
    empty = parse_working_towards_page(page('<ul class="working-towards"></ul>'), URL)
    assert (empty.rows, empty.problems) == ([], [])
    missing = parse_working_towards_page(page("<ol><li><strong>A</strong></li></ol>"), URL)
    assert missing.rows == []
    assert "no list matches 'ul.working-towards'" in missing.problems[0]
