"""Run the name matcher directly on a register JSON and a queries JSONL; report the scores.

    .venv/bin/python scripts/eval_matching_offline.py                      # the shared dev set
    .venv/bin/python scripts/eval_matching_offline.py --heldout A --seed 3  # a generated set
    .venv/bin/python scripts/eval_matching_offline.py --timing              # adds latencies
    .venv/bin/python scripts/eval_matching_offline.py --scale 3000 --timing # a big register
    .venv/bin/python scripts/eval_matching_offline.py --v2                 # the v2 dev set
    .venv/bin/python scripts/eval_matching_offline.py --v2 --heldout B --seed 5
    .venv/bin/python scripts/eval_matching_offline.py --all                # every set, a table

The v2 sets (names as forms write them, certificate numbers, websites) run through the whole
verdict (decide_many), as the API answers them; the first sets run the matcher alone.

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

from app.checks.evaluation import EvalReport  # noqa: E402
from app.checks.matching import IndexEntry, MatchIndex  # noqa: E402
from app.checks.normalise import normalise_name  # noqa: E402
from tests.checks import heldout, heldout_v2  # noqa: E402

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


def report_v2(name: str, scores: EvalReport, failures: bool = True) -> None:
    """Recall and false matches of a v2 set, with its failing lines by kind."""
    print(
        f"{name}: recall {scores.recall:.4f} ({scores.hits}/{scores.expected})"
        f"   false matches {len(scores.false_matches)}   rejected {scores.rejected}"
    )
    if failures:
        for label, rows in (("FALSE", scores.false_matches), ("miss", scores.misses)):
            for kind, query, expected, got in rows:
                print(f"  {label:5} {kind:34} {query!r} -> {expected!r}; got {got}")


def every_set(seeds: tuple[int, ...]) -> None:
    """One line per set: the dev sets, then held-out sets of both vocabularies."""
    records = heldout.load_json_register(DEV / "register-dev.json")
    first = heldout.score_queries(
        MatchIndex.build(heldout.register_entries(records)),
        records,
        heldout.load_queries(DEV / "queries-dev.jsonl"),
    )
    print(
        f"dev (queries-dev.jsonl): recall {first.recall:.4f}   false matches {first.false_matches}"
    )
    report_v2(
        "dev v2 (queries-v2-dev.jsonl)",
        heldout_v2.score_lines(records, heldout.load_queries(DEV / "queries-v2-dev.jsonl")),
    )
    for label, vocab in (("A", heldout.VOCAB_A), ("B", heldout.VOCAB_B)):
        for seed in seeds:
            rows, queries = heldout.make_set(vocab, seed)
            scores = heldout.score_queries(
                MatchIndex.build(heldout.register_entries(rows)), rows, queries
            )
            print(
                f"held-out {label} seed {seed}: recall {scores.recall:.4f}   false matches "
                f"{scores.false_matches}"
            )
            report_v2(
                f"held-out v2 {label} seed {seed}",
                heldout_v2.score_lines(*heldout_v2.make_set(vocab, seed)),
            )


def time_build(entries: list[IndexEntry], rounds: int) -> None:
    """Index build time, best of `rounds`, with a cold normalisation cache each time."""
    best = float("inf")
    for _ in range(rounds):
        normalise_name.cache_clear()
        start = time.perf_counter()
        MatchIndex.build(entries)
        best = min(best, time.perf_counter() - start)
    print(f"  build        {len(entries)} organisations, best of {rounds}: {best * 1e3:.0f} ms")


def timing(index: MatchIndex, queries: list[dict[str, Any]], rounds: int) -> None:
    """Per-query latency by how each query was decided: best of `rounds`, so load spikes on a
    shared machine do not count. Names are new to the normalisation cache in every round."""
    texts = [q["query"] for q in queries if q["query"].strip()]
    best = [float("inf")] * len(texts)
    for _ in range(rounds):
        normalise_name.cache_clear()
        for i, text in enumerate(texts):
            start = time.perf_counter()
            index.match(text)
            best[i] = min(best[i], (time.perf_counter() - start) * 1e6)
    by_method: dict[str, list[float]] = defaultdict(list)
    for text, elapsed in zip(texts, best, strict=True):
        result = index.match(text)
        by_method[result.method or result.outcome].append(elapsed)
    for method, times in sorted(by_method.items()):
        times.sort()
        print(
            f"  {method:12} n={len(times):5}  median {statistics.median(times):8.1f} us"
            f"  p99 {times[int(0.99 * (len(times) - 1))]:8.1f} us  max {times[-1]:8.1f} us"
        )
    exact, fuzzy = by_method.get("exact"), by_method.get("fuzzy")
    if exact and fuzzy:
        ratio = statistics.median(fuzzy) / statistics.median(exact)
        print(f"  median fuzzy / median exact = {ratio:.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--register", type=Path, default=DEV / "register-dev.json")
    parser.add_argument("--queries", type=Path, default=DEV / "queries-dev.jsonl")
    parser.add_argument("--heldout", choices=("A", "B"), help="generate a held-out set instead")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timing", action="store_true", help="also time each lookup")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds (best is kept)")
    parser.add_argument("--scale", type=int, help="time on a generated register of this size")
    parser.add_argument("--v2", action="store_true", help="the v2 kinds, through the verdict")
    parser.add_argument("--all", action="store_true", help="every set, one line each")
    args = parser.parse_args()
    if args.all:
        every_set((1, 2, 3, 7, 11))
        return
    if args.v2:
        if args.heldout:
            vocab = heldout.VOCAB_A if args.heldout == "A" else heldout.VOCAB_B
            records, lines = heldout_v2.make_set(vocab, args.seed)
        else:
            records = heldout.load_json_register(args.register)
            lines = heldout.load_queries(DEV / "queries-v2-dev.jsonl")
        report_v2("v2", heldout_v2.score_lines(records, lines))
        return
    if args.scale:
        records = heldout.make_large_register(args.scale, args.seed)
        queries = heldout.make_queries(records, heldout.VOCAB_A, args.seed)
    elif args.heldout:
        vocab = heldout.VOCAB_A if args.heldout == "A" else heldout.VOCAB_B
        records, queries = heldout.make_set(vocab, args.seed)
    else:
        records = heldout.load_json_register(args.register)
        queries = heldout.load_queries(args.queries)
    entries = heldout.register_entries(records)
    start = time.perf_counter()
    index = MatchIndex.build(entries)
    print(f"{len(index)} organisations indexed in {(time.perf_counter() - start) * 1e3:.1f} ms")
    report(heldout.score_queries(index, records, queries))
    if args.timing:
        time_build(entries, args.rounds)
        timing(index, queries, args.rounds)


if __name__ == "__main__":
    main()
