"""Pure unit tests: diff_listing (who was added, changed, renamed, removed) and the rejections."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from app.models import EventKind
from app.register.diff import Diff, MirrorOrganisation, diff_listing, row_values
from app.register.validation import rejection_reasons
from scrapers.rows import ListingRow, ListingStatus, ScrapeResult

CERTIFIED, AFFILIATE, WORKING = (
    ListingStatus.CERTIFIED,
    ListingStatus.AFFILIATE,
    ListingStatus.WORKING_TOWARDS,
)


def row(name: str, status: ListingStatus = CERTIFIED, **fields: Any) -> ListingRow:
    """A listing row whose listed name is its name unless given."""
    fields.setdefault("listed_name", name)
    return ListingRow(status=status, name=name, **fields)


def mirrored(org_id: int, listing: ListingRow, status: str | None = None) -> MirrorOrganisation:
    """The mirror's record of an organisation last seen as ``listing``."""
    return MirrorOrganisation(org_id, status or str(listing.status), row_values(listing))


ACME = row(
    "Acme Training Ltd",
    certificate_number="ACT1001",
    certified_on=dt.date(2022, 3, 8),
    regions=("London",),
    source_url="https://register.example/certified-organisations/",
)
HARBOUR = row(
    "Harbour Care Ltd",
    AFFILIATE,
    parent_name="Acme Training Ltd",
    approved_on=dt.date(2023, 5, 1),
)
BRIDGES = row("Bridges Consulting Ltd", WORKING, note="application received May 2025")
MIRROR = [mirrored(1, ACME), mirrored(2, HARBOUR), mirrored(3, BRIDGES)]


def only_change(diff: Diff) -> Any:
    assert len(diff.changes) == 1, diff.changes
    return diff.changes[0]


def test_every_row_is_added_to_an_empty_mirror_with_the_registers_own_dates() -> None:
    diff = diff_listing([], [ACME, HARBOUR, BRIDGES])

    assert [c.kind for c in diff.changes] == [EventKind.ADDED] * 3
    assert [c.organisation_id for c in diff.changes] == [None, None, None]
    assert [c.effective_on for c in diff.changes] == [
        dt.date(2022, 3, 8),  # certified_on
        dt.date(2023, 5, 1),  # approved_on
        None,  # working towards: the register states no date
    ]
    assert (diff.added, diff.changed, diff.removed, diff.unchanged) == (3, 0, 0, 0)


def test_the_same_listing_again_changes_nothing() -> None:
    diff = diff_listing(MIRROR, [ACME, HARBOUR, BRIDGES])

    assert diff.changes == []
    assert diff.unchanged == 3


def test_a_new_page_url_alone_is_not_a_change() -> None:
    moved = dataclasses.replace(ACME, source_url="https://register.example/page/2/")

    diff = diff_listing(MIRROR, [moved, HARBOUR, BRIDGES])

    assert diff.changes == []


def test_working_towards_becoming_certified_is_a_status_change_dated_by_certified_on() -> None:
    promoted = row(BRIDGES.name, CERTIFIED, certified_on=dt.date(2025, 11, 2))

    change = only_change(diff_listing(MIRROR, [ACME, HARBOUR, promoted]))

    assert change.kind is EventKind.STATUS_CHANGED
    assert change.organisation_id == 3
    assert (change.status_before, change.status_after) == ("working_towards", "certified")
    assert change.effective_on == dt.date(2025, 11, 2)


def test_a_rename_with_formerly_keeps_the_organisation_and_records_both_names() -> None:
    renamed = dataclasses.replace(
        ACME,
        name="Zenith Training Ltd",
        listed_name="Zenith Training Ltd (formerly Acme Training Ltd)",
        former_names=("Acme Training Ltd",),
        certificate_number=None,  # identity must come from the former name alone
    )

    change = only_change(diff_listing(MIRROR, [renamed, HARBOUR, BRIDGES]))

    assert change.kind is EventKind.RENAMED
    assert change.organisation_id == 1
    assert change.changes["name"] == ["Acme Training Ltd", "Zenith Training Ltd"]
    assert change.effective_on is None
    assert {"name": "Acme Training Ltd", "kind": "former"} in change.values["names"]


def test_a_new_name_under_the_same_certificate_number_is_a_rename() -> None:
    renamed = dataclasses.replace(ACME, name="Zenith Ltd", listed_name="Zenith Ltd")

    change = only_change(diff_listing(MIRROR, [renamed, HARBOUR, BRIDGES]))

    assert (change.kind, change.organisation_id) == (EventKind.RENAMED, 1)


def test_names_equal_after_normalisation_continue_the_same_organisation() -> None:
    respelt = dataclasses.replace(
        BRIDGES, name="BRIDGES CONSULTING LIMITED", listed_name="BRIDGES CONSULTING LIMITED"
    )

    change = only_change(diff_listing(MIRROR, [ACME, HARBOUR, respelt]))

    assert (change.kind, change.organisation_id) == (EventKind.RENAMED, 3)


def test_a_changed_detail_is_a_details_change_listing_the_field() -> None:
    moved = dataclasses.replace(ACME, regions=("London", "South East"))

    change = only_change(diff_listing(MIRROR, [moved, HARBOUR, BRIDGES]))

    assert change.kind is EventKind.DETAILS_CHANGED
    assert change.changes == {"regions": [["London"], ["London", "South East"]]}
    assert change.effective_on is None
    assert (change.status_before, change.status_after) == ("certified", "certified")


