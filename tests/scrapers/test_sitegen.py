"""The synthetic register generator must be trustworthy for the sync tests and benchmark."""

from __future__ import annotations

import json
from collections import Counter

from scrapers.names import split_listed_name
from tests.conftest import REGISTER_DEV
from tests.support.sitegen import generate_register, generate_site, renamed


def _allowed_keys() -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {}
    for org in json.loads(REGISTER_DEV.read_text(encoding="utf-8")):
        keys.setdefault(org["status"], set()).update(org)
    return keys


def test_generated_register_has_unique_names_and_aliases() -> None:
    orgs = generate_register(3000, seed=42)
    names = [n.casefold() for org in orgs for n in (org["name"], *org["aliases"])]
    assert len(orgs) == 3000
    assert len(names) == len(set(names))


def test_generated_register_has_the_expected_mix_of_statuses() -> None:
    counts = Counter(org["status"] for org in generate_register(3000, seed=42))
    assert counts == {"certified": 1350, "affiliate": 1200, "working_towards": 450}


def test_generated_register_uses_only_the_dev_register_keys() -> None:
    allowed = _allowed_keys()
    for org in generate_register(500, seed=1):
        # listed_name appears whenever it differs from name, whatever the status.
        assert set(org) <= allowed[org["status"]] | {"listed_name"}, org


def test_affiliate_parents_are_certified_organisations() -> None:
    orgs = generate_register(500, seed=2)
    certified = {org["name"] for org in orgs if org["status"] == "certified"}
    assert all(org["parent"] in certified for org in orgs if org["status"] == "affiliate")


def test_listed_names_split_back_into_name_and_aliases() -> None:
    orgs = generate_register(1000, seed=3)
    kinds: Counter[str] = Counter()
    for org in orgs:
        split = split_listed_name(org.get("listed_name") or org["name"])
        assert split.name == org["name"]
        assert [*split.trading_names, *split.former_names] == org["aliases"]
        kinds.update(
            {"t/a": bool(split.trading_names), "formerly": bool(split.former_names)}
            | {"nhs team": split.team is not None}
        )
    assert kinds["t/a"] >= 20
    assert kinds["formerly"] >= 10
    assert kinds["nhs team"] >= 10


def test_same_seed_gives_the_same_register_and_site() -> None:
    assert generate_register(200, seed=9) == generate_register(200, seed=9)
    assert generate_register(200, seed=9) != generate_register(200, seed=10)
    orgs = generate_register(200, seed=9)
    assert generate_site(orgs, seed=1) == generate_site(orgs, seed=1)


def test_certified_pages_hold_page_size_entries() -> None:
    orgs = generate_register(100, seed=4)  # 45 certified
    site = generate_site(orgs, seed=4, page_size=20)
    certified_pages = sorted(p for p in site if p.startswith("/certified-organisations/"))
    assert certified_pages == [
        "/certified-organisations/",
        "/certified-organisations/page/2/",
        "/certified-organisations/page/3/",
    ]
    assert site["/certified-organisations/page/3/"].count(b'class="directory-entry"') == 5
    assert site["/robots.txt"].startswith(b"User-agent: *")


def test_renamed_organisation_lists_its_former_name() -> None:
    org = {"name": "Old Ltd", "status": "certified", "aliases": ["Calm Path"]}
    org["listed_name"] = "Old Ltd t/a Calm Path"
    new = renamed(org, "New Ltd")
    assert new["listed_name"] == "New Ltd t/a Calm Path (formerly Old Ltd)"
    assert new["aliases"] == ["Calm Path", "Old Ltd"]
    assert org["name"] == "Old Ltd"  # the original is not modified
