"""Bodies of the reconciliation endpoints: what OpenRefine sends (inside the `queries` and
`extend` form fields, as JSON) and what it reads back, shaped by the 0.2 JSON schemas."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator
from pydantic_core import PydanticCustomError

from app.schemas import RequestBody

MAX_QUERIES = 1000
MAX_LIMIT = 1000
MAX_EXTEND_IDS = 1000

# ---- Queries in (JSON inside the `queries` field) ------------------------------------------


class EntityValue(RequestBody):
    """A property value that is an entity (a cell of a reconciled column)."""

    id: str = Field(description="The entity's identifier.")
    name: str | None = Field(None, description="The entity's name.")


PropertyValue = str | int | float | bool | EntityValue


class QueryProperty(RequestBody):
    """A value from another column sent with the query."""

    pid: str = Field(
        description="The property: certificate_number or website are used as identifiers "
        "(as on /v1/check); any other is ignored."
    )
    v: PropertyValue | list[PropertyValue] = Field(description="The value, or several.")


class ReconQuery(RequestBody):
    """One query of a batch, as the 0.2 query schema allows it."""

    # Bad text in the name makes that query's result empty, not the batch a 422.
    text_checked_by_endpoint = frozenset({"query"})

    query: str | None = Field(None, description="The name to match.")
    type: str | list[str] | None = Field(
        None, description="Only candidates of this type (or these types)."
    )
    limit: int | None = Field(
        None, ge=1, le=MAX_LIMIT, description="The most candidates to return."
    )
    properties: list[QueryProperty] | None = Field(
        None, description="Values from other columns: certificate_number and website."
    )
    type_strict: Literal["any", "should", "all"] | None = Field(
        None, description="Accepted; one type per entity, so every value filters alike."
    )

    @model_validator(mode="after")
    def _query_or_properties(self) -> ReconQuery:
        if self.query is None and not self.properties:
            raise PydanticCustomError(
                "query_missing", "a query needs `query` or at least one property"
            )
        return self


class QueryBatch(RootModel[dict[str, ReconQuery]]):
    """The `queries` field: queries keyed by the caller's own ids."""

    @model_validator(mode="before")
    @classmethod
    def _at_most_max_queries(cls, value: object) -> object:
        # Before the queries are validated, like the batch check's limit.
        if isinstance(value, dict) and len(value) > MAX_QUERIES:
            raise PydanticCustomError(
                "batch_too_large",
                "a batch holds at most {limit} queries, got {count}",
                {"limit": MAX_QUERIES, "count": len(value)},
            )
        return value


# ---- Candidates out -----------------------------------------------------------------------


class TypeOut(BaseModel):
    id: str = Field(description="Type id: certified, affiliate or working_towards.")
    name: str = Field(description="The type's name.")


class FeatureOut(BaseModel):
    id: str = Field(description="name_similarity: how alike the names are, 0-100.")
    value: float = Field(description="The feature's value.")


class CandidateOut(BaseModel):
    """A register entry that may be the one the query means."""

    id: str = Field(description="The organisation's id (as on /v1/organisations/{id}).")
    name: str = Field(description="The organisation's name.")
    description: str = Field(description="Status, and the name that scored.")
    score: float = Field(
        description="0-100: 100 for the match /v1/check would give; otherwise the name's "
        "similarity, at most 99 (see features for the similarity itself)."
    )
    match: bool = Field(description="True only when /v1/check would auto-match this organisation.")
    type: list[TypeOut] = Field(description="The organisation's status, as a type.")
    features: list[FeatureOut] = Field(description="Scores behind the candidate.")


class QueryResult(BaseModel):
    result: list[CandidateOut] = Field(description="Candidates, best first; may be empty.")


_RESULT_EXAMPLE: dict[str, Any] = {
    "q0": {
        "result": [
            {
                "id": "3",
                "name": "Safe-Hands® Training Ltd",
                "description": "Certified training service; matched Safe-Hands® Training Ltd",
                "score": 100.0,
                "match": True,
                "type": [{"id": "certified", "name": "Certified training service"}],
                "features": [{"id": "name_similarity", "value": 100.0}],
            }
        ]
    },
    "q1": {"result": []},
}


class ReconcileResults(RootModel[dict[str, QueryResult]]):
    """Each query's candidates, under the key it was sent with."""

    model_config = ConfigDict(json_schema_extra={"examples": [_RESULT_EXAMPLE]})


