"""Examples for the register schemas, as the sample register answers them."""

from __future__ import annotations

from typing import Any

from app.checks.examples import ORGANISATION, STAMP

SYNCED_AT = "2026-12-02T03:00:04.489764Z"
LINKS: dict[str, Any] = {
    "self": "/v1/organisations?q=severn&page=1",
    "first": "/v1/organisations?q=severn&page=1",
    "last": "/v1/organisations?q=severn&page=1",
    "next": None,
    "prev": None,
}
ORGANISATION_PAGE: dict[str, Any] = {
    "items": [ORGANISATION],
    "total": 1,
    "page": 1,
    "page_size": 50,
    "pages": 1,
    "links": LINKS,
    "register": STAMP,
}
REF: dict[str, Any] = {"id": 81, "name": "Kind Homes Ltd", "status": "affiliate"}
EVENT: dict[str, Any] = {
    "id": 8,
    "kind": "added",
    "observed_at": SYNCED_AT,
    "effective_on": "2025-10-05",
    "status_before": None,
    "status_after": "certified",
    "changes": {},
    "registry_version": 1,
}
CHANGE: dict[str, Any] = {
    **EVENT,
    "id": 120,
    "kind": "status_changed",
    "effective_on": None,
    "status_before": "working_towards",
    "status_after": "certified",
    "changes": {"status": ["working_towards", "certified"]},
    "registry_version": 4,
    "organisation_id": 86,
    "organisation_name": "Beacon Futures Associates Ltd",
}
DETAIL: dict[str, Any] = {
    **ORGANISATION,
    "extra": {},
    "source_url": "https://www.bild.org.uk/rrn-register/certified-organisations/",
    "first_seen_at": SYNCED_AT,
    "updated_at": SYNCED_AT,
    "removed_at": None,
    "affiliates": [REF],
    "history": [EVENT],
    "timeline": [
        {
            "since": SYNCED_AT,
            "until": None,
            "effective_on": "2025-10-05",
            "event_kind": "added",
            "status": "certified",
            "name": ORGANISATION["name"],
            "listed_name": ORGANISATION["listed_name"],
            "parent_name": None,
            "certificate_number": "ACT7325",
            "certified_on": "2025-10-05",
            "valid_until": "2028-04-27",
            "approved_on": None,
        }
    ],
    "register": STAMP,
}
CHANGE_LINKS: dict[str, Any] = {
    "self": "/v1/changes?since=2026-12-01&page_size=1",
    "next": "/v1/changes?since=2026-12-01&page_size=1&cursor=MjAyNi0xMi0wMlQwMzowMHwxMjA",
}
CHANGE_PAGE: dict[str, Any] = {
    "items": [CHANGE],
    "since": "2026-12-01T00:00:00Z",
    "until": None,
    "next_cursor": "MjAyNi0xMi0wMlQwMzowMHwxMjA",
    "links": CHANGE_LINKS,
    "register": STAMP,
}
CATALOG: dict[str, Any] = {
    "version": 1,
    "source_url": STAMP["source_url"],
    "first_synced_at": SYNCED_AT,
    "last_synced_at": SYNCED_AT,
    "last_attempted_at": SYNCED_AT,
    "last_changed_at": SYNCED_AT,
    "stale": False,
    "max_age_hours": 72.0,
    "counts": {"certified": 46, "affiliate": 38, "working_towards": 14, "removed": 0},
    "listed_total": 98,
    "organisation_total": 98,
    "register": STAMP,
}
SYNC_RUN: dict[str, Any] = {
    "id": 1,
    "trigger": "scheduler",
    "source_url": STAMP["source_url"],
    "started_at": "2026-12-02T03:00:04.063220Z",
    "finished_at": SYNCED_AT,
    "outcome": "applied",
    "forced": False,
    "reason": None,
    "added": 98,
    "changed": 0,
    "removed": 0,
    "rows_seen": 98,
    "pages_fetched": 6,
    "duration_ms": 426,
    "registry_version": 1,
    "warnings": [],
    "attempt": 1,
    "retry_at": None,
}
SYNC_RUN_PAGE: dict[str, Any] = {
    "items": [SYNC_RUN],
    "total": 1,
    "page": 1,
    "page_size": 50,
    "pages": 1,
    "links": {**LINKS, **{k: "/v1/sync-runs?page=1" for k in ("self", "first", "last")}},
}
# A dry run: Try it out shows what a sync would change without writing or waiting for it.
SYNC_RUN_REQUEST: dict[str, Any] = {"force": False, "dry_run": True}
