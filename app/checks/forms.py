"""How forms and spreadsheets write provider names, read apart before matching.

A written name may carry, after the name itself, qualifiers that never tell one organisation
from another: a region or town (`X (North East)`, `X - Leeds office`), a team or department
(`X – Training Team`), a company or charity number (`X (Company No. 01234567)`,
`X, company number ...`, `X [Reg. ...]`). It may join two names of one organisation:
`X t/a Y`, `X trading as Y`, `X (formerly Y)`. Only qualifiers recognised as such are read
off; anything else in brackets or after a dash (`(Holdings)`, `- Care Services Ltd`) may name
another body and stays part of the name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.checks.normalise import fold_text
from app.checks.similarity import ORGANISATION_TYPE_WORDS

# Regions and nations as registers and tender returns write them (folded).
REGIONS = frozenset(
    {
        "north east",
        "north west",
        "yorkshire and the humber",
        "yorkshire and humber",
        "yorkshire",
        "east midlands",
        "west midlands",
        "midlands",
        "east of england",
        "east anglia",
        "london",
        "greater london",
        "south east",
        "south west",
        "north",
        "south",
        "east",
        "west",
        "england",
        "scotland",
        "wales",
        "northern ireland",
        "uk",
        "united kingdom",
        "great britain",
        "gb",
        "national",
        "nationwide",
    }
)
# Last words of a team, department or office ("Training Team", "Head Office").
_UNIT_WORDS = frozenset(
    "office team teams department dept unit division directorate branch site hub base hq "
    "headquarters development".split()
)
# Words that make a bracket or suffix another body, never a qualifier of this one.
_OTHER_BODY_WORDS = frozenset(
    "holdings holding group plc ltd limited llp lp cic cio inc trust trustee trustees "
    "nominee nominees properties property investments investment ventures capital "
    "enterprises enterprise charity charitable foundation partnership subsidiary "
    "liquidation administration administrator receivership dissolved company companies "
    "international global".split()
)
_NUMBER_LABEL = (
    r"(?:(?:registered\s+)?(?:company|charity)(?:\s+reg(?:istration|istered|\.)?)?"
    r"|reg(?:istration|istered)?\.?|co\.|crn)"
    r"\s*(?:no\.?|number|num\.?|#)?\s*[:.]?\s*"
)
_NUMBER = r"(?:[A-Za-z]{2})?\d{5,8}"
_COMPANY_NUMBER = re.compile(
    rf"(?:\s*[(\[]\s*(?:{_NUMBER_LABEL})?{_NUMBER}\s*[)\]]"
    rf"|\s*,?\s+(?:-\s+)?{_NUMBER_LABEL}{_NUMBER})\s*$",
    re.IGNORECASE,
)
_BRACKETED = re.compile(r"\s*[(\[]([^()\[\]]+)[)\]]\s*$")
# A dash with spaces around it; a hyphen inside a word ("Safe-Hands") is part of the name.
_DASHED = re.compile(r"\s+[-\u2010-\u2015\u2212]\s+((?:(?!\s[-\u2010-\u2015\u2212]\s).)+)$")
_JOINED = re.compile(r"\s+(?:t\s*/\s*a|t/as|trading\s+as)\.?\s+", re.IGNORECASE)
_JOINED_IN_BRACKETS = re.compile(
    r"\s*\(\s*(?:t\s*/\s*a|trading\s+as|formerly|previously|f/k/a|fka)\.?\s+([^()]+)\)\s*$",
    re.IGNORECASE,
)
_PLACE_WORD = re.compile(r"[a-z]+(?:['-][a-z]+)*")


@dataclass(frozen=True, slots=True)
class WrittenName:
    """A written name read apart: the names it gives, each without its qualifiers."""

    names: tuple[str, ...]  # one name, or the two joined by "t/a" (either may be listed)
    qualifiers: tuple[str, ...]  # what was read off, as written
    joined: bool  # True when two names were joined ("t/a", "trading as", "(formerly ...)")


def read_written_name(text: str) -> WrittenName | None:
    """The name(s) a form wrote, with recognised qualifiers read off; None when the text is
    a plain name with nothing to read apart."""
    parts = _split_joined(text.strip())
    names, qualifiers = [], []
    for part in parts:
        name, read = strip_qualifiers(part)
        names.append(name)
        qualifiers += read
    if len(parts) == 1 and not qualifiers:
        return None
    return WrittenName(tuple(names), tuple(qualifiers), len(parts) > 1)


def _split_joined(text: str) -> list[str]:
    inside = _JOINED_IN_BRACKETS.search(text)
    if inside and text[: inside.start()].strip():
        return [text[: inside.start()].strip(), inside[1].strip()]
    parts = _JOINED.split(text, maxsplit=1)
    if len(parts) == 2 and all(p.strip() for p in parts):
        return [p.strip() for p in parts]
    return [text]


def strip_qualifiers(text: str) -> tuple[str, list[str]]:
    """The name without the recognised qualifiers at its end, and those qualifiers."""
    read: list[str] = []
    while True:
        found = _COMPANY_NUMBER.search(text)
        if found is None:
            found = next(
                (m for p in (_BRACKETED, _DASHED) if (m := p.search(text)) and is_qualifier(m[1])),
                None,
            )
        if found is None or not text[: found.start()].strip():
            return text, read
        read.insert(0, found[0].strip(" ,"))
        text = text[: found.start()].rstrip(" ,")


def is_qualifier(text: str) -> bool:
    """True for a region, a town, or a team, department or office of one organisation."""
    folded = fold_text(text)
    words = folded.split()
    if not words or any(w in _OTHER_BODY_WORDS for w in words):
        return False
    if folded in REGIONS or words[-1] in _UNIT_WORDS:
        return True
    # A town or county: one to three words of letters, none saying what kind of body it is.
    return (
        len(words) <= 3
        and all(_PLACE_WORD.fullmatch(w) for w in text.casefold().split())
        and not any(w in ORGANISATION_TYPE_WORDS for w in words)
    )
