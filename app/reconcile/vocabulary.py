"""What the reconciliation service calls things: its types (the register's statuses) and
its properties (for query identifiers and for data extension)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Term:
    """A type or property: its stable id, its name, and what it means."""

    id: str
    name: str
    description: str


TYPES = (
    Term("certified", "Certified training service", "Delivers RRN-certified training."),
    Term(
        "affiliate",
        "Affiliate organisation",
        "Delivers a certified provider's training in-house, under that provider.",
    ),
    Term(
        "working_towards",
        "Working towards certification",
        "Has applied for certification; not yet delivering certified training.",
    ),
)
TYPES_BY_ID = {term.id: term for term in TYPES}

# Query properties read as identifiers, by the same rules as /v1/check's parameters of the
# same names; any other property of a query is ignored.
IDENTIFIER_PROPERTIES = ("certificate_number", "website")

# Properties a reconciled column can be extended with, in the order proposed.
EXTEND_PROPERTIES = (
    Term("status", "Status", "certified, affiliate or working_towards."),
    Term("parent", "Parent provider", "Affiliates: the certified provider they train under."),
    Term(
        "certificate_number",
        "Certificate number",
        "Bild ACT certificate number. In a query: confirms or contradicts the name, or finds "
        "the organisation alone (as on /v1/check).",
    ),
    Term("valid_until", "Valid until", "The certificate's stated expiry date."),
    Term(
        "website",
        "Website",
        "The website the register lists. In a query: confirms or contradicts the name, or "
        "finds the organisation alone (as on /v1/check).",
    ),
    Term("regions", "Regions", "Regions served (one value each)."),
    Term("settings", "Settings", "Settings the training is delivered into (one value each)."),
    Term("last_changed", "Last changed", "When the mirror last saw this entry change."),
)
EXTEND_BY_ID = {term.id: term for term in EXTEND_PROPERTIES}


def type_of(status: str) -> Term:
    """The reconciliation type of a register status."""
    return TYPES_BY_ID[status]
