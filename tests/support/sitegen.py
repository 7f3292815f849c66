"""Synthetic registers, and sites rendering them by the layout contract (LAYOUT.md).

Organisations are dicts in the shape of ``shared/eval/register-dev.json``: ``name``, ``status``,
``aliases`` (trading then former names), and where they apply ``listed_name`` (only when it
differs from ``name``), ``certificate_number``, ``certified_on``, ``valid_until``,
``settings``, ``regions``, ``website`` (certified); ``parent`` (the parent's canonical name),
``region``, ``approved_on`` (``YYYY-MM``) (affiliates); ``note`` (working towards).

Usage::

    orgs = generate_register(300, seed=7)
    orgs[0] = renamed(orgs[0], "Brand New Name Ltd")       # listed "... (formerly <old>)"
    with serve_site(generate_site(orgs, seed=7)) as server: # tests.support.httpserver
        result = scrape_register(client, server.url, policy)
    assert [row_to_org(r) for r in result.rows] == orgs     # order: certified, affiliates, ...
"""

from __future__ import annotations

import datetime as dt
import html
import random
import re
from collections.abc import Sequence
from typing import Any

from scrapers.names import split_listed_name
from scrapers.rows import ListingRow, ListingStatus

__all__ = ["Org", "generate_register", "generate_site", "renamed", "row_to_org"]

Org = dict[str, Any]

PLACES = [
    *(
        "Calder Chiltern Cotswold Dales Fenland Fylde Humber Kennet Medway Mendip Mersey Pennine "
        "Ribble Severn Solent Tamar Tees Trent Tyne Wear Weald Wessex Wirral Wye Exe Avon Derwent "
        "Eden Lune Nene Ouse Stour Test Itchen Arun Cherwell Wensum Bure Colne Lea"
    ).split(),
    *("Thames Valley", "North Downs", "South Downs", "Forest of Dean", "High Peak"),
]
WORDS = (
    "Positive Safer Calm Clear Bright Open Steady Trusted Kind Evolve Thrive Compass Beacon "
    "Keystone Harbour Gentle Secure Willow Oak Cedar Maple Rowan Summit Anchor Lantern Meadow "
    "Haven Kestrel Heron Unity Balance Bridge Harmony Insight Northstar True Brave Able"
).split()
NOUNS = (
    "Minds Steps Voices Bridges Foundations Approaches Pathways Horizons Connections Futures "
    "Practice Lives Hands Paths Roots Routes Circles Spaces Outcomes Choices Journeys Links"
).split()
SURNAMES = ("O'Connell", "O’Brien", "Rees", "Shah", "Okafor", "Nowak", "Byrne", "Patel", "Kerr")
SAINTS = "Anne Oswald Bede Luke Chad Aidan Hilda Cuthbert Mary Mark Peter Paul Wilfrid".split()
REGIONS = (
    "London", "South East", "South West", "Midlands", "North East", "North West", "Wales",
    "Scotland", "Northern Ireland", "Yorkshire and the Humber", "East of England", "England",
)  # fmt: skip
SETTINGS = ("Health", "Social care", "Education")
MONTHS = (
    "January February March April May June July August September October November December"
).split()

