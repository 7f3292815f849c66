"""Suggest (auto-completion as an analyst types in OpenRefine) and property proposals.

Entities: every name (listed, trading, former) of every listed organisation, folded like the
matcher folds names; names that start with the prefix first, then names with a word that
does, then names like it (rapidfuzz, for a typo while typing). Types and properties: the
service's own vocabulary, by id or name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from app.checks.normalise import fold_text
from app.checks.snapshot import Snapshot
from app.reconcile.schemas import (
    PropertyOut,
    ProposedProperties,
    SuggestedEntities,
    SuggestedEntity,
    SuggestedTerm,
    SuggestedTerms,
    TypeOut,
)
from app.reconcile.vocabulary import EXTEND_PROPERTIES, TYPES, TYPES_BY_ID, Term

PAGE = 10
FUZZY_CUTOFF = 80.0
FUZZY_MIN_LENGTH = 3
MAX_PREFIX = 300


@dataclass(frozen=True, slots=True)
class _Name:
    folded: str
    text: str
    organisation_id: int


@dataclass(frozen=True, slots=True)
class NameIndex:
    """Folded names of the listed organisations, for one snapshot."""

    names: tuple[_Name, ...]
    folded: tuple[str, ...]

    @classmethod
    def build(cls, snapshot: Snapshot) -> NameIndex:
        """Every name of every organisation listed now, canonical names first."""
        names: list[_Name] = []
        for org in snapshot.organisations.values():
            if org.status not in TYPES_BY_ID:
                continue
            texts = dict.fromkeys([org.name, *(text for text, _ in org.names)])
            names.extend(_Name(fold_text(text), text, org.id) for text in texts)
        return cls(tuple(names), tuple(name.folded for name in names))


def name_index(snapshot: Snapshot) -> NameIndex:
    """The snapshot's name index, built once per snapshot."""
    index: NameIndex = snapshot.memo(
        ("reconcile", "suggest-names"), lambda: NameIndex.build(snapshot)
    )
    return index


def _ranked(index: NameIndex, prefix: str) -> Iterable[_Name]:
    """Names starting with the prefix, then with a word starting with it, then like it."""
    names = index.names
    yield from (n for n in names if n.folded.startswith(prefix))
    yield from (
        n for n in names if f" {prefix}" in f" {n.folded}" and not n.folded.startswith(prefix)
    )
    if len(prefix) >= FUZZY_MIN_LENGTH:
        found = process.extract(
            prefix,
            index.folded,
            scorer=fuzz.partial_ratio,
            processor=utils.default_process,
            score_cutoff=FUZZY_CUTOFF,
            limit=None,
        )
        yield from (names[position] for _, _, position in found)


def suggest_entities(snapshot: Snapshot, prefix: str, cursor: int) -> SuggestedEntities:
    """A page of organisations for a typed prefix, each once, starting at `cursor`."""
    folded = fold_text(prefix[:MAX_PREFIX])
    if not folded:
        return SuggestedEntities(result=[])
    seen: dict[int, _Name] = {}
    for name in _ranked(name_index(snapshot), folded):
        seen.setdefault(name.organisation_id, name)
        if len(seen) >= cursor + PAGE:
            break
    page = list(seen.values())[cursor : cursor + PAGE]
    return SuggestedEntities(result=[_entity(snapshot, name) for name in page])


def _entity(snapshot: Snapshot, name: _Name) -> SuggestedEntity:
    org = snapshot.organisations[name.organisation_id]
    kind = TYPES_BY_ID[org.status]
    description = kind.name if name.text == org.name else f"{kind.name}; also {name.text}"
    return SuggestedEntity(
        id=str(org.id),
        name=org.name,
        description=description,
        notable=[TypeOut(id=kind.id, name=kind.name)],
    )


def _prefix_of(term: Term, folded: str) -> bool:
    words = fold_text(f"{term.id} {term.name}").split()
    return any(w.startswith(folded) for w in words) or fold_text(term.name).startswith(folded)


def _like(term: Term, folded: str) -> bool:
    text = fold_text(f"{term.id} {term.name}")
    return len(folded) >= FUZZY_MIN_LENGTH and fuzz.partial_ratio(folded, text) >= FUZZY_CUTOFF


def _terms(terms: Sequence[Term], prefix: str) -> SuggestedTerms:
    """Terms with a word starting with the prefix, then terms like it (all for none)."""
    folded = fold_text(prefix[:MAX_PREFIX])
    first = [t for t in terms if not folded or _prefix_of(t, folded)]
    then = [t for t in terms if t not in first and _like(t, folded)]
    return SuggestedTerms(
        result=[
            SuggestedTerm(id=t.id, name=t.name, description=t.description) for t in (*first, *then)
        ]
    )


def suggest_types(prefix: str) -> SuggestedTerms:
    """The statuses matching a typed prefix (all of them for an empty one)."""
    return _terms(TYPES, prefix)


def suggest_properties(prefix: str) -> SuggestedTerms:
    """The properties matching a typed prefix (all of them for an empty one)."""
    return _terms(EXTEND_PROPERTIES, prefix)


def propose_properties(type_id: str, limit: int | None) -> ProposedProperties:
    """The properties an organisation of this type can be extended with (every type has the
    same fields; some stay empty, e.g. a parent for a certified provider)."""
    chosen = EXTEND_PROPERTIES[:limit] if limit is not None else EXTEND_PROPERTIES
    return ProposedProperties(
        type=type_id,
        properties=[PropertyOut(id=t.id, name=t.name) for t in chosen],
        limit=limit,
    )
