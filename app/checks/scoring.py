"""Score one query against many register names at once, for the fuzzy step.

Built with the match index: every register name is a row of positions into the register's
vocabulary, with each word's weight. A query word's likeness to the whole vocabulary is one
C call, kept for the next query that uses the word (a batch repeats its words a lot), so
scoring a shortlist is a few array operations instead of a Python loop over word pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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

    def score(self, query: tuple[str, ...], names: Sequence[int]) -> Scored:
        """The query's score, 0..100, against each of the names at these positions, and
        which of them could align with it (see Scored)."""
        if not query or not names:
            return Scored([0.0] * len(names), [])
        chosen = np.fromiter(names, np.intp, len(names))
        rows = self._rows[chosen]
        pairs = np.stack([self._likeness(word) for word in query])[:, rows]
        weights = self._weights[chosen]
        scores = f_scores(pairs, weights, self._stats.query_weights(query)).tolist()
        # Only 1.0 is the same word: a typo-shaped pair is credited less.
        found = (pairs == 1.0).any(axis=2).sum(axis=0)
        alignable = (self._lengths[chosen] == len(query)) & (found >= len(query) - 1)
        return Scored(scores, np.flatnonzero(alignable).tolist())


@dataclass(frozen=True, slots=True)
class Scored:
    """A query scored against names chosen by position."""

    scores: list[float]
    alignable: list[int]
    """The places (in the names asked about) of the names that could align with the query:
    as many words, all but at most one of the query's words among them as they are. The
    alignment test itself is WordStats.judge; this only spares it the names that cannot."""