_CERTIFIED_TEMPLATES = (
    "{w} {n} Training Ltd", "{w} & {w2} Training Ltd", "{p} Behaviour Support Services",
    "The {w} {n} Partnership", "{w} {n} Limited", "{p} Positive Behaviour Consultancy CIC",
    "{s} & {s2} Associates LLP", "{w}\u2011{n} Consultancy", "+{w} {n} Training",
    "{w}-{n}® Training Ltd", "{w} {n} Group PLC", "{p} {w} Training Services Ltd",
)  # fmt: skip
_NHS_TEMPLATES = ("{p} NHS Foundation Trust", "{p} NHS Trust", "{p} Health and Care NHS Trust")
_NHS_TEAMS = ("Reducing Restrictive Practice Team", "Positive Behaviour Support Team")
_AFFILIATE_TEMPLATES = (
    "{p} County Council", "St {saint}'s School", "St {saint}’s Academy", "{p} Care Group",
    "{w} {n} Care Limited", "{p} Academy Trust", "{w} Homes Ltd", "{w} Lives Support CIC",
    "{w} {n} Residential Care Ltd", "{p} {w} Services Ltd",
)  # fmt: skip
_WORKING_TOWARDS_TEMPLATES = ("{w} {n} Consulting Ltd", "{w} {n} Associates Ltd", "{p} {n} Ltd")
_FALLBACK_TEMPLATE = "{w} {n} {p} Services Ltd"  # ~50,000 combinations, so uniqueness is cheap


def generate_register(n: int, seed: int) -> list[Org]:
    """``n`` plausible, uniquely named organisations: ~45% certified, ~40% affiliates, rest WT."""
    rng = random.Random(seed)
    n_affiliates = round(n * 0.40)
    n_certified = max(round(n * 0.45), 1 if n_affiliates else 0)
    n_affiliates = min(n_affiliates, n - n_certified)
    namer = _Namer(rng)
    numbers = rng.sample(range(1000, 1000 + max(9000, 2 * n_certified)), n_certified)
    certified = [_certified(rng, namer, f"ACT{number}") for number in numbers]
    parents = [org["name"] for org in certified]
    affiliates = [_affiliate(rng, namer, rng.choice(parents)) for _ in range(n_affiliates)]
    working = [_working_towards(rng, namer) for _ in range(n - n_certified - n_affiliates)]
    return certified + affiliates + working


def renamed(org: Org, new_name: str) -> Org:
    """A copy of ``org`` renamed as the register shows it: ``<new> (formerly <old>)``."""
    split = split_listed_name(_listed(org))
    listed = new_name + "".join(f" t/a {t}" for t in split.trading_names)
    listed += f" (formerly {org['name']})"
    copy = dict(org, name=new_name, listed_name=listed)
    copy["aliases"] = [*split.trading_names, org["name"]]
    return copy


def _listed(org: Org) -> str:
    return str(org.get("listed_name") or org["name"])


def row_to_org(row: ListingRow) -> Org:
    """A parsed row in the register-dev.json dict shape (for comparing with the truth)."""
    org: Org = {
        "name": row.name,
        "status": row.status.value,
        "aliases": [*row.trading_names, *row.former_names],
    }
    if row.listed_name != row.name:
        org["listed_name"] = row.listed_name
    if row.status is ListingStatus.CERTIFIED:
        optional = {
            "certificate_number": row.certificate_number,
            "certified_on": row.certified_on.isoformat() if row.certified_on else None,
            "valid_until": row.valid_until.isoformat() if row.valid_until else None,
            "settings": list(row.settings),
            "regions": list(row.regions),
            "website": row.website,
        }
    elif row.status is ListingStatus.AFFILIATE:
        optional = {
            "parent": split_listed_name(row.parent_name).name if row.parent_name else None,
            "region": ", ".join(row.regions) or None,
            "approved_on": row.approved_on.strftime("%Y-%m") if row.approved_on else None,
        }
    else:
        optional = {"note": row.note}
    org.update({key: value for key, value in optional.items() if value is not None})
    return org


