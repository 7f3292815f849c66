"""Run the name matcher directly on a register JSON and a queries JSONL; report the scores.

    .venv/bin/python scripts/eval_matching_offline.py                      # the shared dev set
    .venv/bin/python scripts/eval_matching_offline.py --heldout A --seed 3  # a generated set
    .venv/bin/python scripts/eval_matching_offline.py --timing              # adds latencies

Recall: share of queries naming an organisation answered "matched" to it, with its status.
False matches: decoys matched at all, plus queries matched to the wrong organisation.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.checks.matching import MatchIndex  # noqa: E402
from app.checks.normalise import normalise_name  # noqa: E402
from tests.checks import heldout  # noqa: E402

DEV = ROOT.parent / "shared" / "eval"


def report(scores: heldout.Scores) -> None:
    """Print recall, false matches, a table by kind, and each failing line."""
    hits = scores.positives - scores.misses
    print(
        f"recall {scores.recall:.4f} ({hits}/{scores.positives})"
        f"   false matches {scores.false_matches}"
    )
    print(
        f"{'kind':18} {'n':>4} {'correct':>7} {'false':>5}   outcomes: "
        f"{'matched':>7} {'review':>6} {'not_listed':>10}"
    )
    for kind, c in sorted(scores.tallies.items()):
        n = c["matched"] + c["needs_review"] + c["not_listed"]
        print(
            f"{kind:18} {n:4} {c['ok']:7} {c['false']:5}             "
            f"{c['matched']:7} {c['needs_review']:6} {c['not_listed']:10}"
        )
    for label, q, r in scores.failures:
        target = q["expect_name"] or f"decoy near {q.get('near')}"
        top = r.candidates[0].name if r.candidates else "-"
        print(f"  {label:12} {q['kind']:10} {q['query']!r} -> {target!r}; top {top!r}: {r.reason}")


def timing(index: MatchIndex, queries: list[dict[str, Any]]) -> None:
    """Median, p99 and worst per-query latency by how each query was decided."""
    normalise_name.cache_clear()  # each name is new to the cache, as most are in service
    by_method: dict[str, list[float]] = defaultdict(list)
    for q in queries:
        if not q["query"].strip():
            continue
        start = time.perf_counter()
        result = index.match(q["query"])
        elapsed = (time.perf_counter() - start) * 1e6
        by_method[result.method or result.outcome].append(elapsed)
    for method, times in sorted(by_method.items()):
        print(
            f"  {method:12} n={len(times):5}  median {statistics.median(times):8.1f} us"
            f"  p99 {sorted(times)[int(0.99 * (len(times) - 1))]:8.1f} us"
            f"  max {max(times):8.1f} us"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--register", type=Path, default=DEV / "register-dev.json")
    parser.add_argument("--queries", type=Path, default=DEV / "queries-dev.jsonl")
    parser.add_argument("--heldout", choices=("A", "B"), help="generate a held-out set instead")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timing", action="store_true", help="also time each lookup")
    parser.add_argument("--scale", type=int, help="time on a generated register of this size")
    args = parser.parse_args()
    if args.scale:
        records = heldout.make_large_register(args.scale, args.seed)
        queries = heldout.make_queries(records, heldout.VOCAB_A, args.seed)
    elif args.heldout:
        vocab = heldout.VOCAB_A if args.heldout == "A" else heldout.VOCAB_B
        records, queries = heldout.make_set(vocab, args.seed)
    else:
        records = heldout.load_json_register(args.register)
        queries = heldout.load_queries(args.queries)
    start = time.perf_counter()
    index = MatchIndex.build(heldout.register_entries(records))
    print(f"{len(index)} organisations indexed in {(time.perf_counter() - start) * 1e3:.1f} ms")
    report(heldout.score_queries(index, records, queries))
    if args.timing:
        timing(index, queries)


if __name__ == "__main__":
    main()
