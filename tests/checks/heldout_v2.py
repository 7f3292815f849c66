"""Held-out sets in the style of shared/eval/queries-v2-dev.jsonl: names as forms write them,
certificate numbers and websites, with the invented names of heldout.py's vocabularies.

The register is heldout.make_register's, given certificate numbers and websites the way the
dev register has them. Queries take the v2 kinds (regions in brackets, town offices, company
numbers, teams, "Ltd.", t/a, US spellings, identifiers alone and beside names, affiliates with
their parent's number; decoys: another's number, near-miss numbers, lookalike websites,
holding groups). Towns and team names differ from the dev set's, so that a matcher tuned to
those lines shows it; one more decoy kind, a qualifier on a name many bodies share, is here.
Scoring runs the whole verdict (decide_many), as the API answers.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from types import MappingProxyType
from typing import Any

from app.checks.evaluation import EvalReport, batch_item, score_answers
from app.checks.inputs import CheckQuery, validate_query
from app.checks.matching import MatchIndex
from app.checks.snapshot import OrganisationView, RegisterInfo, Snapshot, identifier_index
from app.checks.verdicts import Clock, decide_many
from app.errors import ServiceError
from tests.checks import heldout

REGIONS = (
    "North East", "North West", "Yorkshire and the Humber", "Midlands", "London", "South East",
    "South West", "England", "Scotland", "Wales", "Northern Ireland", "East of England",
)  # fmt: skip
TOWNS = (
    "York Bath Oxford Luton Stirling Newport Durham Salisbury Kendal Bangor Perth Worcester "
    "Gloucester Harrogate Taunton Stockport"
).split()
TEAMS = (
    "Training Team", "Workforce Development", "Head Office", "Training Unit",
    "Practice Development Team", "Learning and Development", "Regional Office",
)  # fmt: skip
US_SPELLINGS = (("Behaviour", "Behavior"), ("Centre", "Center"), ("Organisation", "Organization"))
# Affiliate names that many bodies share: the dev set gives them no qualifier forms.
SHARED = re.compile(r"^St |County Council$|Care Group$|Academy Trust$")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())[:24]


def make_register(v: heldout.Vocabulary, seed: int) -> list[dict[str, Any]]:
    """heldout's register with certificate numbers and websites on certified organisations
    (a few certified without a number, as in the dev register)."""
    rng = random.Random(seed * 31 + 5)
    rows = heldout.make_register(v, seed)
    numbers = rng.sample(range(1000, 10000), len(rows))
    for row, number in zip(rows, numbers, strict=True):
        if row["status"] == "certified":
            if rng.random() > 0.06:
                row["certificate_number"] = f"ACT{number}"
            row["website"] = f"https://www.{_slug(row['name'])}.example.org.uk/"
    return rows


def _certificate_spelling(number: str, rng: random.Random) -> str:
    digits = number[3:]
    return rng.choice((number, number.lower(), f"ACT-{digits}", f"ACT {digits}"))


def _website_spelling(url: str, rng: random.Random) -> str:
    host = url.removeprefix("https://www.").rstrip("/")
    return rng.choice(
        (host, f"www.{host}", f"http://{host}", f"{url}contact-us/", f"{host.upper()}/")
    )


def _company_number(rng: random.Random) -> str:
    number = f"{rng.randrange(10**6, 10**8):08d}"
    return rng.choice(
        (f" (Company No. {number})", f", company number {number}", f" [Reg. {number}]")
    )


def _name_forms(row: dict[str, Any], rng: random.Random) -> list[tuple[str, str]]:
    name = row["name"]
    if row["status"] == "affiliate" and SHARED.search(name):
        return []
    forms = [
        ("paren_region", f"{name} ({rng.choice(REGIONS)})"),
        ("dash_town", f"{name} - {rng.choice(TOWNS)} office"),
        ("company_number", name + _company_number(rng)),
        ("team_suffix", f"{name} – {rng.choice(TEAMS)}"),
    ]
    if name.endswith(" Ltd"):
        forms.append(("ltd_dot", name + "."))
    for uk, us in US_SPELLINGS:
        if uk in name:
            forms.append(("us_spelling", name.replace(uk, us)))
    for alias in row.get("aliases", []):
        joiner = rng.choice(("t/a", "trading as", "T/A"))
        forms.append(("trading_as_query", f"{name} {joiner} {alias}"))
    return forms


def _positives(rows: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    by_name = {r["name"]: r for r in rows}
    out: list[dict[str, Any]] = []

    def add(kind: str, row: dict[str, Any], query: str | None, **ids: str) -> None:
        out.append(
            {
                "query": query,
                **ids,
                "kind": kind,
                "expect_name": row["name"],
                "expect_status": row["status"],
            }
        )

    for row in rows:
        for kind, query in _name_forms(row, rng):
            add(kind, row, query)
        number, site = row.get("certificate_number"), row.get("website")
        if number:
            add("by_certificate", row, None, certificate_number=_certificate_spelling(number, rng))
            add("name_and_certificate", row, row["name"].upper(), certificate_number=number)
        if site:
            add("by_website", row, None, website=_website_spelling(site, rng))
        parent_number = by_name.get(row.get("parent", ""), {}).get("certificate_number")
        if parent_number:
            add("affiliate_with_parent_certificate", row, row["name"],
                certificate_number=parent_number)  # fmt: skip
    return out


def _near_miss(number: str, taken: set[str], rng: random.Random) -> str | None:
    digits = list(number[3:])
    i = rng.randrange(len(digits))
    digits[i] = rng.choice([d for d in "0123456789" if d != digits[i]])
    near = "ACT" + "".join(digits)
    return None if near in taken else near


def _negatives(
    rows: list[dict[str, Any]], v: heldout.Vocabulary, rng: random.Random
) -> list[dict[str, Any]]:
    numbered = [r for r in rows if r.get("certificate_number")]
    taken = {r["certificate_number"] for r in numbered}
    out: list[dict[str, Any]] = []

    def add(kind: str, query: str | None, **ids: str) -> None:
        out.append({"query": query, **ids, "kind": kind, "expect_name": None})

    for row in rng.sample(rows, 15):
        other = rng.choice(
            [r for r in numbered if r["name"] not in (row["name"], row.get("parent"))]
        )
        add("certificate_mismatch", row["name"], certificate_number=other["certificate_number"])
    for row in rng.sample(numbered, 15):
        near = _near_miss(row["certificate_number"], taken, rng)
        if near:
            add("certificate_near_miss", None, certificate_number=near)
    sited = [r for r in rows if r.get("website")]
    for row in rng.sample(sited, 12):
        host = row["website"].removeprefix("https://www.").rstrip("/")
        slug = host.split(".")[0]
        add("website_lookalike", None, website=host.replace(slug, slug + "s", 1))
        add("website_other_tld", None, website=f"{slug}.co.uk")
    for row in rng.sample([r for r in rows if r["status"] == "certified"], 8):
        base = re.sub(r"\s+(Ltd|Limited|LLP|CIC)$", "", row["name"])
        add("parent_company_of", f"{base} Holdings Group plc")
    for row in (r for r in rows if SHARED.search(r["name"]) and r["name"].startswith("St ")):
        add("shared_name_qualified", f"{row['name']} ({rng.choice(TOWNS)})")
    return out


def make_set(v: heldout.Vocabulary, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A held-out v2 (register, queries) pair."""
    rows = make_register(v, seed)
    rng = random.Random(seed + 17)
    return rows, _positives(rows, rng) + _negatives(rows, v, rng)


