"""How a query compares with one register name: identity-weighted similarity and alignment.

Similarity weighs each word by how much identity it carries in this register (a rare word a
lot, "Training" little). Alignment is the stricter test behind a fuzzy auto-match: the same
words, with at most one typo-level slip in one long word that the register does not itself
use as a word.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import Indel

from app.checks.normalise import typo_shaped, word_similarities

# Words that say what kind of body an organisation is, not which one it is.
ORGANISATION_TYPE_WORDS = frozenset(
    "academies academy and associates association borough care center centre charity city "
    "college community company consultancy consultants consulting council county district "
    "federation for foundation ft group health healthcare homes hospital hospitals "
    "metropolitan nhs of partners partnership school schools service services solutions st "
    "support team the training trust uk university".split()
)
# A word in at least this share of organisations (and this many) is generic in this register.
_COMMON_SHARE, _COMMON_MIN_ORGS = 0.15, 10
_GENERIC_WEIGHT = 0.3  # generic words still count a little towards similarity
_NEAR_WORD = 0.6  # Indel similarity from which two words count as nearly the same


@dataclass(frozen=True, slots=True)
class Verdict:
    """How a query compares with one register name."""

    score: float  # identity-weighted similarity, 0..100
    aligned: bool  # same words, at most one typo-level slip
    note: str


@dataclass(frozen=True, slots=True)
class WordStats:
    """What the register's vocabulary says about each word: how much identity it carries."""

    generic: frozenset[str]
    weights: dict[str, float]
    unknown_weight: float
    vocabulary: frozenset[str]  # every word the register uses, joined compounds too

    @classmethod
    def of(cls, df: Counter[str], n_orgs: int, compounds: Iterable[str]) -> WordStats:
        """Statistics from each word's count of organisations (df) among n_orgs."""
        common = max(_COMMON_MIN_ORGS, _COMMON_SHARE * n_orgs)
        generic = ORGANISATION_TYPE_WORDS | {w for w, n in df.items() if n >= common}
        # Smoothed IDF over organisations: a rare word carries identity, a common one little.
        # A word the register never uses (often a typo) counts as its rarest word.
        weights = {
            w: (math.log((n_orgs + 1) / (n + 1)) + 1) * (_GENERIC_WEIGHT if w in generic else 1)
            for w, n in df.items()
        }
        unknown = math.log((n_orgs + 1) / 2) + 1
        return cls(generic, weights, unknown, frozenset(df).union(compounds))

    def similarity(self, query: tuple[str, ...], name: tuple[str, ...]) -> float:
        """Identity-weighted F-score of the two word lists, 0..100 (see similarities)."""
        return self.similarities(query, (name,))[0]

    def similarities(self, query: tuple[str, ...], names: Sequence[tuple[str, ...]]) -> list[float]:
        """The identity-weighted F-score of the query against each name, 0..100.

        Every name's words are scored against the query's at once (see f_scores): a name
        is a row of positions into the names' shared vocabulary.
        """
        if not query or not names:
            return [0.0] * len(names)
        vocabulary = list(dict.fromkeys(w for name in names for w in name))
        position = {w: i for i, w in enumerate(vocabulary)}
        rows = padded_rows([[position[w] for w in name] for name in names], len(vocabulary))
        alike = np.zeros((len(query), len(vocabulary) + 1))
        if vocabulary:
            alike[:, :-1] = word_similarities(query, vocabulary)
        weights = np.array([*map(self.weight, vocabulary), 0.0])[rows]
        return f_scores(alike[:, rows], weights, self.query_weights(query)).tolist()

    def query_weights(self, query: Sequence[str]) -> np.ndarray:
        """The weight of each query word, as an array."""
        return np.fromiter(map(self.weight, query), np.float64, len(query))

    def weight(self, word: str) -> float:
        """How much identity a word carries in this register."""
        return self.weights.get(word, self.unknown_weight)

    def shares_distinctive_word(self, query: tuple[str, ...], name: tuple[str, ...]) -> bool:
        """True when a non-generic query word is (nearly) one of the name's words."""
        return any(
            word not in self.generic
            and max(Indel.normalized_similarity(word, w) for w in name) >= _NEAR_WORD
            for word in query
        )

    def compare(
        self, query: tuple[str, ...], name: tuple[str, ...], explain: bool = False
    ) -> Verdict:
        """Score and align; the note of a failed alignment is written only when asked for."""
        return self.judge(query, name, self.similarity(query, name), explain)

    def judge(
        self, query: tuple[str, ...], name: tuple[str, ...], score: float, explain: bool = False
    ) -> Verdict:
        """The verdict on a pair whose score is known: aligned or not, and why."""
        if len(query) != len(name):
            return Verdict(score, False, _word_count_note(query, name) if explain else "")
        diffs = [(q, n) for q, n in zip(query, name, strict=True) if q != n]
        if not diffs:
            return Verdict(score, True, "same words, ignoring 'and' and a mistyped 'Limited'")
        q, n = diffs[0]
        # A word the register itself uses is a different name, never a typo of another.
        if len(diffs) == 1 and typo_shaped(q, n) and q not in self.vocabulary:
            return Verdict(score, True, f"typo-level difference in '{n}'")
        if not explain:
            return Verdict(score, False, "")
        if sorted(query) == sorted(name):
            return Verdict(score, False, "same words in a different order")
        if len(diffs) > 1:
            return Verdict(score, False, f"{len(diffs)} words differ, e.g. '{q}' vs '{n}'")
        label = "generic" if n in self.generic else "distinctive"
        return Verdict(score, False, f"differs in {label} word '{q}' vs '{n}'")


