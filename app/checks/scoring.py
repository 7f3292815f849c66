"""Score one query against many register names at once, for the fuzzy step.

Built with the match index: every register name is a row of positions into the register's
vocabulary, with each word's weight. A query word's likeness to the whole vocabulary is one
C call, kept for the next query that uses the word (a batch repeats its words a lot), so
scoring a shortlist is a few array operations instead of a Python loop over word pairs.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial

import numpy as np

from app.checks.normalise import word_similarities
from app.checks.similarity import WordStats, padded_rows, pair_f_scores

# Query words whose likeness to the vocabulary is kept: one row of 8 bytes per register
# word each (about 24 KB for 3,000 words), so at most some 12 MB per index.
_KEPT_WORDS = 512
# At most this many cells (8 bytes each) in a block of queries' arrays (see _block_end).
_BLOCK_CELLS = 1 << 20


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
        self._no_word = np.zeros(len(vocabulary) + 1)

    def score(self, query: tuple[str, ...], names: Sequence[int]) -> Scored:
        """The query's score, 0..100, against each of the names at these positions, and
        which of them could align with it (see Scored)."""
        return self.score_many([query], [names])[0]

    def score_many(
        self, queries: Sequence[tuple[str, ...]], names: Sequence[Sequence[int]]
    ) -> list[Scored]:
        """`score` for each query against its own names, a block of queries at a time.

        Every (query, name) pair of a block is one row of the same few array operations, so
        the cost per query is a share of them rather than a dozen numpy calls of its own
        (half the fuzzy step's time when each query was scored alone).
        """
        results = [Scored([0.0] * len(group), []) for group in names]
        # Queries of like length together: each block's arrays are as wide as its longest.
        asked = sorted(
            (i for i, query in enumerate(queries) if query and names[i]),
            key=lambda i: len(queries[i]),
        )
        start = 0
        while start < len(asked):
            stop = self._block_end([queries[i] for i in asked], [names[i] for i in asked], start)
            block = asked[start:stop]
            scored = self._score_block([queries[i] for i in block], [names[i] for i in block])
            for i, result in zip(block, scored, strict=True):
                results[i] = result
            start = stop
        return results

    def _block_end(
        self, queries: Sequence[tuple[str, ...]], names: Sequence[Sequence[int]], start: int
    ) -> int:
        """Where the block from `start` ends: at most _BLOCK_CELLS cells in its pairs'
        array and in its words' likeness rows (each as long as the vocabulary), and one
        query at least."""
        width, row_length = self._rows.shape[1], len(self._no_word)
        pairs = longest = 0
        words: set[str] = set()
        for stop in range(start, len(queries)):
            pairs += len(names[stop])
            longest = max(longest, len(queries[stop]))
            words.update(queries[stop])
            too_big = max(pairs * longest * width, len(words) * row_length) > _BLOCK_CELLS
            if too_big and stop > start:
                return stop
        return len(queries)

    def _score_block(
        self, queries: Sequence[tuple[str, ...]], names: Sequence[Sequence[int]]
    ) -> list[Scored]:
        words = list(dict.fromkeys(w for query in queries for w in query))
        # One likeness row per distinct word, and a last row of zeros for query padding.
        likeness = np.vstack([*map(self._likeness, words), self._no_word])
        at = {w: i for i, w in enumerate(words)}
        longest = max(map(len, queries), default=0) or 1
        query_rows = np.full((len(queries), longest), len(words), np.intp)
        query_weights = np.zeros((len(queries), longest))
        for q, query in enumerate(queries):
            query_rows[q, : len(query)] = [at[w] for w in query]
            query_weights[q, : len(query)] = self._stats.query_weights(query)
        counts = np.fromiter(map(len, names), np.intp, len(names))
        owner = np.repeat(np.arange(len(queries)), counts)  # the query of each pair
        chosen = np.fromiter((n for group in names for n in group), np.intp, int(counts.sum()))
        width = int(self._lengths[chosen].max())  # rows are padded at the end: trim them
        rows = self._rows[chosen, :width]
        pairs = likeness[query_rows[owner][:, :, None], rows[:, None, :]]
        scores = pair_f_scores(pairs, self._weights[chosen, :width], query_weights[owner])
        # Only 1.0 is the same word: a typo-shaped pair is credited less.
        found = (pairs == 1.0).any(axis=2).sum(axis=1)
        wanted = np.fromiter(map(len, queries), np.intp, len(queries))[owner]
        alignable = (self._lengths[chosen] == wanted) & (found >= wanted - 1)
        bounds = itertools.pairwise((0, *np.cumsum(counts).tolist()))
        return [
            Scored(scores[a:b].tolist(), np.flatnonzero(alignable[a:b]).tolist()) for a, b in bounds
        ]


@dataclass(frozen=True, slots=True)
class Scored:
    """A query scored against names chosen by position."""

    scores: list[float]
    alignable: list[int]
    """The places (in the names asked about) of the names that could align with the query:
    as many words, all but at most one of the query's words among them as they are. The
    alignment test itself is WordStats.judge; this only spares it the names that cannot."""
