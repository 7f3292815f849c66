"""Cleaning scraped text and splitting a listed name into the organisation's names."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Invisible characters that sneak in from CMS editors and would split otherwise-equal names.
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}

_FORMERLY = re.compile(r"\(\s*formerly(?:\s+known\s+as)?\s*:?\s+([^()]*?)\s*\)", re.IGNORECASE)
_TRADING_AS = re.compile(r"\s+(?:t/a|trading\s+as)\s+", re.IGNORECASE)
# "X NHS Foundation Trust – Reducing Restrictive Practice Team": the organisation is the trust.
# The dash must have spaces around it, so hyphenated place names are left alone.
_NHS_TEAM = re.compile(
    r"^(?P<trust>.*\bNHS\b.*\bTrust)\s+[-\u2010-\u2015\u2212]\s+(?P<team>\S.*)$", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class SplitName:
    """A listed name split into the organisation's own name and its other names."""

    name: str
    trading_names: tuple[str, ...] = ()
    former_names: tuple[str, ...] = ()
    team: str | None = None
    """The NHS team suffix that was removed from the name, if any."""


# What strip_control_chars deletes: every control character (category Cc, exactly U+0000-U+001F
# and U+007F-U+009F) that is not whitespace, and the invisible ones. A translate table does in C
# what a per-character test did in Python (that was a sixth of the time to parse a listing).
_DELETED = {
    code: None
    for code in range(0xA0)
    if unicodedata.category(chr(code)) == "Cc" and not chr(code).isspace()
} | {ord(ch): None for ch in _INVISIBLE}


def strip_control_chars(text: str) -> str:
    """Remove NUL, other control characters and invisible format characters."""
    return text.translate(_DELETED)


def clean_text(text: str) -> str:
    """Strip control characters and collapse all whitespace (including NBSP) to single spaces."""
    # str.split() splits on every Unicode space, NBSP and narrow NBSP included.
    return " ".join(strip_control_chars(text).split())


def split_listed_name(listed_name: str) -> SplitName:
    """Split 'A t/a B (formerly C)' or 'X NHS Trust – Team' into name, trading, former names."""
    text = clean_text(listed_name)
    former = tuple(clean_text(m) for m in _FORMERLY.findall(text) if clean_text(m))
    text = clean_text(_FORMERLY.sub(" ", text))
    name, *trading = (clean_text(part) for part in _TRADING_AS.split(text))
    name, team = _split_nhs_team(name)
    return SplitName(
        name=name,
        trading_names=tuple(t for t in trading if t),
        former_names=former,
        team=team,
    )


def _split_nhs_team(name: str) -> tuple[str, str | None]:
    match = _NHS_TEAM.match(name)
    if match is None:
        return name, None
    return match["trust"], match["team"]