class _Namer:
    """Draws names from templates, never repeating a name or alias (case-insensitively)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def draw(self, templates: tuple[str, ...]) -> str:
        for attempt in range(200):
            pool = templates if attempt < 100 else (_FALLBACK_TEMPLATE,)
            name = self._fill(self.rng.choice(pool))
            if name.casefold() not in self.used:
                self.used.add(name.casefold())
                return name
        raise RuntimeError("ran out of unique synthetic names")

    def _fill(self, template: str) -> str:
        w, w2 = self.rng.sample(WORDS, 2)
        s, s2 = self.rng.sample(SURNAMES, 2)
        return template.format(
            p=self.rng.choice(PLACES), w=w, w2=w2, n=self.rng.choice(NOUNS),
            s=s, s2=s2, saint=self.rng.choice(SAINTS),
        )  # fmt: skip

    def trading_name(self) -> str:
        return self.draw(tuple(f"{w}{{n}} Training" for w in WORDS))


def _listed_with_aliases(rng: random.Random, namer: _Namer, name: str) -> tuple[str, list[str]]:
    """Maybe add a trading name and/or a former name to the listed name."""
    listed, aliases = name, []
    if rng.random() < 0.12:
        aliases.append(namer.trading_name())
        listed += f" t/a {aliases[-1]}"
    if rng.random() < 0.08:
        aliases.append(namer.draw(("{p} {n} Ltd", "{w} {n} Ltd")))
        listed += f" (formerly {aliases[-1]})"
    return listed, aliases


def _certified(rng: random.Random, namer: _Namer, number: str) -> Org:
    aliases: list[str]
    if rng.random() < 0.06:
        name = namer.draw(_NHS_TEMPLATES)
        dash = rng.choice(("–", "—", "-"))
        listed, aliases = f"{name} {dash} {rng.choice(_NHS_TEAMS)}", []
    else:
        name = namer.draw(_CERTIFIED_TEMPLATES)
        listed, aliases = _listed_with_aliases(rng, namer, name)
    certified_on = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(7 * 365))
    valid_until = certified_on + dt.timedelta(days=rng.randrange(2 * 365, 4 * 365))
    org: Org = {"name": name, "status": "certified", "aliases": aliases}
    if listed != name:
        org["listed_name"] = listed
    if rng.random() > 0.05:
        org["certificate_number"] = number
    if rng.random() > 0.03:
        org["certified_on"] = certified_on.isoformat()
    if rng.random() > 0.05:
        org["valid_until"] = valid_until.isoformat()
    org["settings"] = rng.sample(SETTINGS, rng.randint(1, 3))
    org["regions"] = rng.sample(REGIONS, rng.randint(1, 3))
    if rng.random() > 0.05:
        slug = re.sub(r"[^a-z0-9]", "", name.casefold())[:22]
        org["website"] = f"https://www.{slug}.example.org.uk/"
    return org


def _affiliate(rng: random.Random, namer: _Namer, parent: str) -> Org:
    name = namer.draw(_AFFILIATE_TEMPLATES)
    org: Org = {"name": name, "status": "affiliate", "aliases": []}
    if rng.random() < 0.04:
        org["aliases"] = [namer.trading_name()]
        org["listed_name"] = f"{name} t/a {org['aliases'][0]}"
    org["parent"] = parent
    org["region"] = rng.choice(REGIONS)
    org["approved_on"] = f"{rng.randint(2020, 2025)}-{rng.randint(1, 12):02d}"
    return org


def _working_towards(rng: random.Random, namer: _Namer) -> Org:
    org: Org = {"name": namer.draw(_WORKING_TOWARDS_TEMPLATES), "status": "working_towards"}
    org["aliases"] = []
    if rng.random() > 0.1:
        month = rng.choice(MONTHS)
        org["note"] = f"application received {month} {rng.randint(2024, 2026)}"
    return org


# ---- Rendering ---------------------------------------------------------------------------

DEFAULT_ROBOTS = "User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n"
CERTIFIED_PATH = "/certified-organisations/"
AFFILIATES_PATH = "/affiliate-organisations/"
WORKING_TOWARDS_PATH = "/working-towards-certification/"
_UNKNOWN_LABELS = ("Contact", "Notes", "Accrediting body")


def generate_site(
    orgs: Sequence[Org], *, seed: int = 0, page_size: int = 20, robots: str = DEFAULT_ROBOTS
) -> dict[str, bytes]:
    """Render organisations as a whole site (URL path -> bytes), robots.txt included.

    Markup follows LAYOUT.md with seeded variation: wrapper divs, shuffled and re-cased
    labels, both date formats, unknown labels, entities and NBSP in names, shuffled table
    columns, different dashes. Certified pages hold ``page_size`` entries each.
    """
    rng = random.Random(seed)
    certified = [o for o in orgs if o["status"] == "certified"]
    listed_of = {o["name"]: _listed(o) for o in certified}
    chunks = [certified[i : i + page_size] for i in range(0, len(certified), page_size)] or [[]]
    site = {"/robots.txt": robots.encode(), "/": _page("Bild ACT", "<p>Welcome.</p>")}
    for number, chunk in enumerate(chunks, start=1):
        entries = "\n".join(_certified_entry(rng, org) for org in chunk)
        body = f'<div class="directory">\n{entries}\n</div>\n'
        site[_certified_path(number)] = _page(
            "Certified organisations", body + _pagination(rng, number, len(chunks))
        )
    affiliates = [o for o in orgs if o["status"] == "affiliate"]
    site[AFFILIATES_PATH] = _page("Affiliate organisations", _table(rng, affiliates, listed_of))
    working = [o for o in orgs if o["status"] == "working_towards"]
    items = "\n".join(_working_item(rng, org) for org in working)
    site[WORKING_TOWARDS_PATH] = _page(
        "Working towards certification", f'<ul class="working-towards">\n{items}\n</ul>'
    )
    return site


def _page(title: str, main: str) -> bytes:
    return (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head><meta charset="utf-8">'
        f"<title>{title} – Bild Association of Certified Training</title></head>\n"
        f'<body class="page">\n<header class="site-header"><a href="/">Bild ACT</a></header>\n'
        f'<main id="content">\n<h1 class="page-title">{title}</h1>\n{main}\n</main>\n'
        "<footer><p>&copy; Bild Association of Certified Training.</p></footer>\n"
        "</body></html>\n"
    ).encode()


def _text(rng: random.Random, text: str, *, spaces: bool = False) -> str:
    """HTML for text, spelled in one of several equivalent ways."""
    out = html.escape(text, quote=False)
    if rng.random() < 0.3:
        out = out.replace("&amp;", "&#38;")
    if rng.random() < 0.3:
        out = out.replace("'", "&#39;")
    if spaces and rng.random() < 0.4:
        out = out.replace(" ", rng.choice(("&nbsp;", "\u00a0", " \n   ")), rng.randint(1, 3))
    return out


def _date(rng: random.Random, iso: str) -> str:
    day = dt.date.fromisoformat(iso)
    month = MONTHS[day.month - 1]
    return rng.choice(
        (f"{day.day} {month} {day.year}", f"{day:%d/%m/%Y}", f"{day.day} {month[:3]} {day.year}")
    )


def _details(rng: random.Random, org: Org) -> list[tuple[str, str]]:
    pairs = [
        ("Certificate number", _text(rng, str(org.get("certificate_number") or ""))),
        ("Date certified", _date(rng, org["certified_on"]) if "certified_on" in org else ""),
        ("Certificate valid until", _date(rng, org["valid_until"]) if "valid_until" in org else ""),
        ("Training delivered to", rng.choice(("; ", ";", " ; ")).join(org["settings"])),
        ("Regions", rng.choice((", ", ",")).join(org["regions"])),
    ]
    if "website" in org:
        display = org["website"].removeprefix("https://").rstrip("/")
        pairs.append(("Website", f'<a href="{org["website"]}" rel="nofollow">{display}</a>'))
    pairs = [(label, value) for label, value in pairs if value]
    rng.shuffle(pairs)
    if rng.random() < 0.25:
        extra = (rng.choice(_UNKNOWN_LABELS), "training&#64;example.invalid")
        pairs.insert(rng.randrange(len(pairs) + 1), extra)
    return pairs


def _certified_entry(rng: random.Random, org: Org) -> str:
    items = []
    for label, value in _details(rng, org):
        label = rng.choice((label, label + ":", label.upper(), label.lower() + ":"))
        pair = f"<dt>{label}</dt><dd>{value}</dd>"
        items.append(f"<div>{pair}</div>" if rng.random() < 0.1 else pair)
    name = _text(rng, _listed(org), spaces=True)
    if rng.random() < 0.2:
        name = f'<a href="/directory/{rng.randrange(10**6)}/">{name}</a>'
    tag = rng.choice(("h2", "h3"))
    details = "\n    ".join(items)
    entry = (
        f'<article class="directory-entry" id="entry-{rng.randrange(10**6)}">\n'
        f'    <{tag} class="directory-entry__name">{name}</{tag}>\n'
        f'    <dl class="directory-entry__details">\n    {details}\n    </dl>\n</article>'
    )
    for _ in range(rng.choice((0, 0, 1, 2))):
        entry = f'<div class="entry-wrap">{entry}</div>'
    return entry


def _certified_path(number: int) -> str:
    return CERTIFIED_PATH if number == 1 else f"{CERTIFIED_PATH}page/{number}/"


def _pagination(rng: random.Random, number: int, total: int) -> str:
    links = [f'<a class="prev page-numbers" href="{_certified_path(number - 1)}">Previous</a>']
    links = links if number > 1 else []
    for other in range(1, total + 1):
        if other == number:
            links.append(f'<span aria-current="page" class="page-numbers current">{other}</span>')
        else:
            links.append(f'<a class="page-numbers" href="{_certified_path(other)}">{other}</a>')
    if number < total:
        # From page 1 a relative href resolves the same way; the parser must resolve it.
        href = "page/2/" if number == 1 and rng.random() < 0.5 else _certified_path(number + 1)
        links.append(f'<a class="next page-numbers" href="{href}">Next</a>')
    return f'<nav class="pagination">{" ".join(links)}</nav>'


def _month(rng: random.Random, year_month: str | None) -> str:
    if not year_month:
        return ""
    year, month = year_month.split("-")
    name = MONTHS[int(month) - 1]
    return f"{rng.choice((name, name[:3]))} {year}"


def _table(rng: random.Random, affiliates: list[Org], listed_of: dict[str, str]) -> str:
    labels = ["Affiliate organisation", "Certified training provider", "Region", "Approved"]
    rng.shuffle(labels)
    header = "<tr>" + "".join(f'<th scope="col">{label}</th>' for label in labels) + "</tr>"
    rows = []
    for org in affiliates:
        parent = str(org.get("parent") or "")
        values = {
            "Affiliate organisation": _text(rng, _listed(org), spaces=True),
            "Certified training provider": _text(rng, listed_of.get(parent, parent)),
            "Region": _text(rng, str(org.get("region") or "")),
            "Approved": _month(rng, org.get("approved_on")),
        }
        name_tag = "th" if rng.random() < 0.2 else "td"  # <th scope="row"> is common too
        cells = [
            f"<{name_tag}>{values[label]}</{name_tag}>"
            if label == "Affiliate organisation"
            else f"<td>{values[label]}</td>"
            for label in labels
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    body = "\n".join(rows)
    if rng.random() < 0.5:
        body = f"<thead>{header}</thead>\n<tbody>\n{body}\n</tbody>"
    else:
        body = f"{header}\n{body}"
    return f'<table class="affiliates">\n{body}\n</table>'


def _working_item(rng: random.Random, org: Org) -> str:
    name = _text(rng, _listed(org), spaces=True)
    if "note" not in org:
        return f"  <li><strong>{name}</strong></li>"
    dash = rng.choice((" – ", " — ", " - ", " &ndash; ", "&#8212; "))
    return f"  <li><strong>{name}</strong>{dash}{_text(rng, org['note'])}</li>"
