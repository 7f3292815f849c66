"""The OpenAPI description of POST /v1/check/file's body and answers, with examples."""

from __future__ import annotations

from typing import Any

from app.files.upload import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE

CSV_EXAMPLE = (
    "Bidder ref,Training provider,Certificate number\r\n"
    "B-01,Severn NHS FT,ACT7325\r\n"
    "B-02,Kind Homes Limited,\r\n"
    'B-03,=HYPERLINK("http://example.invalid"),\r\n'
)
CSV_ANSWER_EXAMPLE = (
    "\ufeffBidder ref,Training provider,Certificate number,verdict,meets_cqc_expectation,"
    "matched_name,status,parent,match_method,score,warnings,register_version,checked_at,"
    "error\r\n"
    "B-01,Severn NHS FT,ACT7325,certified,TRUE,Severn NHS Foundation Trust,certified,,exact,"
    "100,,1,2026-11-26T10:00:00Z,\r\n"
    "B-02,Kind Homes Limited,,affiliate,TRUE,Kind Homes Ltd,affiliate,"
    "Safe-Hands® Training Ltd,exact,100,,1,2026-11-26T10:00:00Z,\r\n"
    'B-03,"\'=HYPERLINK(""http://example.invalid"")",,not_listed,FALSE,,,,,,,1,'
    "2026-11-26T10:00:00Z,\r\n"
)
FILE_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "description": "A CSV or an XLSX workbook (at most 10 MB and 10,000 data rows), raw or "
    "as the multipart form field `file`.",
    "content": {
        CSV_MEDIA_TYPE: {
            "schema": {"type": "string"},
            "example": CSV_EXAMPLE,
        },
        XLSX_MEDIA_TYPE: {
            "schema": {"type": "string", "format": "binary"},
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "additionalProperties": False,
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "The CSV or XLSX file.",
                    }
                },
            },
        },
    },
}
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The same sheet (CSV or XLSX, as uploaded or as Accept asks), every "
        "row in order, with the answer columns appended.",
        "content": {
            "text/csv": {"schema": {"type": "string"}, "example": CSV_ANSWER_EXAMPLE},
            XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    },
    401: {**PROBLEM, "description": "Missing or unknown API key."},
    403: {**PROBLEM, "description": "The key lacks the read scope."},
    406: {**PROBLEM, "description": "Accept names neither CSV nor XLSX."},
    413: {**PROBLEM, "description": "Over 10 MB, or over 10,000 data rows."},
    415: {**PROBLEM, "description": "The body is neither CSV nor XLSX."},
    422: {
        **PROBLEM,
        "description": "Unreadable file, unknown column or sheet, bad as_of or setting.",
    },
    429: {**PROBLEM, "description": "Rate limit exceeded."},
    503: {**PROBLEM, "description": "The register index is not loaded yet."},
}
