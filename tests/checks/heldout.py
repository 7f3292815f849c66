"""Held-out register and query sets in the style of shared/eval, with different vocabulary.

The dev set's names are built from a few word lists (places, saints, "brand" words, business
words) and templates; the queries are variants (case, spacing, typos, suffixes, aliases) and
decoys (one distinctive word swapped, generic names). This module builds sets the same way
from vocabularies that share no distinctive word with the dev set, so a matcher tuned to the
dev lines shows it here. Also home of the loader that turns register records into entries.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.checks.matching import IndexEntry, IndexName, MatchIndex, MatchResult
from app.checks.normalise import normalise_name


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


@dataclass(frozen=True)
class Vocabulary:
    brands: tuple[str, ...]  # first words of company names ("Anchor", "Willow")
    nouns: tuple[str, ...]  # second words ("Journeys", "Outcomes")
    places: tuple[str, ...]
    saints: tuple[str, ...]  # possessive form is added by the templates
    # Pairs that differ by a letter or two: the hardest decoys ("St Mark's" vs "St Mary's").
    near_places: tuple[tuple[str, str], ...]
    near_saints: tuple[tuple[str, str], ...]
    generic: tuple[str, ...]


VOCAB_A = Vocabulary(
    brands=_words(
        "Anchor Willow Summit Gentle Unity Meadow Lantern Haven Sterling Radiant Kestrel "
        "Maple Silver Guiding Insight"
    ),
    nouns=_words(
        "Journeys Outcomes Choices Circles Routes Skills Insights Roots Pathfinders Links "
        "Hearts Gateways Springs"
    ),
    places=_words(
        "Tamar Ribble Cheviot Exmoor Pendle Wealden Tees Avon Kent Dorset Derwent "
        "Quantock Malvern Purbeck Eden"
    ),
    saints=_words("Mary John Hilda Aidan Columba Bridget Edmund Alban"),
    near_places=(("Kent", "Trent"), ("Avon", "Aven"), ("Tees", "Test"), ("Tamar", "Tamer")),
    near_saints=(("Mary", "Mark"), ("John", "Joan"), ("Hilda", "Hilde"), ("Aidan", "Adan")),
    generic=(
        "Training",
        "NHS Trust",
        "County Council",
        "Academy Trust",
        "Care Provider Ltd",
        "Restraint Training Ltd",
        "Positive Behaviour Support Training",
        "y",
        "Limited",
        "Learning Disability Services",
        "St School",
    ),
)

VOCAB_B = Vocabulary(
    brands=_words(
        "Oakwood Harmony Beacon-Light Cornerstone Evergreen Northstar Tranquil Horizon "
        "Lighthouse Riverside Woodland Pinnacle Kingfisher Highfield Wellspring"
    ),
    nouns=_words(
        "Wellbeing Progress Potential Support Learning Development Guidance Resilience "
        "Empowerment Partners Outreach Alliance"
    ),
    places=_words(
        "Sefton Wrekin Fylde Craven Breckland Teesdale Arun Hart Rother Wyre Selby "
        "Ryedale Tandridge Bassetlaw Rutland"
    ),
    saints=_words("Peter Paul Patrick Swithun Dunstan Wilfrid Edward Agnes"),
    near_places=(("Hart", "Harp"), ("Selby", "Shelby"), ("Arun", "Aran"), ("Wyre", "Wye")),
    near_saints=(
        ("Peter", "Pieter"),
        ("Paul", "Saul"),
        ("Patrick", "Patrice"),
        ("Dunstan", "Dunstane"),
    ),
    generic=(
        "Services",
        "NHS Foundation Trust",
        "Borough Council",
        "Care Group",
        "Consultancy",
        "Training Services Ltd",
        "Behaviour Support",
        "z",
        "Plc",
        "School",
        "CIC",
    ),
)


def _certified(v: Vocabulary, rng: random.Random) -> list[dict[str, Any]]:
    """Certified training services, in the dev set's templates."""
    rows: list[dict[str, Any]] = []
    b, n, p = list(v.brands), list(v.nouns), list(v.places)
    for i in range(8):
        rows.append({"name": f"{b[i]} & {b[(i + 3) % len(b)]} Training Ltd"})
        rows.append({"name": f"The {b[(i + 5) % len(b)]} {n[i % len(n)]} Partnership"})
        rows.append({"name": f"{p[i]} Behaviour Support Services"})
        rows.append({"name": f"{b[(i + 7) % len(b)]} {n[(i + 4) % len(n)]} Limited"})
    for place in p[8:12]:
        trust = f"{place} NHS Foundation Trust"
        rows.append({"name": trust, "listed_name": f"{trust} – Reducing Restrictive Practice Team"})
    for place in p[:4]:
        rows.append({"name": f"{place} Positive Behaviour Consultancy CIC"})
    rows.append({"name": f"{b[9]}‑{n[2]} Consultancy"})  # non-breaking hyphen, as in dev
    rows.append({"name": "D'Arcy & Okafor Associates LLP"})
    rows.append({"name": f"{b[10]}® Training Ltd"})
    rows.append({"name": f"+{b[11]} {n[3]} Training"})
    rows.append({"name": "CALMER uk"})
    _add_aliases(rows, v, rng)
    return rows


