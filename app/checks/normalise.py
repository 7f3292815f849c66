"""What counts as the same name, and as a typo of the same word.

Names: the Companies House "same as" idea. Two names that normalise to the same string are
the same name. The rules only remove differences that never tell one organisation from
another (case, accents, punctuation, apostrophes, "&" vs "and", a leading "The", legal-form
suffixes, NHS FT spelling); anything that can carry identity is kept.

Words: `typo_shaped` says whether two different words differ by one slip of the fingers in a
word long enough that the slip cannot plausibly be another name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from anyascii import anyascii
from rapidfuzz import process
from rapidfuzz.distance import Indel, Levenshtein

# Removed before NFKC, because NFKC turns "™" into "TM" and anyascii turns "®" into "(R)".
_MARKS = re.compile("[\u00ae\u00a9\u2122\u2120]")
# Apostrophes of every style: "St Mary's" must equal "St Marys" (anyascii maps curly ones to ').
_APOSTROPHES = re.compile(r"['`\u00b4\u2018\u2019\u02bc]")
# A "+" or "&" that opens or closes a name is decoration ("+Positive Minds"), not a conjunction.
_EDGE_SYMBOLS = re.compile(r"^[\s&+]+|[\s&+]+$")
_CONJUNCTION = re.compile(r"[&+]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# Punctuation inside a word ("Safe-Hands", "N.H.S", "t/a"): joined in the compound form.
_INNER_PUNCT = re.compile(r"(?<=[a-z0-9])[-./](?=[a-z0-9])")
# Runs of single letters come from dotted acronyms ("N.H.S.", "B I L D"): join them.
_LETTER_RUN = re.compile(r"\b(?:[a-z] )+[a-z]\b")

# Legal-form endings, longest first; they say what kind of company it is, never which one.
_LEGAL_SUFFIXES: tuple[tuple[str, ...], ...] = (
    ("community", "interest", "company"),
    ("public", "limited", "company"),
    ("limited", "liability", "partnership"),
    ("charitable", "incorporated", "organisation"),
    ("and", "company"),
    ("cyfyngedig",),
    ("limited",),
    ("ltd",),
    ("plc",),
    ("llp",),
    ("lp",),
    ("cic",),
    ("cio",),
    ("cyf",),
)
_SUFFIX_ENDS = frozenset(suffix[-1] for suffix in _LEGAL_SUFFIXES)
# Whole-token spellings that mean the same thing, US spellings in their British form.
_TOKEN_SYNONYMS = {
    "saint": "st",
    "co": "company",
    "fdn": "foundation",
    "behavior": "behaviour",
    "behaviors": "behaviours",
    "behavioral": "behavioural",
    "center": "centre",
    "centers": "centres",
    "program": "programme",
    "programs": "programmes",
    "counseling": "counselling",
    "counselor": "counsellor",
    "counselors": "counsellors",
    "defense": "defence",
    "license": "licence",
}
# "-ize" endings of longer words ("Organization", "Specialized"), spelt "-ise".
_US_IZE = re.compile(r"(?<=\w{3})iz(ation|ations|e|ed|es|ing)$")
_TYPO_WORD_SIMILARITY = 0.95  # credited to a typo-shaped pair of words
# Typo-level slips: a swap of adjacent letters or a doubled/undoubled letter from 6 letters;
# any other single edit (first letter kept) from 10. Shorter words are names, not slips.
_MIN_LEN_SLIP, _MIN_LEN_EDIT = 6, 10
# "NHS FT" is spelt out, applied anywhere in the name (a team suffix may follow the trust
# name); the long form keeps a typo in "Foundation" a typo in one word.
_NHS_FT = re.compile(r"\bnhs ft\b")


def fold_text(text: str, join_compounds: bool = False) -> str:
    """Case-, accent- and punctuation-folded text with single spaces; words are kept."""
    if not text.isascii():  # both steps leave ASCII as it is: most names skip them
        text = anyascii(unicodedata.normalize("NFKC", _MARKS.sub("", text)))
    text = text.casefold()
    text = _APOSTROPHES.sub("", text)
    if join_compounds:
        text = _INNER_PUNCT.sub("", text)
    text = _EDGE_SYMBOLS.sub(" ", text)
    text = _CONJUNCTION.sub(" and ", text)
    text = _NON_ALNUM.sub(" ", text).strip()
    return _LETTER_RUN.sub(lambda m: m.group(0).replace(" ", ""), text)


@lru_cache(maxsize=65536)
def normalise_name(text: str, join_compounds: bool = False) -> str:
    """Normalised form of an organisation name; equal forms mean "the same name".

    With join_compounds, "Safe-Hands" gives "safehands" rather than "safe hands": the form in
    which a hyphenated name counts as the one long word its writer typed.
    """
    words = [_british(w) for w in fold_text(text, join_compounds).split()]
    if words and words[0] == "the":
        words = words[1:]
    words = _strip_legal_suffixes(words)
    return _NHS_FT.sub("nhs foundation trust", " ".join(words))


def _british(word: str) -> str:
    """The word in its British spelling, and "saint" as "st" (whole words only)."""
    word = _TOKEN_SYNONYMS.get(word, word)
    return _US_IZE.sub(r"is\1", word) if len(word) >= 7 and "iz" in word else word


def _strip_legal_suffixes(words: list[str]) -> list[str]:
    """Drop legal-form endings repeatedly ("... LLP Ltd" loses both)."""
    stripped = True
    while stripped and words and words[-1] in _SUFFIX_ENDS:
        stripped = False
        for suffix in _LEGAL_SUFFIXES:
            n = len(suffix)
            # "and company" only as a tail after a name, never as the whole name.
            if tuple(words[-n:]) == suffix and (len(words) > n or suffix[0] != "and"):
                words = words[:-n]
                stripped = True
                break
    return words


def name_tokens(text: str) -> tuple[str, ...]:
    """The words of the normalised name."""
    return tuple(normalise_name(text).split())


def as_written(text: str) -> str:
    """A name as a person types it, for telling apart names that normalise alike: only case
    and runs of whitespace do not count ("+X Training" is not "X Training Ltd")."""
    return " ".join(text.casefold().split())


def compact_key(normalised: str) -> str:
    """A normalised name without spaces, so "Beacon-Path" equals "BeaconPath"."""
    return normalised.replace(" ", "")


def _is_swap(a: str, b: str) -> bool:
    """True when b is a with two adjacent letters exchanged."""
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and a[diff[0]] == b[diff[1]]
        and a[diff[1]] == b[diff[0]]
    )


def _is_doubling(a: str, b: str) -> bool:
    """True when one word is the other with one letter doubled ("Traiining", "Asociates")."""
    long, short = (a, b) if len(a) > len(b) else (b, a)
    if len(long) != len(short) + 1:
        return False
    i = next((k for k in range(len(short)) if long[k] != short[k]), len(short))
    return i > 0 and long[i] == long[i - 1] and long[i + 1 :] == short[i:]


def _digits(word: str) -> list[str]:
    return [c for c in word if c.isdigit()]


def typo_shaped(a: str, b: str) -> bool:
    """True when two different words differ by one slip of the fingers in a long word."""
    shortest = min(len(a), len(b))
    if shortest < _MIN_LEN_SLIP:
        return False  # "Mark"/"Mary", "Kent"/"Trent": short words are names, not slips
    if not (a.isalpha() and b.isalpha()) and _digits(a) != _digits(b):
        return False  # numbers identify: "Unit12" is not "Unit21", "Care4Kids" may be mistyped
    if _is_swap(a, b) or _is_doubling(a, b):
        return True
    # Any other single edit only in very long words, where it rarely makes another real name.
    return shortest >= _MIN_LEN_EDIT and a[0] == b[0] and Levenshtein.distance(a, b) == 1


def word_similarities(words: Sequence[str], vocabulary: Sequence[str]) -> np.ndarray:
    """How alike each of `words` is to each word of `vocabulary`, 0..1 (a len(words) x
    len(vocabulary) matrix): 1 for the same word, a fixed credit for a typo-shaped pair, else
    the squared Indel similarity (squared: shared letters alone mean little).

    One C call scores every pair; typo_shaped is asked only of the pairs one or two
    insertions or deletions apart, which every typo-shaped pair is (a swap or a substitution
    is two, a doubled letter one).
    """
    distances = process.cdist(words, vocabulary, scorer=Indel.distance, processor=None)
    lengths = np.add.outer(
        np.fromiter(map(len, words), np.int64, len(words)),
        np.fromiter(map(len, vocabulary), np.int64, len(vocabulary)),
    )
    similar = 1.0 - np.divide(distances, lengths, out=np.zeros(lengths.shape), where=lengths > 0)
    similar **= 2
    for i, j in zip(*np.nonzero((distances > 0) & (distances <= 2)), strict=True):
        if typo_shaped(words[i], vocabulary[j]):
            similar[i, j] = _TYPO_WORD_SIMILARITY
    return similar


def drop_mistyped_legal_form(words: tuple[str, ...]) -> tuple[str, ...]:
    """Drop a final "Limtied": a legal form with a typo, not part of the name."""
    return words[:-1] if len(words) > 1 and typo_shaped(words[-1], "limited") else words
