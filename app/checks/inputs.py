"""Validation of what callers send: names, dates and settings, with stable error codes."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from app.checks.schemas import Setting
from app.errors import InvalidInput
from app.schemas import INVALID_ENCODING, has_lone_surrogate

MAX_NAME_LENGTH = 300
# C0/C1 control characters (tab, newline included) and NUL: no provider name has them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class CheckQuery:
    """A validated lookup."""

    name: str
    as_of: dt.date | None = None
    setting: Setting = Setting.CQC


def validate_name(raw: str | None) -> str:
    """The name stripped, or InvalidInput with a code saying what is wrong."""
    if raw is None or not raw.strip():
        raise InvalidInput("name must not be empty", code="name_empty")
    if len(raw) > MAX_NAME_LENGTH:
        raise InvalidInput(
            f"name is longer than {MAX_NAME_LENGTH} characters", code="name_too_long"
        )
    if _CONTROL.search(raw):
        raise InvalidInput("name contains control characters", code="name_invalid_characters")
    if has_lone_surrogate(raw):
        raise InvalidInput(
            "name is not valid Unicode: it holds a lone UTF-16 surrogate", code=INVALID_ENCODING
        )
    return raw.strip()


def validate_as_of(raw: str | None, today: dt.date) -> dt.date | None:
    """A real calendar date, not in the future, or InvalidInput."""
    if raw is None or raw == "":
        return None
    if not _ISO_DATE.fullmatch(raw):
        raise InvalidInput("as_of must be a date written YYYY-MM-DD", code="invalid_date")
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"as_of {raw!r} is not a real date", code="invalid_date") from None
    if value > today:
        raise InvalidInput("as_of must not be in the future", code="date_in_future")
    return value


def validate_setting(raw: str | None) -> Setting:
    """cqc (the default) or ofsted_only."""
    if raw is None or raw == "":
        return Setting.CQC
    try:
        return Setting(raw)
    except ValueError:
        raise InvalidInput("setting must be cqc or ofsted_only", code="invalid_setting") from None


def validate_query(
    name: str | None, as_of: str | None, setting: str | None, today: dt.date
) -> CheckQuery:
    """One validated lookup from raw request values."""
    return CheckQuery(validate_name(name), validate_as_of(as_of, today), validate_setting(setting))
