"""NameScorer: many queries scored in blocks answer exactly as each scored alone."""

from __future__ import annotations

from collections import Counter

import pytest

from app.checks import scoring
from app.checks.scoring import NameScorer
from app.checks.similarity import WordStats

NAMES = [
    ("harbour", "lane", "training"),
    ("harbor", "lane"),
    ("bright", "futures", "care", "services", "north", "east"),
    ("bright", "futures"),
    ("safehands",),
    ("st", "marys", "school"),
]


def _scorer() -> NameScorer:
    df = Counter(w for name in NAMES for w in set(name))
    return NameScorer(NAMES, WordStats.of(df, len(NAMES), ()))


QUERIES = [
    ("harbour", "lane", "trainnig"),
    (),  # nothing left of the name: scores 0 against everything
    ("bright", "futures", "care", "services", "north", "east", "leeds", "office"),
    ("safe", "hands"),
    ("st", "mary", "school"),
    ("bright", "futures"),
]
CHOSEN = [[0, 1, 5], [0, 1], [2, 3, 0], [4], [], [3, 2, 3]]


@pytest.mark.parametrize("cells", [1, 40, 1 << 20])
def test_queries_scored_together_score_as_each_alone(
    cells: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    scorer = _scorer()
    alone = [scorer.score(q, names) for q, names in zip(QUERIES, CHOSEN, strict=True)]
    # Blocks of one query, of a few, and all in one: sorted by length inside, answered in
    # the order asked.
    monkeypatch.setattr(scoring, "_BLOCK_CELLS", cells)
    together = scorer.score_many(QUERIES, CHOSEN)
    assert together == alone
    assert [len(s.scores) for s in together] == [len(names) for names in CHOSEN]


def test_scores_and_alignable_names_are_what_the_words_say() -> None:
    scorer = _scorer()
    scored = scorer.score(("harbour", "lane", "training"), [0, 1, 5])
    assert scored.scores[0] == pytest.approx(100.0)
    assert 80 < scored.scores[1] < 100  # "harbor lane": a near word, one word short
    assert scored.scores[2] < 20  # "st marys school" shares nothing but letters
    assert scored.alignable == [0]  # same length, all words found; the others differ in length
    assert scorer.score((), [0, 1]).scores == [0.0, 0.0]
    assert scorer.score(("harbour",), []).scores == []