class ReconcileForm(RequestBody):
    """A form-encoded POST: a batch of queries, or a data extension query."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"queries": '{"q0": {"query": "Safe Hands Training", "limit": 3}}'}]
        }
    )

    queries: str | None = Field(
        None,
        description="JSON: queries keyed by your own ids (at most 1,000), each with `query` "
        "(a name), `type`, `limit` and `properties` (certificate_number and website are read "
        "as identifiers).",
    )
    extend: str | None = Field(
        None,
        description='JSON: {"ids": ["3"], "properties": [{"id": "status"}, {"id": '
        '"valid_until"}]}: values of these properties for these organisations.',
    )


# ---- Data extension -----------------------------------------------------------------------


class ExtendPropertyIn(RequestBody):
    id: str = Field(description="A property id from propose_properties.")
    settings: dict[str, str | int | float | bool] | None = Field(
        None, description="Accepted and ignored: these properties take no settings."
    )


class ExtendQuery(RequestBody):
    """The `extend` field: which properties of which organisations."""

    ids: list[str] = Field(max_length=MAX_EXTEND_IDS, description="Organisation ids.")
    properties: list[ExtendPropertyIn] = Field(description="Properties to fetch.")


class StrValue(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    text: str = Field(alias="str", description="A text value.")


class DateValue(BaseModel):
    date: str = Field(description="A date and time, ISO 8601 in UTC.")


class EntityRef(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"id": "3", "name": "Safe-Hands® Training Ltd"}]}
    )

    id: str = Field(description="An organisation id of this service.")
    name: str = Field(description="Its name.")


ExtendValue = EntityRef | DateValue | StrValue


class PropertyMeta(BaseModel):
    id: str = Field(description="Property id.")
    name: str = Field(description="Property name (the new column's name).")
    type: TypeOut | None = Field(None, description="For entity values: their type.")


class ExtendResponse(BaseModel):
    """Property values per organisation; an unknown id gets no values."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "meta": [
                        {"id": "status", "name": "Status"},
                        {"id": "valid_until", "name": "Valid until"},
                    ],
                    "rows": {
                        "3": {
                            "status": [{"str": "certified"}],
                            "valid_until": [{"date": "2027-03-31T00:00:00Z"}],
                        }
                    },
                }
            ]
        }
    )

    meta: list[PropertyMeta] = Field(description="The properties, in the order asked.")
    rows: dict[str, dict[str, list[ExtendValue]]] = Field(
        description="For each id asked, each property's values (possibly none)."
    )


class PropertyOut(BaseModel):
    id: str = Field(description="Property id.")
    name: str = Field(description="Property name.")


class ProposedProperties(BaseModel):
    """The properties an organisation of a type can be extended with."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "certified",
                    "properties": [
                        {"id": "status", "name": "Status"},
                        {"id": "valid_until", "name": "Valid until"},
                    ],
                    "limit": 2,
                }
            ]
        }
    )

    type: str = Field(description="The type asked about (may be empty: any).")
    properties: list[PropertyOut] = Field(description="Properties, most useful first.")
    limit: int | None = Field(None, description="The limit asked for, if any.")


# ---- Suggest ------------------------------------------------------------------------------


class SuggestedEntity(BaseModel):
    id: str = Field(description="Organisation id.")
    name: str = Field(description="Its name.")
    description: str = Field(description="Its status, and the name that matched.")
    notable: list[TypeOut] = Field(description="Its status, as a type.")


class SuggestedEntities(BaseModel):
    """Organisations whose names start with the prefix, then names like it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "result": [
                        {
                            "id": "3",
                            "name": "Safe-Hands® Training Ltd",
                            "description": "Certified training service",
                            "notable": [{"id": "certified", "name": "Certified training service"}],
                        }
                    ]
                }
            ]
        }
    )

    result: list[SuggestedEntity] = Field(description="Best first, a page at a time.")


class SuggestedTerm(BaseModel):
    id: str = Field(description="Type or property id.")
    name: str = Field(description="Its name.")
    description: str = Field(description="What it means.")


class SuggestedTerms(BaseModel):
    """Types or properties whose id or name match the prefix."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "result": [
                        {
                            "id": "certified",
                            "name": "Certified training service",
                            "description": "Delivers RRN-certified training.",
                        }
                    ]
                }
            ]
        }
    )

    result: list[SuggestedTerm] = Field(description="Matching types or properties.")
