"""Pieces the register routers share: problem documentation, paging, the clock."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request

from app.register.schemas import PageLinks, Problem

MAX_PAGE = 1_000_000
MAX_PAGE_SIZE = 200
_PROBLEM = {
    "model": None,
    "content": {"application/problem+json": {"schema": Problem.model_json_schema()}},
}


def problem_doc(description: str) -> dict[str, Any]:
    """An OpenAPI response entry for a problem+json error."""
    return {**_PROBLEM, "description": description}


READ_ERRORS: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: If-None-Match matched the current ETag."},
    401: problem_doc("unauthorized: missing or unknown API key."),
    403: problem_doc("forbidden: the key lacks the read scope."),
    429: problem_doc("rate_limited: too many requests; see Retry-After."),
}
NOT_READY: dict[int | str, dict[str, Any]] = {
    503: problem_doc("index_not_ready: the register index is not loaded yet; see Retry-After.")
}


def invalid_doc(codes: str) -> dict[int | str, dict[str, Any]]:
    """The 422 response entry, naming the codes it can carry."""
    return {422: problem_doc(f"A parameter is invalid: {codes}.")}


Page = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1.")]
PageSize = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Items per page, 1-{MAX_PAGE_SIZE}.")
]


def query_link(request: Request, **replace: str) -> str:
    """This request's path and query, with the given parameters replaced (or added)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in replace]
    query = urlencode([*kept, *replace.items()])
    return f"{request.url.path}?{query}" if query else request.url.path


def page_links(request: Request, page: int, pages: int) -> PageLinks:
    """Pagination links that keep the caller's other parameters and change only `page`."""
    last = max(pages, 1)
    return PageLinks(
        self=query_link(request, page=str(page)),
        first=query_link(request, page="1"),
        last=query_link(request, page=str(last)),
        next=query_link(request, page=str(page + 1)) if page < pages else None,
        prev=query_link(request, page=str(min(page - 1, last))) if page > 1 else None,
    )