def _add_aliases(rows: list[dict[str, Any]], v: Vocabulary, rng: random.Random) -> None:
    """Give some organisations a trading name and some a former name, in the listed name."""
    used: set[str] = set()
    for row in rng.sample(rows, 10):
        trading = rng.random() < 0.5
        if trading:
            alias = f"{rng.choice(v.brands).replace('-', '')}{rng.choice(('Care', 'Way'))} Training"
        else:
            alias = f"{rng.choice(v.places)} {rng.choice(v.nouns)} Ltd"
        if "listed_name" in row or alias in used:
            continue  # the dev set never gives two organisations one alias
        used.add(alias)
        link = "t/a" if trading else "(formerly"
        row["listed_name"] = f"{row['name']} {link} {alias}" + ("" if trading else ")")
        row["aliases"] = [alias]


def _affiliates(v: Vocabulary) -> list[dict[str, Any]]:
    b, n, p = v.brands, v.nouns, v.places
    rows = [{"name": f"{place} County Council"} for place in p[:5]]
    rows += [{"name": f"St {saint}'s School"} for saint in v.saints[:5]]
    rows += [{"name": f"{place} Care Group"} for place in p[5:10]]
    rows += [{"name": f"{place} Academy Trust"} for place in p[10:14]]
    rows += [{"name": f"{b[i]} {n[i]} Care Limited"} for i in range(6)]
    rows += [{"name": f"{b[i]} Homes Ltd"} for i in range(6, 9)]
    rows += [{"name": f"{b[i]} Lives Support CIC"} for i in range(9, 11)]
    return rows


def _working_towards(v: Vocabulary) -> list[dict[str, Any]]:
    kinds = ("Consulting", "Associates", "Training")
    return [
        {"name": f"{v.brands[i]} {v.nouns[(i + 6) % len(v.nouns)]} {kinds[i % 3]} Ltd"}
        for i in range(2, 14)
    ]


def make_register(v: Vocabulary, seed: int) -> list[dict[str, Any]]:
    """A register of about 100 organisations in the dev set's JSON shape."""
    rng = random.Random(seed)
    certified = _certified(v, rng)
    rows = [dict(r, status="certified") for r in certified]
    for r in _affiliates(v):
        rows.append(dict(r, status="affiliate", parent=rng.choice(certified)["name"]))
    rows += [dict(r, status="working_towards") for r in _working_towards(v)]
    names: set[str] = set()
    unique = []
    for row in rows:
        if row["name"] not in names:
            names.add(row["name"])
            unique.append({"aliases": [], **row})
    return unique


def load_json_register(path: Path) -> list[dict[str, Any]]:
    """Register records from a JSON file in the shared/eval shape."""
    records: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return records


