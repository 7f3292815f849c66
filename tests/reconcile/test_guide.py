"""The analysts' guide explains OpenRefine with the service as it is: the URL to add, the
key in it, the properties to map and the columns to add, and its picture exists."""

from __future__ import annotations

import re
from pathlib import Path

from app.reconcile.vocabulary import EXTEND_PROPERTIES, IDENTIFIER_PROPERTIES, TYPES

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "analysts.md"


def _section() -> str:
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index("\n## Reconcile a column in OpenRefine\n")
    end = text.find("\n## ", start + 1)
    return " ".join(text[start : end if end != -1 else len(text)].split())  # unwrapped


def test_the_guide_names_what_the_service_really_offers() -> None:
    section = _section()
    for step in ("Add Standard Service", "Start Reconciling", "Add columns from reconciled"):
        assert step in section
    assert "/reconcile?api_key=" in section
    assert all(term.name in section for term in TYPES)
    assert all(f"`{pid}`" in section for pid in IDENTIFIER_PROPERTIES)
    named = {term.name for term in EXTEND_PROPERTIES}
    assert {"Status", "Valid until"} <= named
    assert all(f"**{name}**" in section for name in named)


def test_the_guides_pictures_exist() -> None:
    for target in re.findall(r"!\[[^\]]+\]\(([^)]+)\)", _section()):
        assert (GUIDE.parent / target).is_file(), target