FIRST_SYNC = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)


def snapshot_of(records: list[dict[str, Any]]) -> Snapshot:
    """A snapshot of register records (ids in order from 1), as the API would hold it."""
    entries = heldout.register_entries(records)
    ids = {rec["name"]: i for i, rec in enumerate(records, start=1)}
    views = [
        OrganisationView(
            id=entry.organisation_id,
            name=entry.name,
            listed_name=rec.get("listed_name") or rec["name"],
            status=entry.status,
            names=tuple((n.text, n.kind) for n in entry.names),
            certificate_number=rec.get("certificate_number"),
            certified_on=None,
            valid_until=None,
            settings=(),
            regions=(),
            website=rec.get("website"),
            parent_id=ids.get(rec.get("parent", "")),
            parent_name=rec.get("parent"),
            approved_on=None,
            note=None,
            first_seen_at=FIRST_SYNC,
            removed_at=None,
            transitions=(FIRST_SYNC,),
            statuses=(entry.status,),
        )
        for entry, rec in zip(entries, records, strict=True)
    ]
    index = MatchIndex.build(entries)
    return Snapshot(
        info=RegisterInfo(1, None, FIRST_SYNC, NOW, NOW, NOW),
        organisations=MappingProxyType({v.id: v for v in views}),
        listed=index,
        ever_listed=index,
        counts=MappingProxyType({}),
        identifiers=identifier_index(views),
    )


def score_lines(records: list[dict[str, Any]], lines: list[dict[str, Any]]) -> EvalReport:
    """Every line through the whole verdict, scored as `certlookup eval` scores answers;
    a line the API would refuse (an empty query) counts as rejected."""
    snapshot = snapshot_of(records)
    valid: dict[int, CheckQuery] = {}
    for i, line in enumerate(lines):
        item = batch_item(line)
        try:
            valid[i] = validate_query(
                item.get("name"), None, None, NOW.date(),
                item.get("certificate_number"), item.get("website"),
            )  # fmt: skip
        except ServiceError:
            continue
    decided = decide_many(snapshot, list(valid.values()), Clock(NOW, 72 * 3600))
    results = dict(zip(valid, decided, strict=True))
    answers = [
        {"result": results[i].model_dump(mode="json") if i in results else None}
        for i in range(len(lines))
    ]
    return score_answers(lines, answers)
