"""In-memory match index: exact lookups on normalised names, then a guarded fuzzy step.

Built once per registry version and only read afterwards, so one instance can serve any
number of concurrent lookups. A fuzzy candidate is auto-matched only when the query is that
name with one typo-level slip in one long word, and no other organisation fits as well:
string scores alone cannot tell "St Mary's" from "St Mark's".
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Indel

from app.checks.normalise import (
    compact_key,
    drop_mistyped_legal_form,
    fold_text,
    normalise_name,
    typo_shaped,
    word_similarity,
)

MATCHED, NEEDS_REVIEW, NOT_LISTED = "matched", "needs_review", "not_listed"
ALIAS_KINDS = frozenset({"trading", "former"})
_KIND_RANK = {"name": 0, "listed": 1, "trust": 2, "trading": 3, "former": 4}

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
_IGNORABLE = frozenset({"and"})  # "Evolve & Thrive" is "Evolve Thrive" in every sense that counts
_GENERIC_WEIGHT = 0.3  # generic words still count a little towards similarity
_SHORTLIST_SIZE, _SHORTLIST_CUTOFF, _POSTINGS_CAP = 20, 40.0, 50
_MAX_CANDIDATES, _CANDIDATE_FLOOR, _REVIEW_FLOOR, _NEAR_WORD = 5, 30.0, 50.0, 0.6


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
class Candidate:
    organisation_id: int
    name: str
    status: str
    matched_name: str
    score: float


@dataclass(frozen=True, slots=True)
class MatchResult:
    outcome: str  # "matched" | "needs_review" | "not_listed"
    method: str | None  # "exact" | "alias" | "fuzzy"; None unless matched
    score: float | None
    matched_name: str | None
    matched_kind: str | None
    organisation_id: int | None
    candidates: tuple[Candidate, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class _Name:
    """One register name of one organisation, with its comparison words."""

    entry: IndexEntry
    name: IndexName
    words: tuple[str, ...]
    compounds: tuple[str, ...]  # the words with hyphenated parts joined ("safehands")

    def candidate(self, score: float) -> Candidate:
        e = self.entry
        return Candidate(e.organisation_id, e.name, e.status, self.name.text, round(score, 1))


@dataclass(frozen=True, slots=True)
class _Verdict:
    """How a query compares with one register name."""

    score: float  # identity-weighted similarity, 0..100
    aligned: bool  # same words, at most one typo-level slip
    note: str


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


@dataclass(frozen=True, slots=True)
class _WordStats:
    """What the register's vocabulary says about each word: how much identity it carries."""

    generic: frozenset[str]
    weights: dict[str, float]
    unknown_weight: float
    vocabulary: frozenset[str]  # every word the register uses, joined compounds too

    @classmethod
    def of(cls, df: Counter[str], n_orgs: int, compounds: Iterable[str]) -> _WordStats:
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

    def coverage(self, words: tuple[str, ...], other: tuple[str, ...]) -> float:
        """Weighted share of `words` found (exactly or nearly) in `other`."""
        total = got = 0.0
        for word in words:
            weight = self.weights.get(word, self.unknown_weight)
            total += weight
            if word in other:
                got += weight
            else:
                got += weight * max([word_similarity(word, o) for o in other])
        return got / total if total else 0.0

    def similarity(self, query: tuple[str, ...], name: tuple[str, ...]) -> float:
        """Identity-weighted F-score of the two word lists, 0..100."""
        if not query or not name:
            return 0.0
        p, r = self.coverage(query, name), self.coverage(name, query)
        return 200 * p * r / (p + r) if p + r else 0.0

    def shares_distinctive_word(self, query: tuple[str, ...], name: tuple[str, ...]) -> bool:
        """True when a non-generic query word is (nearly) one of the name's words."""
        return any(
            word not in self.generic
            and max(Indel.normalized_similarity(word, w) for w in name) >= _NEAR_WORD
            for word in query
        )


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class MatchIndex:
    """Immutable name index for one registry version; safe to query from many threads."""

    _exact: dict[str, tuple[_Name, ...]]
    _compact: dict[str, tuple[_Name, ...]]  # the same names, spaces removed
    _keys: list[str]  # the exact keys, in the order rapidfuzz reports them
    _postings: dict[str, tuple[int, ...]]  # word -> positions in _keys, for rarer words
    _stats: _WordStats
    _size: int

    @classmethod
    def build(cls, entries: Iterable[IndexEntry]) -> MatchIndex:
        """Index every known name of every organisation."""
        exact, df, size = _collect(entries)
        compact: dict[str, dict[int, _Name]] = defaultdict(dict)
        postings: dict[str, list[int]] = defaultdict(list)
        for i, (key, items) in enumerate(exact.items()):
            for item in items:
                _keep_best(compact[compact_key(key)], item)
            for word in set(key.split()):
                postings[word].append(i)
        compounds = (w for items in exact.values() for item in items for w in item.compounds)
        return cls(
            exact,
            {key: tuple(slot.values()) for key, slot in compact.items()},
            list(exact),
            {w: tuple(ix) for w, ix in postings.items() if len(ix) <= _POSTINGS_CAP},
            _WordStats.of(df, size, compounds),
            size,
        )

    def __len__(self) -> int:
        return self._size

    def match(self, query: str) -> MatchResult:
        """Find the organisation a free-text name refers to, or say why not."""
        key = normalise_name(query)
        if not key:
            return _not_listed("no name left after removing legal form and punctuation")
        hit = self._exact.get(key)
        if hit:
            return _exact_result(hit, "exact match after normalisation")
        hit = self._compact.get(compact_key(key))
        if hit:
            return _exact_result(hit, "exact match ignoring spaces")
        return self._fuzzy(key, _words(normalise_name(query, join_compounds=True)))

    def _fuzzy(self, key: str, compounds: tuple[str, ...]) -> MatchResult:
        query = drop_mistyped_legal_form(_words(key))
        ranked = self._rank(query, drop_mistyped_legal_form(compounds), key)
        candidates = tuple(
            item.candidate(v.score)
            for v, item in ranked
            if v.aligned or v.score >= _CANDIDATE_FLOOR
        )[:_MAX_CANDIDATES]
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
                return _review(candidates, self._compare(query, item.words, True).note)
        return _not_listed("no registered name is close")

    def _rank(
        self, query: tuple[str, ...], compounds: tuple[str, ...], key: str
    ) -> list[tuple[_Verdict, _Name]]:
        """Each shortlisted organisation's best name, aligned ones first, then by score."""
        best: dict[int, tuple[_Verdict, _Name]] = {}
        for item in self._shortlist(key, query):
            verdict = self._compare(query, item.words)
            if not verdict.aligned and compounds != query:
                # "Safe-Hadns" is a slip in the long word "Safe-Hands", not in "Hands".
                joined = self._compare(compounds, item.compounds)
                verdict = joined if joined.aligned else verdict
            held = best.get(item.entry.organisation_id)
            if held is None or (verdict.aligned, verdict.score) > (held[0].aligned, held[0].score):
                best[item.entry.organisation_id] = (verdict, item)
        return sorted(
            best.values(), key=lambda vi: (-vi[0].aligned, -vi[0].score, vi[1].entry.name)
        )

    def _shortlist(self, key: str, query: tuple[str, ...]) -> list[_Name]:
        """Names close as whole strings, plus names sharing a distinctive query word."""
        hits = process.extract(
            key,
            self._keys,
            scorer=fuzz.ratio,
            processor=None,
            limit=_SHORTLIST_SIZE,
            score_cutoff=_SHORTLIST_CUTOFF,
        )
        positions = {i for _, _, i in hits}
        for word in query:
            if word not in self._stats.generic:
                positions.update(self._postings.get(word, ()))
        return [item for i in positions for item in self._exact[self._keys[i]]]

    def _compare(
        self, query: tuple[str, ...], name: tuple[str, ...], explain: bool = False
    ) -> _Verdict:
        """Score and align; the note of a failed alignment is written only when asked for."""
        score = self._stats.similarity(query, name)
        if len(query) != len(name):
            return _Verdict(score, False, _word_count_note(query, name) if explain else "")
        diffs = [(q, n) for q, n in zip(query, name, strict=True) if q != n]
        if not diffs:
            return _Verdict(score, True, "same words, ignoring 'and' and a mistyped 'Limited'")
        q, n = diffs[0]
        # A word the register itself uses is a different name, never a typo of another.
        if len(diffs) == 1 and typo_shaped(q, n) and q not in self._stats.vocabulary:
            return _Verdict(score, True, f"typo-level difference in '{n}'")
        if not explain:
            return _Verdict(score, False, "")
        if sorted(query) == sorted(name):
            return _Verdict(score, False, "same words in a different order")
        if len(diffs) > 1:
            return _Verdict(score, False, f"{len(diffs)} words differ, e.g. '{q}' vs '{n}'")
        label = "generic" if n in self._stats.generic else "distinctive"
        return _Verdict(score, False, f"differs in {label} word '{q}' vs '{n}'")


def _word_count_note(query: tuple[str, ...], name: tuple[str, ...]) -> str:
    extra = sorted((Counter(query) - Counter(name)).elements())
    missing = sorted((Counter(name) - Counter(query)).elements())
    parts = [f"extra word(s) {' '.join(extra)!r}"] if extra else []
    parts += [f"missing word(s) {' '.join(missing)!r}"] if missing else []
    return "; ".join(parts)


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
