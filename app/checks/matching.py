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
from functools import lru_cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Indel

from app.checks.normalise import compact_key, fold_text, normalise_name, typo_shaped

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
_TYPO_WORD_SIM = 0.95  # word similarity credited to a typo-shaped pair
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


@lru_cache(maxsize=1 << 16)
def _word_sim(a: str, b: str) -> float:
    """How alike two words are, 0..1; cached because a register repeats its words a lot."""
    if a == b:
        return 1.0
    if typo_shaped(a, b):
        return _TYPO_WORD_SIM
    return Indel.normalized_similarity(a, b) ** 2  # squared: shared letters alone mean little


def _keep_best(slot: dict[int, _Name], item: _Name) -> None:
    """Keep, per organisation, the most canonical of its names that share one key."""
    held = slot.get(item.entry.organisation_id)
    if held is None or _KIND_RANK.get(item.name.kind, 9) < _KIND_RANK.get(held.name.kind, 9):
        slot[item.entry.organisation_id] = item


class MatchIndex:
    """Immutable name index for one registry version; safe to query from many threads."""

    __slots__ = (
        "_compact",
        "_df",
        "_exact",
        "_generic",
        "_key_names",
        "_keys",
        "_n_orgs",
        "_postings",
        "_unknown_weight",
        "_vocabulary",
        "_weights",
    )

    def __init__(self, groups: dict[str, dict[int, _Name]], df: Counter[str], n_orgs: int):
        by_org = {key: tuple(slot.values()) for key, slot in groups.items()}
        self._exact = by_org
        compact: dict[str, dict[int, _Name]] = defaultdict(dict)
        for key, items in by_org.items():
            for item in items:
                _keep_best(compact[compact_key(key)], item)
        self._compact = {key: tuple(slot.values()) for key, slot in compact.items()}
        self._keys = list(by_org)
        self._key_names = [by_org[key] for key in self._keys]
        postings: dict[str, list[int]] = defaultdict(list)
        for i, key in enumerate(self._keys):
            for word in set(key.split()):
                postings[word].append(i)
        self._postings = {w: tuple(ix) for w, ix in postings.items() if len(ix) <= _POSTINGS_CAP}
        self._df, self._n_orgs = df, n_orgs
        # Every word the register uses, joined compounds too: a query word found here is a
        # different name, never a typo of another word.
        self._vocabulary = frozenset(df).union(
            *(item.compounds for items in by_org.values() for item in items)
        )
        common = max(_COMMON_MIN_ORGS, _COMMON_SHARE * n_orgs)
        self._generic = ORGANISATION_TYPE_WORDS | {w for w, n in df.items() if n >= common}
        self._weights = {word: self._weight(word) for word in df}
        self._unknown_weight = self._weight("")

    @classmethod
    def build(cls, entries: Iterable[IndexEntry]) -> MatchIndex:
        """Index every known name of every organisation."""
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
        return cls(groups, df, len(seen))

    def __len__(self) -> int:
        return self._n_orgs

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
        query = _drop_typoed_suffix(_words(key))
        compounds = _drop_typoed_suffix(compounds)
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
        ranked = sorted(
            best.values(), key=lambda vi: (-vi[0].aligned, -vi[0].score, vi[1].entry.name)
        )
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
            if all(w in self._generic for w in item.words):
                return _review(candidates, f"{verdict.note}, in a name of generic words only")
            return _matched(item, "fuzzy", verdict.score, candidates, verdict.note)
        for verdict, item in ranked[:_MAX_CANDIDATES]:
            if self._worth_review(query, verdict, item):
                return _review(candidates, self._compare(query, item.words, True).note)
        return _not_listed("no registered name is close")

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
        indexes = {i for _, _, i in hits}
        for word in query:
            if word not in self._generic:
                indexes.update(self._postings.get(word, ()))
        return [item for i in indexes for item in self._key_names[i]]

    def _compare(
        self, query: tuple[str, ...], name: tuple[str, ...], explain: bool = False
    ) -> _Verdict:
        """Score and align; the note of a failed alignment is written only when asked for."""
        score = self._similarity(query, name)
        if len(query) != len(name):
            return _Verdict(score, False, _word_count_note(query, name) if explain else "")
        diffs = [(q, n) for q, n in zip(query, name, strict=True) if q != n]
        if not diffs:
            return _Verdict(score, True, "same words, ignoring 'and' and a mistyped 'Limited'")
        q, n = diffs[0]
        if len(diffs) == 1 and typo_shaped(q, n) and q not in self._vocabulary:
            return _Verdict(score, True, f"typo-level difference in '{n}'")
        if not explain:
            return _Verdict(score, False, "")
        if sorted(query) == sorted(name):
            return _Verdict(score, False, "same words in a different order")
        if len(diffs) > 1:
            return _Verdict(score, False, f"{len(diffs)} words differ, e.g. '{q}' vs '{n}'")
        label = "generic" if n in self._generic else "distinctive"
        return _Verdict(score, False, f"differs in {label} word '{q}' vs '{n}'")

    def _weight(self, word: str) -> float:
        # Smoothed IDF over organisations: a rare word carries identity, a common one little.
        # A word the register never uses (often a typo) counts as its rarest word.
        df = self._df.get(word, 1)
        idf = math.log((self._n_orgs + 1) / (df + 1)) + 1
        return idf * (_GENERIC_WEIGHT if word in self._generic else 1.0)

    def _coverage(self, words: tuple[str, ...], other: tuple[str, ...]) -> float:
        """Weighted share of `words` found (exactly or nearly) in `other`."""
        total = got = 0.0
        for word in words:
            weight = self._weights.get(word, self._unknown_weight)
            total += weight
            if word in other:
                got += weight
            else:
                got += weight * max([_word_sim(word, o) for o in other])
        return got / total if total else 0.0

    def _similarity(self, query: tuple[str, ...], name: tuple[str, ...]) -> float:
        """Identity-weighted F-score of the two word lists, 0..100."""
        if not query or not name:
            return 0.0
        p, r = self._coverage(query, name), self._coverage(name, query)
        return 200 * p * r / (p + r) if p + r else 0.0

    def _worth_review(self, query: tuple[str, ...], verdict: _Verdict, item: _Name) -> bool:
        """Close overall and sharing (or nearly sharing) a distinctive word."""
        if verdict.score < _REVIEW_FLOOR:
            return False
        return any(
            word not in self._generic
            and max(Indel.normalized_similarity(word, w) for w in item.words) >= _NEAR_WORD
            for word in query
        )


def _drop_typoed_suffix(words: tuple[str, ...]) -> tuple[str, ...]:
    """Drop a final "Limtied": a legal form with a typo, not part of the name."""
    return words[:-1] if len(words) > 1 and typo_shaped(words[-1], "limited") else words


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
    return MatchResult(
        MATCHED,
        method,
        round(score, 1),
        item.name.text,
        item.name.kind,
        item.entry.organisation_id,
        candidates,
        reason,
    )


def _review(candidates: tuple[Candidate, ...], reason: str) -> MatchResult:
    return MatchResult(NEEDS_REVIEW, None, None, None, None, None, candidates, reason)


def _not_listed(reason: str) -> MatchResult:
    return MatchResult(NOT_LISTED, None, None, None, None, None, (), reason)
