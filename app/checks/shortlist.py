"""The register names closest to each query as whole strings, for many queries at once.

One rapidfuzz cdist call scores a block of queries against every name: most of the cost of
scoring is converting the register's names, which a block of queries shares.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from rapidfuzz import fuzz, process

SHORTLIST_SIZE, SHORTLIST_CUTOFF = 20, 40.0
# At most this many query-by-name cells (8 bytes each) per C call: memory stays bounded on
# big registers.
_SCORE_BLOCK_CELLS = 1 << 20


def closest(keys: list[str], names: list[str]) -> Iterator[list[int]]:
    """Per key, the positions in `names` of those closest to it (fuzz.ratio): at most
    SHORTLIST_SIZE at or above the cutoff, best first, ties in order of `names`."""
    if not names:
        yield from ([] for _ in keys)
        return
    block = max(1, _SCORE_BLOCK_CELLS // len(names))
    for start in range(0, len(keys), block):
        scores = process.cdist(
            keys[start : start + block],
            names,
            scorer=fuzz.ratio,
            processor=None,
            score_cutoff=SHORTLIST_CUTOFF,
            dtype=np.float64,
        )
        yield from _best_per_row(scores)


def _best_per_row(scores: np.ndarray) -> list[list[int]]:
    """Per row of scores (0 below the cutoff), the positions of the best SHORTLIST_SIZE at
    or above the cutoff, best first, ties in position order (as rapidfuzz's extract has them).

    Selecting on float scores with many ties is slow in numpy, so the selection runs on the
    scores rounded to integers, which keeps their order: every score in a row's exact top
    rounds to at least the row's size-th best rounded score. The few positions that pass
    are then ordered by their exact scores.
    """
    rounded = np.rint(scores).astype(np.uint8)
    nth = min(SHORTLIST_SIZE, rounded.shape[1])
    floor = np.maximum(
        np.sort(rounded, axis=1, kind="stable")[:, -nth], math.floor(SHORTLIST_CUTOFF)
    )
    near: list[list[int]] = [[] for _ in range(len(scores))]
    rows, columns = np.nonzero(rounded >= floor[:, None])
    for row, column in zip(rows.tolist(), columns.tolist(), strict=True):
        near[row].append(column)
    best = []
    for row, positions in enumerate(near):
        values = scores[row, positions].tolist()
        ranked = sorted(
            (-v, p) for v, p in zip(values, positions, strict=True) if v >= SHORTLIST_CUTOFF
        )
        best.append([p for _, p in ranked[:SHORTLIST_SIZE]])
    return best
