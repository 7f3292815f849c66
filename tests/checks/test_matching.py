"""The match index: eval sets end to end, named decoys, typos, ambiguity, aliases, ordering."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from rapidfuzz import fuzz, process

from app.checks import scoring, shortlist
from app.checks.matching import IndexEntry, IndexName, MatchIndex, MatchResult
from tests.conftest import SHARED

from . import heldout

EVAL_DIR = SHARED / "eval"


def _index(*names: str | tuple[str, ...]) -> MatchIndex:
    """An index of one organisation per argument: a name, or (name, *trading names)."""
    entries = []
    for i, item in enumerate(names, start=1):
        canonical, *aliases = (item,) if isinstance(item, str) else item
        known = (IndexName(canonical, "name"), *(IndexName(a, "trading") for a in aliases))
        entries.append(IndexEntry(i, canonical, "certified", known))
    return MatchIndex.build(entries)


def _matched_name(result: MatchResult) -> str | None:
    return result.candidates[0].name if result.outcome == "matched" else None


@pytest.fixture(scope="module")
def dev_set() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    if not EVAL_DIR.is_dir():
        pytest.skip("shared/eval is not beside the repository")
    records = heldout.load_json_register(EVAL_DIR / "register-dev.json")
    return records, heldout.load_queries(EVAL_DIR / "queries-dev.jsonl")


@pytest.fixture(scope="module")
def dev_index(dev_set: tuple[list[dict[str, object]], list[dict[str, object]]]) -> MatchIndex:
    return MatchIndex.build(heldout.register_entries(dev_set[0]))


def test_dev_set_has_no_false_matches_and_recall_of_at_least_099(
    dev_set: tuple[list[dict[str, object]], list[dict[str, object]]], dev_index: MatchIndex
) -> None:
    scores = heldout.score_queries(dev_index, *dev_set)
    assert scores.false_matches == 0, scores.failures
    assert scores.recall >= 0.99, scores.failures
    assert scores.positives > 600


@pytest.mark.parametrize(
    ("vocabulary", "seed"),
    [(heldout.VOCAB_A, 1), (heldout.VOCAB_A, 7), (heldout.VOCAB_B, 2), (heldout.VOCAB_B, 11)],
    ids=["A-1", "A-7", "B-2", "B-11"],
)
def test_heldout_sets_have_no_false_matches_and_recall_of_at_least_097(
    vocabulary: heldout.Vocabulary, seed: int
) -> None:
    records, queries = heldout.make_set(vocabulary, seed)
    scores = heldout.score_queries(
        MatchIndex.build(heldout.register_entries(records)), records, queries
    )
    assert scores.false_matches == 0, scores.failures
    assert scores.recall >= 0.97, scores.failures
    assert scores.tallies["near_word"]["ok"] >= 10  # the hardest decoys were really tried


def test_st_marks_school_is_not_matched_to_st_marys_school() -> None:
    result = _index("St Mary's School", "St Oswald's School").match("St Mark's School")
    assert result.outcome == "needs_review"
    assert result.candidates[0].name == "St Mary's School"
    assert "'marks' vs 'marys'" in result.reason


def test_kent_nhs_ft_is_not_matched_to_trent_nhs_ft_either_way() -> None:
    assert _index("Trent NHS Foundation Trust").match("Kent NHS FT").outcome != "matched"
    assert _index("Kent NHS Foundation Trust").match("Trent NHS FT").outcome != "matched"


def test_wessex_county_council_is_not_matched_to_humber_county_council() -> None:
    index = _index("Humber County Council", "Wessex Care Group")
    assert index.match("Wessex County Council").outcome != "matched"


@pytest.mark.parametrize(
    "query", ["Training Ltd", "NHS Foundation Trust", "Council", "x", "Ltd", "Care Group"]
)
def test_generic_names_are_not_listed(query: str, dev_index: MatchIndex) -> None:
    result = dev_index.match(query)
    assert result.outcome == "not_listed"
    assert result.candidates == ()


def test_typo_in_a_long_word_matches_with_the_word_named() -> None:
    result = _index("Beacon-Path Consultancy", "Clear Steps Training").match(
        "Beacon-Path Consutlancy"
    )
    assert (result.outcome, result.method) == ("matched", "fuzzy")
    assert result.organisation_id == 1
    assert result.reason == "typo-level difference in 'consultancy'"
    assert result.score is not None
    assert 90 <= result.score < 100


def test_typo_inside_a_hyphenated_name_matches() -> None:
    assert _matched_name(_index("Safe-Hands® Training Ltd").match("Safe-Hadns Training")) == (
        "Safe-Hands® Training Ltd"
    )


def test_typo_in_a_short_word_needs_review() -> None:
    result = _index("Kind & Trusted Training Ltd").match("Kidn & Trusted Training Ltd")
    assert result.outcome == "needs_review"


def test_two_mistyped_words_need_review() -> None:
    result = _index("Clear Foundations Associates").match("Clear Fonudations Asscoiates")
    assert result.outcome == "needs_review"
    assert result.candidates[0].name == "Clear Foundations Associates"


def test_a_word_the_register_uses_elsewhere_is_not_taken_for_a_typo() -> None:
    # "angle" is an adjacent swap of "angel", but the register knows it as a word of its own.
    index = _index("Angel Care Services", "Angle Homes")
    assert index.match("Angle Care Services").outcome == "needs_review"


def test_mistyped_limited_is_ignored() -> None:
    assert _matched_name(_index("Haven Routes Limited").match("Haven Routes Limtied")) == (
        "Haven Routes Limited"
    )


def test_changed_word_order_or_an_extra_word_needs_review() -> None:
    index = _index("Evolve & Thrive Training Ltd", "Severn NHS Foundation Trust")
    assert index.match("Thrive & Evolve Training").outcome == "needs_review"
    extra = index.match("Severn NHS Foundation Trust Mental Health")
    assert extra.outcome == "needs_review"
    assert "extra word(s) 'health mental'" in extra.reason


def test_nhs_trust_is_not_auto_matched_to_the_foundation_trust() -> None:
    result = _index("Severn NHS Foundation Trust").match("Severn NHS Trust")
    assert result.outcome == "needs_review"
    assert result.candidates[0].name == "Severn NHS Foundation Trust"


def test_typo_in_a_name_of_generic_words_only_needs_review() -> None:
    result = _index("Care Training Services").match("Care Trainnig Services")
    assert result.outcome == "needs_review"
    assert "generic words only" in result.reason


def test_two_organisations_with_the_same_normalised_name_need_review() -> None:
    result = _index("The Calm Support Partnership", "Calm Support Partnership Ltd").match(
        "Calm Support Partnership"
    )
    assert result.outcome == "needs_review"
    assert {c.organisation_id for c in result.candidates} == {1, 2}
    assert result.reason == "2 organisations share this name"


def test_typo_close_to_two_organisations_needs_review() -> None:
    # The second organisation trades under the first one's name.
    index = _index("Clear Connections North", ("Other Name", "Clear Connections North Ltd"))
    result = index.match("Clear Conenctions North")
    assert result.outcome == "needs_review"
    assert result.reason == "close to 2 organisations"


def test_exact_match_on_a_former_name_reports_its_kind(dev_index: MatchIndex) -> None:
    result = dev_index.match("Wirral Minds Limited")
    assert (result.outcome, result.method, result.matched_kind) == ("matched", "alias", "former")
    assert result.matched_name == "Wirral Minds Ltd"
    assert result.candidates[0].name == "Clear Foundations Limited"


def test_exact_match_on_a_trading_name_is_an_alias_match(dev_index: MatchIndex) -> None:
    result = dev_index.match("ThriveHands Training")
    assert (result.method, result.matched_kind) == ("alias", "trading")
    assert result.candidates[0].name == "STEADY uk"


def test_fuzzy_match_on_a_former_name_reports_its_kind() -> None:
    names = (IndexName("Clear Ways Ltd", "name"), IndexName("Harbourside Minds", "former"))
    index = MatchIndex.build([IndexEntry(7, "Clear Ways Ltd", "certified", names)])
    result = index.match("Harbousride Minds")
    assert (result.outcome, result.method, result.matched_kind) == ("matched", "fuzzy", "former")
    assert result.matched_name == "Harbourside Minds"


def test_exact_match_on_the_listed_name_reports_its_kind(dev_index: MatchIndex) -> None:
    result = dev_index.match("Keystone Approaches Limited (formerly Wessex Minds Ltd)")
    assert (result.method, result.matched_kind) == ("exact", "listed")


def test_space_differences_inside_a_name_match_exactly() -> None:
    result = _index("Beacon\u2011Path Consultancy").match("BeaconPath Consultancy")
    assert (result.method, result.reason) == ("exact", "exact match ignoring spaces")


def test_candidates_are_best_first_and_at_most_five(dev_index: MatchIndex) -> None:
    result = dev_index.match("Severn")
    assert result.outcome == "needs_review"
    scores = [c.score for c in result.candidates]
    assert 1 < len(scores) <= 5
    assert scores == sorted(scores, reverse=True)
    assert all("Severn" in c.name for c in result.candidates)


def test_a_fuzzy_match_lists_the_matched_organisation_first() -> None:
    result = _index("Clear Foundations Group", "Clear Foundations Limited").match(
        "Clear Foundatinos"
    )
    assert result.organisation_id == 2
    assert [c.name for c in result.candidates] == [
        "Clear Foundations Limited",
        "Clear Foundations Group",
    ]


@pytest.mark.parametrize("query", ["", "   ", "Ltd", "®", "&", "\x00", "🙂", "x" * 5000])
def test_any_string_gives_an_answer_and_never_a_match_from_nothing(query: str) -> None:
    result = _index("Clear Steps Training Ltd").match(query)
    assert result.outcome in ("not_listed", "needs_review")


def test_index_counts_organisations_and_indexes_the_canonical_name() -> None:
    index = MatchIndex.build([IndexEntry(3, "Calm Ways Ltd", "affiliate", ())])
    assert len(index) == 1
    assert index.match("Calm Ways Limited").organisation_id == 3


def test_duplicate_organisation_ids_are_rejected() -> None:
    entry = IndexEntry(1, "A Ltd", "certified", ())
    with pytest.raises(ValueError, match="duplicate"):
        MatchIndex.build([entry, entry])


def test_concurrent_lookups_give_the_same_answers(
    dev_set: tuple[list[dict[str, object]], list[dict[str, object]]], dev_index: MatchIndex
) -> None:
    queries = [str(q["query"]) for q in dev_set[1]]
    expected = [dev_index.match(q) for q in queries]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(dev_index.match, queries)) == expected


def test_matching_many_at_once_answers_as_one_at_a_time(
    dev_set: tuple[list[dict[str, object]], list[dict[str, object]]], dev_index: MatchIndex
) -> None:
    queries = [str(q["query"]) for q in dev_set[1]]
    queries += ["", "Ltd", queries[0], "Wholly Unrelated Name Trust"]
    assert dev_index.match_many(queries) == [dev_index.match(q) for q in queries]


def test_many_at_once_gives_the_same_answers_when_scored_in_small_blocks(
    dev_set: tuple[list[dict[str, object]], list[dict[str, object]]],
    dev_index: MatchIndex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queries = [str(q["query"]) for q in dev_set[1]]
    expected = dev_index.match_many(queries)
    # One query per block, then a few: the blocks must join up in order, for the
    # whole-string shortlist and for the word scores alike.
    for cells in (1, 3 * len(dev_index._keys)):
        monkeypatch.setattr(shortlist, "_SCORE_BLOCK_CELLS", cells)
        monkeypatch.setattr(scoring, "_BLOCK_CELLS", cells)
        assert dev_index.match_many(queries) == expected


def test_shortlist_takes_the_best_scores_with_ties_in_register_order_as_extract_does() -> None:
    # Many names at a few score levels, so the cut at the shortlist size falls inside a tie.
    keys = [
        f"{stem} {n:02d}" for stem in ("harbour lane", "harbor lanes", "arbour") for n in range(40)
    ]
    keys += ["harbour", "zz"]
    queries = ["harbour lane 7", "arbour 1", "harbour", "lane", "q"]
    scores = process.cdist(
        queries, keys, scorer=fuzz.ratio, processor=None, score_cutoff=40.0, dtype=np.float64
    )
    got = shortlist._best_per_row(scores)
    for query, positions in zip(queries, got, strict=True):
        hits = process.extract(
            query, keys, scorer=fuzz.ratio, processor=None, limit=20, score_cutoff=40.0
        )
        assert positions == [i for _, _, i in hits], query
    assert any(len(p) == 20 for p in got)  # the size limit was reached at least once


def test_an_empty_index_answers_every_query_not_listed() -> None:
    empty = MatchIndex.build([])
    results = empty.match_many(["Harbour Lane", "", "Ltd"])
    assert [r.outcome for r in results] == ["not_listed"] * 3
