"""GET /v1/changes.atom: a valid Atom 1.0 feed (RFC 4287) of the register's changes."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from lxml import etree

from tests.api.conftest import SyncSite, register_dev
from tests.support.sitegen import generate_site, renamed

ATOM_NS = "http://www.w3.org/2005/Atom"
A = f"{{{ATOM_NS}}}"
# RFC 3339 date-time, as RFC 4287 section 3.3 requires (an explicit offset or Z).
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _valid_atom(body: bytes) -> etree._Element:
    """Parse and check what RFC 4287 requires of a feed and its entries."""
    feed = etree.fromstring(body)
    assert feed.tag == A + "feed"
    for required in ("id", "title", "updated"):
        assert len(feed.findall(A + required)) == 1, required
    assert feed.find(A + "author/" + A + "name") is not None  # entries inherit the author
    assert RFC3339.match(feed.findtext(A + "updated") or "")
    self_links = [link for link in feed.findall(A + "link") if link.get("rel") == "self"]
    assert len(self_links) == 1
    ids = []
    for entry in feed.findall(A + "entry"):
        for required in ("id", "title", "updated"):
            assert len(entry.findall(A + required)) == 1, required
        assert RFC3339.match(entry.findtext(A + "updated") or "")
        assert entry.find(A + "content") is not None or entry.find(A + "link") is not None
        ids.append(entry.findtext(A + "id"))
    assert all(i and i.startswith("urn:uuid:") for i in ids)
    assert len(ids) == len(set(ids))
    return feed


def test_the_feed_lists_the_newest_changes_first_as_valid_atom(
    synced_client: TestClient, sync_site: SyncSite
) -> None:
    orgs = register_dev()
    orgs[0] = renamed(orgs[0], "Beacon Path Learning Ltd")
    sync_site(generate_site(orgs))
    response = synced_client.get("/v1/changes.atom", params={"limit": 200})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = _valid_atom(response.content)
    entries = feed.findall(A + "entry")
    assert len(entries) > 98  # the first sync's 98 additions, then the second sync's changes
    titles = [e.findtext(A + "title") for e in entries]
    assert titles[-1].endswith(": added to the register")
    rename = entries[titles.index("Beacon Path Learning Ltd: renamed")]
    assert "name: Beacon\u2011Path Consultancy -> Beacon Path Learning Ltd" in (
        rename.findtext(A + "content") or ""
    )
    link = rename.find(A + "link").get("href")
    assert re.search(r"/v1/organisations/\d+$", link)
    updated = [dt.datetime.fromisoformat(e.findtext(A + "updated")) for e in entries]
    assert updated == sorted(updated, reverse=True)
    assert len(_ids(synced_client.get("/v1/changes.atom", params={"limit": 5}).content)) == 5
    again = synced_client.get("/v1/changes.atom", params={"limit": 200})
    assert _ids(again.content) == _ids(response.content)  # stable entry ids


def _ids(body: bytes) -> list[str]:
    return [e.findtext(A + "id") for e in etree.fromstring(body).findall(A + "entry")]


def test_an_empty_mirror_is_a_valid_empty_feed(client: TestClient) -> None:
    response = client.get("/v1/changes.atom")
    assert response.status_code == 200
    feed = _valid_atom(response.content)
    assert feed.findall(A + "entry") == []


def test_the_feed_answers_304_when_nothing_changed(synced_client: TestClient) -> None:
    first = synced_client.get("/v1/changes.atom")
    etag = first.headers["etag"]
    again = synced_client.get("/v1/changes.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304
    bad = synced_client.get("/v1/changes.atom", params={"limit": 0})
    assert bad.status_code == 422
