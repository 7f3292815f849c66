"""Validation of what callers send: names, identifiers, dates and settings, with stable
error codes."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from app.checks.identifiers import IdentifierError, normalise_certificate_number, normalise_website
from app.checks.schemas import Setting
from app.errors import InvalidInput
from app.schemas import INVALID_ENCODING, has_lone_surrogate

MAX_NAME_LENGTH = 300
# C0/C1 control characters (tab, newline included) and NUL: no provider name has them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class CheckQuery:
    """A validated lookup: a name, identifiers, or both (at least one is given)."""

    name: str | None
    as_of: dt.date | None = None
    setting: Setting = Setting.CQC
    certificate_number: str | None = None
    """Normalised: upper case, no spaces or hyphens (app.checks.identifiers)."""
    website: str | None = None
    """Normalised: the host, or a shared platform's host and path (app.checks.identifiers)."""

    def describe(self) -> str:
        """What was asked, for sentences: the name, else the identifiers."""
        if self.name is not None:
            return f"'{self.name}'"
        parts = [f"certificate number {self.certificate_number}"] * bool(self.certificate_number)
        parts += [f"website {self.website}"] * bool(self.website)
        return " and ".join(parts)


def validate_name(raw: str | None) -> str:
    """The name stripped, or InvalidInput with a code saying what is wrong."""
    if raw is None or not raw.strip():
        raise InvalidInput(
            "name must not be empty (unless a certificate_number or website is given)",
            code="name_empty",
        )
    if len(raw) > MAX_NAME_LENGTH:
        raise InvalidInput(
            f"name is longer than {MAX_NAME_LENGTH} characters", code="name_too_long"
        )
    if _CONTROL.search(raw):
        raise InvalidInput("name contains control characters", code="name_invalid_characters")
    _check_unicode("name", raw)
    return raw.strip()


def _check_unicode(field: str, raw: str) -> None:
    if has_lone_surrogate(raw):
        raise InvalidInput(
            f"{field} is not valid Unicode: it holds a lone UTF-16 surrogate",
            code=INVALID_ENCODING,
        )


def validate_certificate_number(raw: str | None) -> str | None:
    """The comparable form of a certificate number; None when none was given."""
    if raw is None or not raw.strip():
        return None
    _check_unicode("certificate_number", raw)
    try:
        return normalise_certificate_number(raw)
    except IdentifierError as exc:
        raise InvalidInput(f"certificate_number {exc}", code="certificate_number_invalid") from None


def validate_website(raw: str | None) -> str | None:
    """The comparable form of a website; None when none was given."""
    if raw is None or not raw.strip():
        return None
    _check_unicode("website", raw)
    try:
        return normalise_website(raw)
    except IdentifierError as exc:
        raise InvalidInput(f"website {exc}", code="website_invalid") from None


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
    name: str | None,
    as_of: str | None,
    setting: str | None,
    today: dt.date,
    certificate_number: str | None = None,
    website: str | None = None,
) -> CheckQuery:
    """One validated lookup from raw request values; the name may be left out when a
    certificate number or website is given."""
    certificate = validate_certificate_number(certificate_number) if certificate_number else None
    site = validate_website(website) if website else None
    if (certificate or site) and (name is None or not name.strip()):
        checked_name = None
    else:
        checked_name = validate_name(name)
    return CheckQuery(
        checked_name, validate_as_of(as_of, today), validate_setting(setting), certificate, site
    )
