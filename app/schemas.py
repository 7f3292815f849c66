"""The base of every JSON request body: closed, strict and valid Unicode at every level.

Every model a request body is made of (the body and each object nested in it) subclasses
`RequestBody`. tests/api/test_request_bodies.py walks the OpenAPI document and every route
that takes a body, so an endpoint added later is held to this without anyone remembering.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Strict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

# A str from json.loads holds a code point in this range only for a lone UTF-16 surrogate
# escape ("\ud800"): a valid pair is decoded into one character. Such text cannot be encoded
# as UTF-8, so it would fail later (rendering a response, writing to PostgreSQL) as a 500.
_SURROGATE = re.compile("[\ud800-\udfff]")
INVALID_ENCODING = "invalid_encoding"
INVALID_CHARACTERS = "invalid_characters"


def has_lone_surrogate(text: str) -> bool:
    """True when `text` holds a lone UTF-16 surrogate (so it is not valid Unicode text)."""
    return not text.isascii() and _SURROGATE.search(text) is not None


def _text_problem(text: str) -> tuple[str, str] | None:
    if "\x00" in text:
        # Valid Unicode, but PostgreSQL cannot store it in text: a 500 at the write.
        return INVALID_CHARACTERS, "Text holds a NUL character (U+0000), which no field accepts"
    if has_lone_surrogate(text):
        return INVALID_ENCODING, "Text is not valid Unicode: it holds a lone UTF-16 surrogate"
    return None


def _first_text_problem(value: object) -> tuple[str, str] | None:
    """The error (code, message) of the first bad string in `value` (a str, or lists and
    dicts of them, keys included). Nested request models are skipped: each checks its own."""
    if isinstance(value, str):
        return _text_problem(value)
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _first_text_problem(key) or _first_text_problem(item)
            if found is not None:
                return found
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            found = _first_text_problem(item)
            if found is not None:
                return found
    return None


def _text_only(value: object) -> object:
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "Input should be a string in ISO 8601 form")
    return value


# JSON has no date, date-time or enumeration type, and strict validation of Python values
# (which FastAPI runs on the parsed JSON) would refuse "2026-01-31" for a date. These accept
# the ISO text only: still no numbers-as-timestamps or other coercion.
IsoDate = Annotated[dt.date, BeforeValidator(_text_only), Strict(False)]
IsoDateTime = Annotated[dt.datetime, BeforeValidator(_text_only), Strict(False)]
# For an Enum field: `Annotated[MyEnum, ENUM_BY_VALUE]` accepts the value as JSON writes it.
ENUM_BY_VALUE = Strict(False)


class RequestBody(BaseModel):
    """Base of every JSON request body and of every object nested in one.

    - `extra="forbid"`: an unknown field is a 422 at every level, not silently dropped.
    - `strict=True`: no coercion: "yes" or 1 is not `true`, "5" is not 5. Declare dates with
      IsoDate / IsoDateTime and enums with `Annotated[E, ENUM_BY_VALUE]` (JSON writes them
      as text); `Literal[...]` works as it is.
    - Text must be valid Unicode: a lone UTF-16 surrogate ("\\ud800") in any string, at any
      depth, is a 422 `invalid_encoding`; a NUL character is a 422 `invalid_characters`.
      A field whose endpoint answers bad text with its own error (a batch item's name gets
      a per-item error) lists itself in `text_checked_by_endpoint`, and the endpoint must
      then check it.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    text_checked_by_endpoint: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _valid_unicode(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name in cls.text_checked_by_endpoint:
            return value
        problem = _first_text_problem(value)
        if problem is not None:
            raise PydanticCustomError(*problem)
        return value


def example_value(value: object, summary: str) -> dict[str, Any]:
    """A parameter's `openapi_examples`: the value Swagger UI's "Try it out" starts with."""
    return {"sample": {"summary": summary, "value": value}}
