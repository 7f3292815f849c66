"""Score one query against many register names at once, for the fuzzy step.

Built with the match index: every register name is a row of positions into the register's
vocabulary, with each word's weight. A query word's likeness to the whole vocabulary is one
C call, kept for the next query that uses the word (a batch repeats its words a lot), so
scoring a shortlist is a few array operations instead of a Python loop over word pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache, partial

import numpy as np

from app.checks.normalise import word_similarities
from app.checks.similarity import WordStats, f_scores, padded_rows

# Query words whose likeness to the vocabulary is kept: one row of 8 bytes per register
# word each (about 24 KB for 3,000 words), so at most some 12 MB per index.
_KEPT_WORDS = 512


def _likeness(vocabulary: tuple[str, ...], word: str) -> np.ndarray:
    """How alike `word` is to each vocabulary word, then 0 for the padding column."""
    row = np.zeros(len(vocabulary) + 1)
    if vocabulary:
        row[:-1] = word_similarities((word,), vocabulary)[0]
    return row


class NameScorer:
    """Identity-weighted similarity of a query to register names chosen by position."""

    def __init__(self, names: Sequence[tuple[str, ...]], stats: WordStats) -> None:
        vocabulary = tuple(dict.fromkeys(w for name in names for w in name))
        position = {w: i for i, w in enumerate(vocabulary)}
        self._rows = padded_rows([[position[w] for w in name] for name in names], len(vocabulary))
        self._lengths = np.fromiter(map(len, names), np.intp, len(names))
        self._weights = np.array([*map(stats.weight, vocabulary), 0.0])[self._rows]
        self._stats = stats
        self._likeness = lru_cache(maxsize=_KEPT_WORDS)(partial(_likeness, vocabulary))

    def scores(self, query: tuple[str, ...], names: Sequence[int]) -> list[float]:
        """The query's score, 0..100, against each of the names at these positions."""
        if not query or not names:
            return [0.0] * len(names)
        chosen = np.fromiter(names, np.intp, len(names))
        rows = self._rows[chosen]
        alike = np.stack([self._likeness(word) for word in query])
        weights = self._weights[chosen]
        return f_scores(alike[:, rows], weights, self._stats.query_weights(query)).tolist()

    def of_length(self, names: Sequence[int], length: int) -> list[int]:
        """Which of the names at these positions (by their place in `names`) have `length`
        words."""
        chosen = np.fromiter(names, np.intp, len(names))
        return np.flatnonzero(self._lengths[chosen] == length).tolist()
