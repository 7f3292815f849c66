"""GET /v1/organisations/{id}: the timeline, and the page a browser (or OpenRefine's `view`
link) gets: plain HTML, no external asset, every value escaped, its own strict policy."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from fastapi.testclient import TestClient

from app.register.page import render_organisation
from app.register.schemas import OrganisationDetail, RegisterStamp
from tests.api.conftest import SyncSite
from tests.api.test_register_api import (
    PROMOTED,
    RENAMED_FROM,
    RENAMED_TO,
    _by_name,
    _problem,
    _second_register,
)

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def _page(client: TestClient, org_id: int) -> str:
    response = client.get(f"/v1/organisations/{org_id}", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["vary"] == "Accept"
    _check_policy(response.headers["content-security-policy"], response.text)
    return response.text


def _check_policy(policy: str, page: str) -> None:
    """The policy allows exactly the page's one inline stylesheet and nothing else."""
    [style] = re.findall(r"<style>(.*?)</style>", page, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "<script" not in page
    assert not re.search(r"<(link|img|iframe)\b", page)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.split("<h2>Timeline")[0])


def test_a_browser_gets_the_page_and_curl_gets_json(synced_client: TestClient) -> None:
    affiliate = _by_name(synced_client, "Calder County Council")
    page = _page(synced_client, affiliate["id"])
    assert "<h1>Calder County Council</h1>" in page
    assert '<html lang="en">' in page
    parent = synced_client.get(f"/v1/organisations/{affiliate['id']}").json()["parent"]
    assert f'<a href="{parent["id"]}">Positive &amp; Safer Training Ltd</a>' in page
    assert "August 2022" in page
    plain = synced_client.get(f"/v1/organisations/{affiliate['id']}", headers={"Accept": "*/*"})
    assert plain.headers["content-type"] == "application/json"
    assert (
        plain.headers["etag"]
        != synced_client.get(
            f"/v1/organisations/{affiliate['id']}", headers={"Accept": BROWSER_ACCEPT}
        ).headers["etag"]
    )


def test_the_timeline_follows_names_statuses_and_certificate_dates(
    synced_client: TestClient, sync_site: SyncSite
) -> None:
    ids = {name: _by_name(synced_client, name)["id"] for name in (RENAMED_FROM, PROMOTED)}
    sync_site(_second_register())
    renamed = synced_client.get(f"/v1/organisations/{ids[RENAMED_FROM]}").json()
    first, second = renamed["timeline"]
    assert (first["name"], first["event_kind"], first["until"]) == (
        RENAMED_FROM,
        "added",
        second["since"],
    )
    assert (second["name"], second["event_kind"], second["until"]) == (RENAMED_TO, "renamed", None)
    assert first["status"] == second["status"] == "certified"
    promoted = synced_client.get(f"/v1/organisations/{ids[PROMOTED]}").json()
    before, after = promoted["timeline"]
    assert (before["status"], before["certified_on"]) == ("working_towards", None)
    assert (after["status"], after["certified_on"], after["effective_on"]) == (
        "certified",
        "2026-01-05",
        "2026-01-05",
    )
    page = _page(synced_client, ids[PROMOTED])
    rows = re.findall(r"<tr>\s*<td>", page)
    assert len(rows) == 2
    assert "Working towards certification" in page
    assert "certified 5 January 2026" in page


def _hostile(detail: dict[str, Any]) -> dict[str, Any]:
    return {
        **detail,
        "name": "<script>alert(1)</script> & Co",
        "website": "javascript:alert(1)",
        "note": '"><img src=x onerror=alert(1)>',
        "extra": {"<b>label</b>": "</style><script>x()</script>"},
    }


def test_every_value_is_escaped_and_only_web_addresses_are_links(
    synced_client: TestClient,
) -> None:
    org = _by_name(synced_client, "Safe-Hands® Training Ltd")
    detail = synced_client.get(f"/v1/organisations/{org['id']}").json()
    stamp = RegisterStamp.model_validate(detail["register"])
    page = render_organisation(OrganisationDetail.model_validate(_hostile(detail)), stamp)
    assert "<script" not in page
    assert "<img" not in page
    assert "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page
    assert 'href="javascript' not in page
    assert "javascript:alert(1)" in page  # shown as text
    linked = render_organisation(OrganisationDetail.model_validate(detail), stamp)
    assert f'<a href="{detail["website"]}" rel="noopener noreferrer">' in linked


def test_an_unknown_organisation_is_a_problem_even_for_a_browser(
    synced_client: TestClient,
) -> None:
    response = synced_client.get("/v1/organisations/99999", headers={"Accept": BROWSER_ACCEPT})
    _problem(response, 404, "organisation_not_found")