def load_queries(path: Path) -> list[dict[str, Any]]:
    """Queries from a JSONL file in the shared/eval shape."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def register_entries(records: Iterable[dict[str, Any]]) -> list[IndexEntry]:
    """Index entries from register records: canonical, listed, trading and former names."""
    entries = []
    for i, rec in enumerate(records, start=1):
        names = [IndexName(rec["name"], "name")]
        listed = rec.get("listed_name") or rec["name"]
        if listed != rec["name"]:
            names.append(IndexName(listed, "listed"))
        for alias in rec.get("aliases", []):
            former = f"(formerly {alias}" in listed
            names.append(IndexName(alias, "former" if former else "trading"))
        entries.append(IndexEntry(i, rec["name"], rec["status"], tuple(names)))
    return entries


def _typo(name: str, rng: random.Random) -> str | None:
    """Swap two adjacent inner letters of one word of 7+ letters, as the dev set does."""
    words = name.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 7]
    if not long:
        return None
    i = rng.choice(long)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def _variants(row: dict[str, Any], rng: random.Random) -> list[tuple[str, str]]:
    """(kind, query) pairs that all name this organisation."""
    name = row["name"]
    out = [
        ("exact", name),
        ("lower", name.lower()),
        ("upper", name.upper()),
        ("spaces", "  " + name.replace(" ", "  ") + " "),
    ]
    typo = _typo(name, rng)
    if typo:
        out.append(("typo", typo))
    for old, new, kind in (
        (" Ltd", " Limited", "ltd_limited"),
        (" Limited", " Ltd", "limited_ltd"),
    ):
        if name.endswith(old):
            out.append((kind, name[: -len(old)] + new))
            out.append(("no_suffix", name[: -len(old)]))
    if not name.endswith(("Ltd", "Limited", "CIC", "LLP")):
        out.append(("add_ltd", name + " Ltd"))
    if " & " in name:
        out.append(("amp_and", name.replace(" & ", " and ")))
    if name.startswith("The "):
        out.append(("drop_the", name[4:]))
    if "'" in name:
        out += [
            ("curly_apostrophe", name.replace("'", "’")),
            ("no_apostrophe", name.replace("'", "")),
        ]
    if name.endswith("NHS Foundation Trust"):
        out.append(("nhs_ft", name.replace("NHS Foundation Trust", "NHS FT")))
    out += [("alias", alias) for alias in row.get("aliases", [])]
    return out


def _swap_word_decoys(
    rows: list[dict[str, Any]], v: Vocabulary, rng: random.Random, count: int
) -> list[tuple[str, str]]:
    """Register names with one distinctive word replaced by another of the same family."""
    taken = _registered_keys(rows)
    families = (v.brands, v.nouns, v.places, v.saints)
    out: list[tuple[str, str]] = []
    for row in rng.sample(rows, len(rows)):
        words = row["name"].split(" ")
        spots = [(i, f) for i, w in enumerate(words) for f in families if w.strip("+'s") in f]
        if not spots or len(out) >= count:
            continue
        i, family = rng.choice(spots)
        old = words[i].strip("+").removesuffix("'s")
        words[i] = words[i].replace(old, rng.choice([w for w in family if w != old]))
        decoy = " ".join(words)
        if normalise_name(decoy) not in taken:
            taken.add(normalise_name(decoy))
            out.append((decoy, row["name"]))
    return out


def _near_word_decoys(rows: list[dict[str, Any]], v: Vocabulary) -> list[tuple[str, str]]:
    """Register names with a short word changed by a letter or two ("Mary's" -> "Mark's")."""
    taken = _registered_keys(rows)
    out = []
    for old, new in v.near_places + v.near_saints:
        for row in rows:
            words = row["name"].split(" ")
            if old in words or f"{old}'s" in words:
                swapped = [new if w == old else f"{new}'s" if w == f"{old}'s" else w for w in words]
                if normalise_name(" ".join(swapped)) not in taken:
                    out.append((" ".join(swapped), row["name"]))
    return out


def _registered_keys(rows: list[dict[str, Any]]) -> set[str]:
    """Every registered name, normalised: a decoy must not be one in another spelling."""
    return {normalise_name(name) for r in rows for name in (r["name"], *r.get("aliases", []))}


def make_queries(rows: list[dict[str, Any]], v: Vocabulary, seed: int) -> list[dict[str, Any]]:
    """Queries in the dev set's JSONL shape: variants of every name, then decoys."""
    rng = random.Random(seed + 1)
    queries: list[dict[str, Any]] = []
    for row in rows:
        for kind, query in _variants(row, rng):
            queries.append(
                {
                    "query": query,
                    "kind": kind,
                    "expect_name": row["name"],
                    "expect_status": row["status"],
                }
            )
    decoys: list[tuple[str, str, str | None]] = [
        ("swap_word", q, near) for q, near in _swap_word_decoys(rows, v, rng, 35)
    ]
    decoys += [("near_word", q, near) for q, near in _near_word_decoys(rows, v)]
    decoys += [("generic", q, None) for q in v.generic]
    for kind, query, near in decoys:
        queries.append({"query": query, "kind": kind, "expect_name": None, "near": near})
    return queries


