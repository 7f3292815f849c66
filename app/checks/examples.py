"""Examples for the check schemas, taken from the sample register (tests/conftest.SAMPLE_SITE).

Swagger UI fills "Try it out" from them, so a request example must be answerable as it
stands (tests/api/test_swagger_examples.py sends each one).
"""

from __future__ import annotations

from typing import Any

CHECKED_NAME = "Severn NHS FT"
STAMP: dict[str, Any] = {
    "version": 1,
    "last_synced_at": "2026-12-02T03:00:04.489764Z",
    "source_url": "https://www.bild.org.uk/rrn-register",
    "stale": False,
}
NAME: dict[str, Any] = {"name": "Severn NHS Foundation Trust", "kind": "name"}
PARENT: dict[str, Any] = {"id": 3, "name": "Safe-Hands® Training Ltd", "status": "certified"}
ORGANISATION: dict[str, Any] = {
    "id": 8,
    "name": "Severn NHS Foundation Trust",
    "listed_name": "Severn NHS Foundation Trust – Reducing Restrictive Practice Team",
    "status": "certified",
    "names": [
        NAME,
        {
            "name": "Severn NHS Foundation Trust – Reducing Restrictive Practice Team",
            "kind": "listed",
        },
    ],
    "certificate_number": "ACT7325",
    "certified_on": "2025-10-05",
    "valid_until": "2028-04-27",
    "settings": ["Health", "Social care", "Education"],
    "regions": ["North East", "Yorkshire and the Humber", "Northern Ireland"],
    "website": "https://www.severnnhsfoundationtrust.example.org.uk/",
    "parent": None,
    "parent_name": None,
    "approved_on": None,
    "note": None,
}
IDENTIFIER: dict[str, Any] = {
    "kind": "certificate_number",
    "value": "ACT7325",
    "listed_as": "ACT7325",
    "organisation_id": 8,
    "organisation_name": "Severn NHS Foundation Trust",
    "relation": "self",
}
MATCH: dict[str, Any] = {
    "method": "exact",
    "score": 100.0,
    "matched_name": "Severn NHS Foundation Trust",
    "matched_kind": "name",
    "reason": "exact match after normalisation",
    "confirmed_by": [IDENTIFIER],
}
CANDIDATE: dict[str, Any] = {
    "organisation_id": 8,
    "name": "Severn NHS Foundation Trust",
    "status": "certified",
    "matched_name": "Severn NHS Foundation Trust",
    "score": 100.0,
}
WARNING: dict[str, Any] = {
    "code": "certificate_expired",
    "message": "The certificate of Medway NHS Foundation Trust was valid until 2025-12-23, "
    "before 2026-12-02.",
}
RESULT: dict[str, Any] = {
    "query": CHECKED_NAME,
    "certificate_number": "ACT7325",
    "website": None,
    "as_of": None,
    "verdict": "certified",
    "meets_cqc_expectation": True,
    "cqc_expectation_applies": True,
    "explanation": "Severn NHS Foundation Trust is a certified training service. The "
    "certificate number is its own, which confirms the match.",
    "organisation": ORGANISATION,
    "match": MATCH,
    "candidates": [CANDIDATE],
    "warnings": [],
    "register": STAMP,
}
BATCH_QUERIES: list[dict[str, Any]] = [
    {"name": CHECKED_NAME, "certificate_number": "ACT7325"},
    {"name": "Kind Homes Ltd", "setting": "ofsted_only"},  # no as_of: a new mirror has no past
    {"website": "www.safehandstrainingltd.example.org.uk"},
]
ITEM_ERROR: dict[str, Any] = {
    "code": "invalid_date",
    "detail": "as_of '2026-13-01' is not a real date",
}
BATCH_ITEM: dict[str, Any] = {"index": 0, "result": RESULT, "error": None}
BATCH_RESULT: dict[str, Any] = {
    "results": [BATCH_ITEM, {"index": 1, "result": None, "error": ITEM_ERROR}],
    "register": STAMP,
}


def examples(*values: Any) -> dict[str, Any]:
    """A model's `json_schema_extra`: its examples, the first one what Swagger UI shows."""
    return {"examples": list(values)}
