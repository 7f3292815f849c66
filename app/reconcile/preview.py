"""The preview card: a small static HTML page OpenRefine shows in an iframe (sandboxed, no
scripts) when a candidate is hovered. All text is escaped; the one style sheet is inline and
allowed by its hash, so the page loads nothing and runs nothing."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from html import escape

from app.checks.snapshot import OrganisationView, Snapshot
from app.reconcile.vocabulary import TYPES_BY_ID

STYLE = (
    "body{margin:0;padding:8px 10px;font:14px/1.35 Arial,Helvetica,sans-serif;color:#0b0c0c;"
    "background:#fff}h1{font-size:16px;margin:0 0 4px}p{margin:0 0 6px;color:#505a5f}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:0}"
    "dt{font-weight:bold}dd{margin:0}.expired{color:#d4351c;font-weight:bold}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
# The page may be framed by anyone (OpenRefine runs on the analyst's own machine, at any
# origin); it can load nothing and run nothing.
PREVIEW_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors *"
)


def _row(label: str, value: str | None, css: str = "") -> str:
    if not value:
        return ""
    attribute = f' class="{css}"' if css else ""
    return f"<dt>{escape(label)}</dt><dd{attribute}>{escape(value)}</dd>"


def _validity(org: OrganisationView, today: dt.date) -> str:
    if org.valid_until is None:
        return ""
    text = org.valid_until.isoformat()
    if org.valid_until < today:
        return _row("Valid until", f"{text} (expired)", "expired")
    return _row("Valid until", text)


def _parent(snapshot: Snapshot, org: OrganisationView) -> str | None:
    parent = snapshot.organisations.get(org.parent_id) if org.parent_id else None
    return parent.name if parent is not None else org.parent_name


def _register_date(org: OrganisationView) -> str:
    if org.certified_on is not None:
        return _row("Certified on", org.certified_on.isoformat())
    if org.approved_on is not None:
        return _row("Approved", org.approved_on.strftime("%B %Y"))
    return ""


def preview_card(snapshot: Snapshot, org: OrganisationView, today: dt.date) -> str:
    """The card: name, status, parent, certificate, validity, register date, data as of."""
    kind = TYPES_BY_ID.get(org.status)
    synced = snapshot.info.last_synced_at
    rows = "".join(
        [
            _row("Status", kind.name if kind else org.status),
            _row("Parent", _parent(snapshot, org)),
            _row("Certificate", org.certificate_number),
            _validity(org, today),
            _register_date(org),
            _row("Register as of", synced.date().isoformat() if synced else None),
        ]
    )
    also = [name for name, _ in org.names if name != org.name]
    known_as = f"<p>Also listed as {escape('; '.join(also))}</p>" if also else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(org.name)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(org.name)}</h1>{known_as}<dl>{rows}</dl></body></html>"
    )