def test_an_organisation_missing_from_the_listing_is_removed() -> None:
    diff = diff_listing(MIRROR, [ACME, BRIDGES])

    change = only_change(diff)
    assert (change.kind, change.organisation_id, change.name) == (
        EventKind.REMOVED,
        2,
        "Harbour Care Ltd",
    )
    assert (change.status_before, change.status_after) == ("affiliate", "removed")
    assert (diff.removed, diff.unchanged) == (1, 2)


def test_an_organisation_listed_again_after_removal_gets_its_old_id_back() -> None:
    mirror = [*MIRROR[:2], mirrored(3, BRIDGES, status="removed")]

    change = only_change(diff_listing(mirror, [ACME, HARBOUR, BRIDGES]))

    assert (change.kind, change.organisation_id) == (EventKind.ADDED, 3)
    assert (change.status_before, change.status_after) == ("removed", "working_towards")


def test_a_removed_organisation_is_not_removed_again() -> None:
    mirror = [*MIRROR[:2], mirrored(3, BRIDGES, status="removed")]

    diff = diff_listing(mirror, [ACME, HARBOUR])

    assert diff.changes == []


def test_two_rows_never_claim_the_same_organisation() -> None:
    twin = row("Acme Training Ltd", WORKING)

    diff = diff_listing(MIRROR, [ACME, HARBOUR, BRIDGES, twin])

    change = only_change(diff)
    assert (change.kind, change.organisation_id, change.status_after) == (
        EventKind.ADDED,
        None,
        "working_towards",
    )


def test_a_row_prefers_the_organisation_already_on_its_own_list() -> None:
    # Two organisations share a name on different lists; each row continues its own one.
    namesake = row("Acme Training Ltd", WORKING)
    mirror = [
        mirrored(1, namesake),
        mirrored(2, dataclasses.replace(ACME, certificate_number=None)),
    ]
    rows = [dataclasses.replace(ACME, certificate_number=None), namesake]

    assert diff_listing(mirror, rows).changes == []


def scrape(*rows: ListingRow, problems: tuple[str, ...] = ()) -> ScrapeResult:
    return ScrapeResult(rows=list(rows), problems=list(problems))


def reasons_for(mirror: list[MirrorOrganisation], result: ScrapeResult, share: float = 0.2):
    return rejection_reasons(mirror, result, diff_listing(mirror, result.rows), share)


def test_a_sound_listing_has_no_rejection_reasons() -> None:
    assert reasons_for(MIRROR, scrape(ACME, HARBOUR, BRIDGES)) == []
    assert reasons_for([], scrape(ACME)) == []


def test_a_listing_with_no_rows_is_rejected_even_for_an_empty_mirror() -> None:
    [reason] = reasons_for([], scrape())
    assert "no organisations were found" in reason


def test_a_list_that_came_back_empty_is_rejected_by_name() -> None:
    mirror = [*MIRROR, mirrored(4, row("Other Ltd", AFFILIATE, parent_name="Acme Training Ltd"))]

    reasons = reasons_for(mirror, scrape(ACME, BRIDGES), share=1.0)

    assert reasons == ["the affiliate list came back empty (the mirror has 2)"]


def test_an_empty_list_the_mirror_never_had_is_fine() -> None:
    assert reasons_for(MIRROR[:2], scrape(ACME, HARBOUR)) == []


def many(count: int, status: ListingStatus = CERTIFIED) -> list[ListingRow]:
    return [row(f"Organisation {i:03d} Ltd", status) for i in range(count)]


@pytest.mark.parametrize(("kept", "rejected"), [(80, False), (79, True)])
def test_removing_more_than_the_allowed_share_is_rejected(kept: int, rejected: bool) -> None:
    rows = many(100)
    mirror = [mirrored(i + 1, r) for i, r in enumerate(rows)]

    reasons = reasons_for(mirror, scrape(*rows[:kept]), share=0.2)

    if rejected:
        assert reasons == [
            "21 of 100 organisations (21%) would be removed, more than the allowed 20%"
        ]
    else:
        assert reasons == []


def test_already_removed_organisations_do_not_count_towards_the_share() -> None:
    rows = many(10)
    mirror = [mirrored(i + 1, r, status="removed" if i < 5 else None) for i, r in enumerate(rows)]

    # 1 of the 5 active ones goes: 20%, allowed (it would be 10% of all ten, 20% of active).
    assert reasons_for(mirror, scrape(*rows[5:9])) == []
    assert reasons_for(mirror, scrape(*rows[5:8])) != []


def test_incomplete_entries_are_rejected_showing_the_first_five() -> None:
    problems = tuple(f"entry #{i} has no name; skipped" for i in range(1, 8))

    [reason] = reasons_for(MIRROR, scrape(ACME, HARBOUR, BRIDGES, problems=problems))

    assert reason.startswith("7 entries are incomplete or malformed: entry #1 has no name")
    assert "entry #5" in reason
    assert "entry #6" not in reason
    assert reason.endswith("(and 2 more)")


def test_every_reason_is_reported_together() -> None:
    reasons = reasons_for(MIRROR, scrape(ACME, problems=("x",)), share=0.2)

    assert len(reasons) == 4  # two lists emptied, too many removed, an incomplete entry
    assert any("affiliate list came back empty" in r for r in reasons)
    assert any("working towards list came back empty" in r for r in reasons)
    assert any("2 of 3 organisations" in r for r in reasons)
    assert any("1 entries are incomplete or malformed" in r for r in reasons)