def make_set(v: Vocabulary, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A held-out (register, queries) pair."""
    rows = make_register(v, seed)
    return rows, make_queries(rows, v, seed)


_LARGE_TEMPLATES = (
    "{b} & {b2} Training Ltd",
    "The {b} {n} Partnership",
    "{p} Behaviour Support Services",
    "{b} {n} Limited",
    "{p} {b} {n} Care Limited",
    "{b} {n} Consulting Ltd",
    "{p} {n} Associates Ltd",
    "St {s}'s School, {p}",
    "{p} {b} Academy Trust",
    "{b} {b2} {n} CIC",
)


def make_large_register(size: int, seed: int) -> list[dict[str, Any]]:
    """A register of `size` organisations (a third with an alias) for timing the index."""
    rng = random.Random(seed)
    v = [VOCAB_A, VOCAB_B]
    brands = [w for voc in v for w in voc.brands]
    nouns = [w for voc in v for w in voc.nouns]
    places = [w for voc in v for w in voc.places]
    saints = [w for voc in v for w in voc.saints]
    rows: dict[str, dict[str, Any]] = {}
    while len(rows) < size:
        fill = {
            "b": rng.choice(brands),
            "b2": rng.choice(brands),
            "n": rng.choice(nouns),
            "p": rng.choice(places),
            "s": rng.choice(saints),
        }
        name = rng.choice(_LARGE_TEMPLATES).format(**fill)
        status = rng.choice(("certified", "affiliate", "working_towards"))
        row: dict[str, Any] = {"name": name, "status": status, "aliases": []}
        if rng.random() < 0.33:
            alias = f"{rng.choice(places)} {rng.choice(nouns)} {rng.choice(brands)} Ltd"
            row["aliases"] = [alias]
            row["listed_name"] = f"{name} (formerly {alias})"
        rows.setdefault(name, row)
    return list(rows.values())


@dataclass
class Scores:
    """The eval README's figures for one run, with per-kind tallies and the failing lines."""

    positives: int = 0
    misses: int = 0
    false_matches: int = 0
    tallies: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    failures: list[tuple[str, dict[str, Any], MatchResult]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return 1 - self.misses / self.positives if self.positives else 1.0


def score_queries(
    index: MatchIndex, records: list[dict[str, Any]], queries: list[dict[str, Any]]
) -> Scores:
    """Run every query; count recall and false matches as shared/eval/README.md defines them."""
    ids = {rec["name"]: i for i, rec in enumerate(records, start=1)}
    statuses = {i: rec["status"] for i, rec in enumerate(records, start=1)}
    scores = Scores()
    for q in queries:
        if not q["query"].strip():
            continue  # an empty query is rejected by the API before it reaches the matcher
        result = index.match(q["query"])
        want = ids.get(q["expect_name"]) if q["expect_name"] else None
        right = result.outcome == "matched" and result.organisation_id == want
        if result.outcome == "matched" and not right:
            label = "false"
        elif want is None or (right and statuses[want] == q["expect_status"]):
            label = "ok"
        else:
            label = result.outcome
        scores.positives += want is not None
        scores.misses += want is not None and label != "ok"
        scores.false_matches += label == "false"
        tally = scores.tallies[q["kind"]]
        tally[result.outcome] += 1
        tally[label if label in ("ok", "false") else "missed"] += 1
        if label != "ok":
            scores.failures.append((label, q, result))
    return scores
