"""Typed service errors, rendered by one handler as RFC 9457 application/problem+json."""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://certlookup.invalid/problems/"

log = structlog.get_logger(__name__)


class HttpProblem(StarletteHTTPException):
    """An HTTP error with a stable code, for where only an HTTPException passes through.

    While FastAPI reads a request body it turns any other exception into a 400, so a
    refusal raised from the body stream (too large) must be one of these.
    """

    def __init__(
        self, status: int, detail: str, *, code: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status, detail, headers)
        self.code = code


class ServiceError(Exception):
    """An expected failure with its HTTP status and a stable machine-readable code."""

    status: int = 500
    code: str = "internal_error"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.code
        self.status = status or self.status
        self.headers = headers or {}
        self.extra = extra


class InvalidInput(ServiceError):
    status = 422
    code = "invalid_input"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class RateLimited(ServiceError):
    status = 429
    code = "rate_limited"


class Unavailable(ServiceError):
    status = 503
    code = "unavailable"


class ProblemResponse(JSONResponse):
    """A problem document; text that cannot be UTF-8 (a lone surrogate echoed from the
    request) is written as a JSON escape instead of failing the response with a 500."""

    media_type = PROBLEM_JSON

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, separators=(",", ":")).encode("ascii")


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """An RFC 9457 problem document with a stable `code` member."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return ProblemResponse(body, status_code=status, headers=headers)


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return problem_response(
        exc.status,
        exc.code,
        exc.detail,
        instance=request.url.path,
        headers=exc.headers,
        **exc.extra,
    )


# Validation error types (PydanticCustomError(type, ...) raised by our models, or pydantic's
# own) whose problem gets this status and code instead of the generic validation_error 422.
# string_unicode: pydantic refusing an object key that holds a lone surrogate.
CODED_VALIDATION_ERRORS = {
    "invalid_encoding": (422, "invalid_encoding"),
    "string_unicode": (422, "invalid_encoding"),
    "invalid_characters": (422, "invalid_characters"),
    "batch_too_large": (413, "batch_too_large"),
}


def _describe(error: dict[str, Any]) -> dict[str, Any]:
    location = ".".join(str(part) for part in error.get("loc", ()))
    return {"location": location, "message": error.get("msg", "invalid")}


def _validation_code(errors: list[dict[str, Any]]) -> tuple[int, str]:
    """The status and code shared by every error, if it has one; else 422 validation_error."""
    coded = {CODED_VALIDATION_ERRORS.get(error.get("type", "")) for error in errors}
    if len(coded) == 1 and (status_code := coded.pop()) is not None:
        return status_code
    return 422, "validation_error"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    errors = [_describe(error) for error in raw]
    detail = "; ".join(f"{e['location']}: {e['message']}" for e in errors) or "invalid request"
    status, code = _validation_code(raw)
    return problem_response(status, code, detail, instance=request.url.path, errors=errors)


# FastAPI answers 422 for malformed JSON but 400 with this detail for body bytes it cannot
# even decode (e.g. invalid UTF-16): both are an invalid body, documented as 422.
UNDECODABLE_BODY = "There was an error parsing the body"


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == UNDECODABLE_BODY:
        error = {"location": "body", "message": "not decodable as JSON text"}
        return problem_response(
            422,
            "validation_error",
            f"{error['location']}: {error['message']}",
            instance=request.url.path,
            errors=[error],
        )
    codes = {404: "not_found", 405: "method_not_allowed", 415: "unsupported_media_type"}
    code = getattr(exc, "code", None) or codes.get(exc.status_code, f"http_{exc.status_code}")
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem_response(
        exc.status_code, code, detail, instance=request.url.path, headers=exc.headers
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", path=request.url.path)
    return problem_response(
        500, "internal_error", "An unexpected error occurred.", instance=request.url.path
    )


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through the problem+json renderer."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
