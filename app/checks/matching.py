"""In-memory match index: exact lookups on normalised names, then a guarded fuzzy step.

Built once per registry version and only read afterwards, so one instance can serve any
number of concurrent lookups. A fuzzy candidate is auto-matched only when the query is that
name with one typo-level slip in one long word, and no other organisation fits as well:
string scores alone cannot tell "St Mary's" from "St Mark's".
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import count, islice

from app.checks.forms import read_written_name
from app.checks.match_results import MATCHED, NEEDS_REVIEW, NOT_LISTED, Candidate, MatchResult
from app.checks.normalise import compact_key, drop_mistyped_legal_form, fold_text, normalise_name
from app.checks.scoring import NameScorer, Scored
from app.checks.shortlist import closest
from app.checks.similarity import Verdict, WordStats
from app.checks.written import resolve_written

__all__ = [
    "MATCHED",
    "NEEDS_REVIEW",
    "NOT_LISTED",
    "Candidate",
    "IndexEntry",
    "IndexName",
    "MatchIndex",
    "MatchResult",
]
ALIAS_KINDS = frozenset({"trading", "former"})
_KIND_RANK = {"name": 0, "listed": 1, "trust": 2, "trading": 3, "former": 4}

_IGNORABLE = frozenset({"and"})  # "Evolve & Thrive" is "Evolve Thrive" in every sense that counts
_POSTINGS_CAP = 50
_MAX_CANDIDATES, _CANDIDATE_FLOOR, _REVIEW_FLOOR = 5, 30.0, 50.0


@dataclass(frozen=True, slots=True)
class IndexName:
    text: str  # the name as the register lists it
    kind: str  # "listed" | "name" | "trading" | "former" | "trust"


@dataclass(frozen=True, slots=True)
class IndexEntry:
    organisation_id: int
    name: str  # canonical display name
    status: str  # certified | affiliate | working_towards
    names: tuple[IndexName, ...]  # every known name incl. the canonical one


@dataclass(frozen=True, slots=True)
class _Name:
    """One register name of one organisation, with its comparison words."""

    entry: IndexEntry
    name: IndexName
    words: tuple[str, ...]
    compounds: tuple[str, ...]  # the words with hyphenated parts joined ("safehands")
    position: int = -1  # among all the index's names: its row in the index's NameScorer

    def candidate(self, score: float) -> Candidate:
        e = self.entry
        return Candidate(e.organisation_id, e.name, e.status, self.name.text, round(score, 1))


def _words(normalised: str) -> tuple[str, ...]:
    return tuple(w for w in normalised.split() if w not in _IGNORABLE)


def _keep_best(slot: dict[int, _Name], item: _Name) -> None:
    """Keep, per organisation, the most canonical of its names that share one key."""
    held = slot.get(item.entry.organisation_id)
    if held is None or _KIND_RANK.get(item.name.kind, 9) < _KIND_RANK.get(held.name.kind, 9):
        slot[item.entry.organisation_id] = item


def _collect(
    entries: Iterable[IndexEntry],
) -> tuple[dict[str, tuple[_Name, ...]], Counter[str], int]:
    """Names by normalised form, each word's count of organisations, the organisation count."""
    groups: dict[str, dict[int, _Name]] = defaultdict(dict)
    df: Counter[str] = Counter()
    seen: set[int] = set()
    for entry in entries:
        if entry.organisation_id in seen:
            raise ValueError(f"duplicate organisation_id {entry.organisation_id}")
        seen.add(entry.organisation_id)
        names = entry.names
        if all(n.text != entry.name for n in names):
            names = (IndexName(entry.name, "name"), *names)
        org_words: set[str] = set()
        for name in names:
            # A name made only of a legal form ("Ltd") still gets a key of its own.
            key = normalise_name(name.text) or fold_text(name.text)
            if key:
                compounds = _words(normalise_name(name.text, join_compounds=True) or key)
                _keep_best(groups[key], _Name(entry, name, _words(key), compounds))
                org_words.update(key.split())
        df.update(org_words)
    return {key: tuple(slot.values()) for key, slot in groups.items()}, df, len(seen)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class MatchIndex:
    """Immutable name index for one registry version; safe to query from many threads."""

    _exact: dict[str, tuple[_Name, ...]]
    _compact: dict[str, tuple[_Name, ...]]  # the same names, spaces removed
    _keys: list[str]  # the exact keys, in the order rapidfuzz reports them
    _postings: dict[str, tuple[int, ...]]  # word -> positions in _keys, for rarer words
    _stats: WordStats
    _scorer: NameScorer
    _size: int
    # Exact answers already given, by register key (at most one per key of _exact and of
    # _compact): immutable, and the same for every query that normalises to the key.
    _exact_answers: dict[str, MatchResult] = field(default_factory=dict)
    _compact_answers: dict[str, MatchResult] = field(default_factory=dict)

    @classmethod
    def build(cls, entries: Iterable[IndexEntry]) -> MatchIndex:
        """Index every known name of every organisation."""
        exact, df, size = _collect(entries)
        counter = count()
        exact = {
            key: tuple(replace(item, position=next(counter)) for item in items)
            for key, items in exact.items()
        }
        compact: dict[str, dict[int, _Name]] = defaultdict(dict)
        postings: dict[str, list[int]] = defaultdict(list)
        for i, (key, items) in enumerate(exact.items()):
            for item in items:
                _keep_best(compact[compact_key(key)], item)
            for word in set(key.split()):
                postings[word].append(i)
        names = [item for items in exact.values() for item in items]
        stats = WordStats.of(df, size, (w for item in names for w in item.compounds))
        return cls(
            exact,
            {key: tuple(slot.values()) for key, slot in compact.items()},
            list(exact),
            {w: tuple(ix) for w, ix in postings.items() if len(ix) <= _POSTINGS_CAP},
            stats,
            NameScorer([item.words for item in names], stats),
            size,
        )

    def __len__(self) -> int:
        return self._size

    def match(self, query: str) -> MatchResult:
        """Find the organisation a free-text name refers to, or say why not."""
        return self.match_many((query,))[0]

    def match_many(self, queries: Sequence[str]) -> list[MatchResult]:
        """`match` for each query, in order.

        A name not matched as written is read as forms write names (app/checks/forms.py):
        its parts without qualifiers, or the two names joined by "t/a", are matched too, and
        app/checks/written.py decides from all of them.
        """
        results = self._match_plain(queries)
        written = {
            i: form
            for i, (query, result) in enumerate(zip(queries, results, strict=True))
            if result.outcome != MATCHED and (form := read_written_name(query)) is not None
        }
        if written:
            parts = list(dict.fromkeys(n for form in written.values() for n in form.names))
            found = dict(zip(parts, self._match_plain(parts), strict=True))
            for i, form in written.items():
                results[i] = resolve_written(form, results[i], found)
        return results

    def _match_plain(self, queries: Sequence[str]) -> list[MatchResult]:
        """Each query matched as one name: exactly, else by the guarded fuzzy step.

        The names that need the fuzzy step are scored together: their whole-string scores
        in one C call per block (app/checks/shortlist.py), their word scores in a few array
        operations per block (NameScorer.score_many).
        """
        keys = [normalise_name(query) for query in queries]
        results = [self._exactly(key) for key in keys]
        todo = [i for i, result in enumerate(results) if result is None]
        words = [drop_mistyped_legal_form(_words(keys[i])) for i in todo]
        shortlists = [
            self._shortlist(close, query)
            for close, query in zip(
                closest([keys[i] for i in todo], self._keys), words, strict=True
            )
        ]
        scores = self._scorer.score_many(
            words, [[item.position for item in items] for items in shortlists]
        )
        for i, query, items, scored in zip(todo, words, shortlists, scores, strict=True):
            compounds = _words(normalise_name(queries[i], join_compounds=True))
            results[i] = self._fuzzy(query, drop_mistyped_legal_form(compounds), items, scored)
        return [result for result in results if result is not None]

    def _exactly(self, key: str) -> MatchResult | None:
        """The answer when no fuzzy step is needed: no name left, or an exact key."""
        if not key:
            return _not_listed("no name left after removing legal form and punctuation")
        if (known := self._exact_answers.get(key)) is not None:
            return known
        hit = self._exact.get(key)
        if hit:
            result = self._exact_answers[key] = _exact_result(
                hit, "exact match after normalisation"
            )
            return result
        compact = compact_key(key)
        if (known := self._compact_answers.get(compact)) is not None:
            return known
        hit = self._compact.get(compact)
        if hit:
            result = self._compact_answers[compact] = _exact_result(
                hit, "exact match ignoring spaces"
            )
            return result
        return None

    def _fuzzy(
        self, query: tuple[str, ...], compounds: tuple[str, ...], items: list[_Name], scored: Scored
    ) -> MatchResult:
        """The fuzzy step's answer for a query's words, given its shortlist and their
        scores."""
        ranked = self._rank(query, compounds, items, scored)
        candidates = tuple(
            islice(
                (
                    item.candidate(v.score)
                    for v, item in ranked
                    if v.aligned or v.score >= _CANDIDATE_FLOOR
                ),
                _MAX_CANDIDATES,
            )
        )
        aligned = [vi for vi in ranked if vi[0].aligned]
        if len(aligned) > 1:
            return _review(candidates, f"close to {len(aligned)} organisations")
        if aligned:
            verdict, item = aligned[0]
            if all(w in self._stats.generic for w in item.words):
                return _review(candidates, f"{verdict.note}, in a name of generic words only")
            return _matched(item, "fuzzy", verdict.score, candidates, verdict.note)
        for verdict, item in ranked[:_MAX_CANDIDATES]:
            if verdict.score >= _REVIEW_FLOOR and self._stats.shares_distinctive_word(
                query, item.words
            ):
                note = self._stats.judge(query, item.words, verdict.score, True).note
                return _review(candidates, note)
        return _not_listed("no registered name is close")

    def _rank(
        self, query: tuple[str, ...], compounds: tuple[str, ...], items: list[_Name], scored: Scored
    ) -> list[tuple[Verdict, _Name]]:
        """Each shortlisted organisation's best name, aligned ones first, then by score: every
        aligned organisation, and the best few of the others (all the fuzzy step looks at)."""
        scores = scored.scores
        # A hyphenated query may align by its joined compounds instead: try every name.
        alignable = scored.alignable if compounds == query else range(len(items))
        aligned: dict[int, tuple[Verdict, _Name]] = {}
        for i in alignable:
            verdict = self._verdict(query, compounds, items[i], scores[i])
            held = aligned.get(items[i].entry.organisation_id)
            if verdict.aligned and (held is None or verdict.score > held[0].score):
                aligned[items[i].entry.organisation_id] = (verdict, items[i])
        return sorted(aligned.values(), key=_rank_key) + self._best_others(items, scores, aligned)

    def _best_others(
        self, items: list[_Name], scores: list[float], aligned: Mapping[int, object]
    ) -> list[tuple[Verdict, _Name]]:
        """The best-scoring organisations that did not align, one name each (its best), as
        many as become candidates, ties by name."""
        best: dict[int, int] = {}
        # Best first, ties in shortlist order (reverse=True keeps a sort stable).
        for i in sorted(range(len(items)), key=scores.__getitem__, reverse=True):
            org = items[i].entry.organisation_id
            if len(best) >= _MAX_CANDIDATES and scores[i] < scores[list(best.values())[-1]]:
                break
            if org not in aligned and org not in best:
                best[org] = i
        ranked = [(Verdict(scores[i], False, ""), items[i]) for i in best.values()]
        return sorted(ranked, key=_rank_key)[:_MAX_CANDIDATES]

    def _verdict(
        self, query: tuple[str, ...], compounds: tuple[str, ...], item: _Name, score: float
    ) -> Verdict:
        """Aligned or not (only names of as many words can be); the score is known."""
        if len(item.words) == len(query):
            verdict = self._stats.judge(query, item.words, score)
            if verdict.aligned:
                return verdict
        # "Safe-Hadns" is a slip in the long word "Safe-Hands", not in "Hands".
        if (
            compounds != query
            and len(item.compounds) == len(compounds)
            and self._stats.judge(compounds, item.compounds, 0.0).aligned
        ):
            return self._stats.compare(compounds, item.compounds)
        return Verdict(score, False, "")

    def _shortlist(self, close: list[int], query: tuple[str, ...]) -> list[_Name]:
        """Names close as whole strings, plus names sharing a distinctive query word."""
        positions = set(close)
        for word in query:
            if word not in self._stats.generic:
                positions.update(self._postings.get(word, ()))
        return [item for i in positions for item in self._exact[self._keys[i]]]


def _rank_key(ranked: tuple[Verdict, _Name]) -> tuple[float, str]:
    return -ranked[0].score, ranked[1].entry.name


def _exact_result(items: tuple[_Name, ...], reason: str) -> MatchResult:
    candidates = tuple(item.candidate(100.0) for item in items)
    if len(items) > 1:
        return _review(candidates[:_MAX_CANDIDATES], f"{len(items)} organisations share this name")
    item = items[0]
    if item.name.kind in ALIAS_KINDS:
        return _matched(item, "alias", 100.0, candidates, f"exact match on a {item.name.kind} name")
    return _matched(item, "exact", 100.0, candidates, reason)


def _matched(
    item: _Name, method: str, score: float, candidates: tuple[Candidate, ...], reason: str
) -> MatchResult:
    where = (item.name.text, item.name.kind, item.entry.organisation_id)
    return MatchResult(MATCHED, method, round(score, 1), *where, candidates, reason)


def _review(candidates: tuple[Candidate, ...], reason: str) -> MatchResult:
    return MatchResult(NEEDS_REVIEW, None, None, None, None, None, candidates, reason)


def _not_listed(reason: str) -> MatchResult:
    return MatchResult(NOT_LISTED, None, None, None, None, None, (), reason)