def padded_rows(positions: Sequence[Sequence[int]], pad: int) -> np.ndarray:
    """Rows of word positions, padded with `pad`: the position of a column that matches
    nothing and weighs nothing."""
    rows = np.full((len(positions), max(map(len, positions), default=0) or 1), pad, np.intp)
    for r, row in enumerate(positions):
        rows[r, : len(row)] = row
    return rows


def f_scores(pairs: np.ndarray, weights: np.ndarray, query_weights: np.ndarray) -> np.ndarray:
    """Identity-weighted F-scores, 0..100, of one query against many names.

    `pairs[i, n, j]` is how alike query word i is to word j of name n (0 for padding);
    `weights[n, j]` is that word's weight (0 for padding). Precision is the weighted share
    of query words found (exactly or nearly) in the name, recall the same the other way.
    """
    shape = (pairs.shape[1], len(query_weights))
    return pair_f_scores(pairs.transpose(1, 0, 2), weights, np.broadcast_to(query_weights, shape))


def pair_f_scores(pairs: np.ndarray, weights: np.ndarray, query_weights: np.ndarray) -> np.ndarray:
    """`f_scores` of many (query, name) pairs at once, each its own query.

    `pairs[p, i, j]` is how alike word i of pair p's query is to word j of its name (0 for
    padding on either side); `weights[p, j]` is that name word's weight and
    `query_weights[p, i]` that query word's (0 for padding).
    """
    precision = (query_weights * pairs.max(axis=2)).sum(axis=1) / query_weights.sum(axis=1)
    totals = weights.sum(axis=1)
    found = (weights * pairs.max(axis=1)).sum(axis=1)
    recall = np.divide(found, totals, out=np.zeros(len(totals)), where=totals > 0)
    both = precision + recall
    return np.divide(200 * precision * recall, both, out=np.zeros(len(both)), where=both > 0)


def _word_count_note(query: tuple[str, ...], name: tuple[str, ...]) -> str:
    extra = sorted((Counter(query) - Counter(name)).elements())
    missing = sorted((Counter(name) - Counter(query)).elements())
    parts = [f"extra word(s) {' '.join(extra)!r}"] if extra else []
    parts += [f"missing word(s) {' '.join(missing)!r}"] if missing else []
    return "; ".join(parts)
