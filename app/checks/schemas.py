"""Request and response bodies of the check endpoints."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from app.checks import examples as ex
from app.checks.examples import examples
from app.schemas import RequestBody

MAX_BATCH = 1000


class Verdict(StrEnum):
    """The answer to "is this provider on the register?"."""

    CERTIFIED = "certified"
    AFFILIATE = "affiliate"
    WORKING_TOWARDS = "working_towards"
    NOT_LISTED = "not_listed"
    NEEDS_REVIEW = "needs_review"
    UNKNOWN = "unknown"


class Setting(StrEnum):
    """Who regulates the setting the training is for."""

    CQC = "cqc"
    OFSTED_ONLY = "ofsted_only"


class RegisterStamp(BaseModel):
    """Which registry version answered, and how fresh it is."""

    model_config = ConfigDict(json_schema_extra=examples(ex.STAMP))

    version: int = Field(description="Registry version; increases whenever the mirror changes.")
    last_synced_at: dt.datetime | None = Field(
        description="When the mirror last matched the register (last successful sync)."
    )
    source_url: str | None = Field(description="Where the register was read from.")
    stale: bool = Field(description="True when the data is older than the configured maximum age.")


class NameOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.NAME))

    name: str = Field(description="A name the organisation is or was listed under.")
    kind: str = Field(description="name, listed (as shown), trading (t/a) or former.")


# Fields an OrganisationOut copies as they are from the mirror's row or the snapshot's view.
ORGANISATION_FIELDS = (
    "id",
    "name",
    "listed_name",
    "status",
    "certificate_number",
    "certified_on",
    "valid_until",
    "website",
    "parent_name",
    "approved_on",
    "note",
)


def organisation_fields(org: Any, names: list[tuple[str, str]]) -> dict[str, Any]:
    """The OrganisationOut fields of a mirrored organisation (an ORM row or a snapshot view)."""
    values = {field: getattr(org, field) for field in ORGANISATION_FIELDS}
    values["names"] = [NameOut(name=name, kind=kind) for name, kind in names]
    values["settings"] = list(org.settings)
    values["regions"] = list(org.regions)
    return values


class ParentOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.PARENT))

    id: int = Field(description="The certified provider's organisation id.")
    name: str = Field(description="The certified provider's name.")
    status: str = Field(description="The certified provider's current status.")


class OrganisationOut(BaseModel):
    """An organisation on (or formerly on) the register."""

    model_config = ConfigDict(json_schema_extra=examples(ex.ORGANISATION))

    id: int = Field(description="Stable id; survives renames and status changes.")
    name: str = Field(description="The organisation's own name.")
    listed_name: str = Field(description="The name exactly as the register shows it.")
    status: str = Field(description="certified, affiliate, working_towards or removed.")
    names: list[NameOut] = Field(description="Every known name (listed, trading, former).")
    certificate_number: str | None = Field(None, description="Bild ACT certificate number.")
    certified_on: dt.date | None = Field(None, description="Date certified, per the register.")
    valid_until: dt.date | None = Field(None, description="Certificate valid until.")
    settings: list[str] = Field(default_factory=list, description="Training delivered to.")
    regions: list[str] = Field(default_factory=list, description="Regions served.")
    website: str | None = Field(None, description="Website, as listed.")
    parent: ParentOut | None = Field(None, description="Affiliates: the certified provider.")
    parent_name: str | None = Field(None, description="Affiliates: the parent as written.")
    approved_on: dt.date | None = Field(None, description="Affiliates: month approved.")
    note: str | None = Field(None, description="Working towards: the register's note.")


class IdentifierOut(BaseModel):
    """An identifier given with the query that belongs to the matched organisation."""

    model_config = ConfigDict(json_schema_extra=examples(ex.IDENTIFIER))

    kind: str = Field(description="certificate_number or website.")
    value: str = Field(
        description="The identifier as given, in the form compared (a certificate number in "
        "upper case without spaces or hyphens; a website's host)."
    )
    listed_as: str = Field(description="The identifier as the register lists it.")
    organisation_id: int = Field(description="The organisation the register lists it for.")
    organisation_name: str = Field(description="That organisation's name.")
    relation: str = Field(
        description="self: the matched organisation's own; parent: its parent's (an "
        "affiliate has no certificate of its own and trains under its parent's)."
    )


class MatchOut(BaseModel):
    """How the query found its organisation."""

    model_config = ConfigDict(json_schema_extra=examples(ex.MATCH))

    method: str = Field(
        description="exact, alias (a trading or former name) or fuzzy for a name; "
        "certificate_number or website for a match by identifier alone."
    )
    score: float = Field(description="Similarity 0-100 of the matched name (100 by identifier).")
    matched_name: str = Field(
        description="The register name that matched; for a match by identifier, the "
        "identifier as the register lists it."
    )
    matched_kind: str | None = Field(
        description="Which kind of name matched (name, listed, trading, former), or "
        "certificate_number / website for a match by identifier."
    )
    reason: str = Field(description="Why this counts as a match.")
    confirmed_by: list[IdentifierOut] = Field(
        default_factory=list,
        description="Identifiers given with the query that belong to the matched organisation "
        "(or, for an affiliate, to its parent) and so confirm the match.",
    )


class CandidateOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.CANDIDATE))

    organisation_id: int = Field(description="Candidate organisation id.")
    name: str = Field(description="Candidate's name.")
    status: str = Field(description="Candidate's status.")
    matched_name: str = Field(
        description="Which of its names scored, or the identifier given that it lists."
    )
    score: float = Field(description="Similarity 0-100 (100 for an identifier it lists).")


class WarningOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.WARNING))

    code: str = Field(description="Stable warning code.")
    message: str = Field(description="What to be careful about.")


class CheckResult(BaseModel):
    """A verdict with its evidence."""

    model_config = ConfigDict(
        use_enum_values=True, populate_by_name=True, json_schema_extra=examples(ex.RESULT)
    )

    query: str | None = Field(description="The name as asked; null when only identifiers were.")
    certificate_number: str | None = Field(
        default=None,
        description="The certificate number as asked, in the form compared (upper case, no "
        "spaces or hyphens); null when none was given.",
    )
    website: str | None = Field(
        default=None,
        description="The website as asked, in the form compared: its host in lower case "
        "without scheme, www., port, path or trailing dot, internationalised names in "
        "ASCII (punycode); on a shared platform such as facebook.com, host and path. Null "
        "when none was given.",
    )
    as_of: dt.date | None = Field(description="The date asked about; null means now.")
    verdict: Verdict = Field(
        description="certified, affiliate, working_towards, not_listed, needs_review or unknown."
    )
    meets_cqc_expectation: bool | None = Field(
        description="True: certified training (or an affiliate of a certified provider). "
        "False: not certified. Null: cannot say (review needed, stale data, expired "
        "certificate, unknown date, or the CQC expectation does not apply)."
    )
    cqc_expectation_applies: bool = Field(
        description="False for setting=ofsted_only: Ofsted/DfE-only settings may use "
        "uncertified trainers."
    )
    explanation: str = Field(description="The verdict in one sentence.")
    organisation: OrganisationOut | None = Field(description="The matched organisation.")
    match: MatchOut | None = Field(description="How the name matched.")
    candidates: list[CandidateOut] = Field(description="Scored candidates, best first.")
    warnings: list[WarningOut] = Field(description="Things the caller should know.")
    register_: RegisterStamp = Field(
        alias="register", description="Registry version and freshness."
    )


class BatchQuery(RequestBody):
    """One question in a batch."""

    model_config = ConfigDict(json_schema_extra=examples(*ex.BATCH_QUERIES))

    # A bad name, identifier, date or setting is that item's own error (checked by the
    # endpoint).
    text_checked_by_endpoint = frozenset(
        {"name", "certificate_number", "website", "as_of", "setting"}
    )

    name: str | None = Field(
        None, description="The provider name to check; optional when an identifier is given."
    )
    certificate_number: str | None = Field(
        None, description="Bild ACT certificate number, any case, spaces or hyphens."
    )
    website: str | None = Field(None, description="The provider's website, in any form.")
    as_of: str | None = Field(None, description="YYYY-MM-DD; omit for now.")
    setting: str | None = Field(None, description="cqc (default) or ofsted_only.")


class BatchRequest(RequestBody):
    """Up to MAX_BATCH questions, answered in order."""

    model_config = ConfigDict(json_schema_extra=examples({"queries": ex.BATCH_QUERIES}))

    queries: list[BatchQuery] = Field(description="Up to 1,000 names, answered in order.")

    @field_validator("queries", mode="before")
    @classmethod
    def _at_most_max_batch(cls, value: object) -> object:
        # Before the items are validated: 600,000 `{}` items in a 2 MB body took 1.7 s.
        if isinstance(value, list) and len(value) > MAX_BATCH:
            raise PydanticCustomError(
                "batch_too_large",
                "a batch holds at most {limit} queries, got {count}",
                {"limit": MAX_BATCH, "count": len(value)},
            )
        return value


class ItemError(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.ITEM_ERROR))

    code: str = Field(description="Stable error code, as in problem documents.")
    detail: str = Field(description="What is wrong with this item.")


class BatchItem(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.BATCH_ITEM))

    index: int = Field(description="Position of the query in the request.")
    result: CheckResult | None = Field(description="The verdict, unless the item was invalid.")
    error: ItemError | None = Field(description="Why this item could not be checked.")
    receipt_id: str | None = Field(
        default=None,
        description="With receipts=true: the id of this item's signed receipt "
        "(GET /v1/receipts/{id}); null for an item in error, or without receipts=true.",
    )


class BatchResult(BaseModel):
    model_config = ConfigDict(populate_by_name=True, json_schema_extra=examples(ex.BATCH_RESULT))

    results: list[BatchItem] = Field(description="One per query, in the same order.")
    register_: RegisterStamp = Field(
        alias="register", description="The one registry version that answered all."
    )
