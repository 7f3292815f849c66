"""The printable receipt: one self-contained HTML page (no script, no external assets),
every value escaped; and the page that answers its "verify this signature" form."""

from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import Any

from fastapi import Response

from app.receipts.signing import Verification

STYLE = (
    "body{font:14px/1.45 system-ui,sans-serif;max-width:46rem;margin:1.5rem auto;"
    "padding:0 1rem;color:#111}h1{font-size:1.4rem}h2{font-size:1.05rem;margin-top:1.4rem;"
    "border-bottom:1px solid #999}dl{display:grid;grid-template-columns:12rem 1fr;gap:.2rem "
    ".8rem}dt{color:#444}dd{margin:0}.verdict{font-size:1.3rem;font-weight:bold}"
    "pre{white-space:pre-wrap;word-break:break-all;font-size:10px;border:1px solid #ccc;"
    "padding:.5rem}.ok{color:#075e00}.bad{color:#a00000}"
    "@media print{form{display:none}}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
PAGE_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
VERIFY_FORM_PATH = "/receipts/verify"


def wants_html(accept: str | None) -> bool:
    """True when Accept prefers text/html to application/json (ties: the first named)."""
    best: dict[str, tuple[float, int]] = {}
    for position, part in enumerate((accept or "").split(",")):
        media, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.strip().lower()
        for wanted in ("text/html", "application/json"):
            if media in (wanted, wanted.split("/")[0] + "/*", "*/*"):
                score = (quality if media == wanted else quality - 0.001, -position)
                best[wanted] = max(best.get(wanted, (-1.0, 0)), score)
    html, json = best.get("text/html", (-1.0, 0)), best.get("application/json", (0.0, 1))
    return html[0] > 0 and html > json


def _text(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return escape(str(value))


def _rows(pairs: list[tuple[str, object]]) -> str:
    return "".join(f"<dt>{escape(k)}</dt><dd>{_text(v)}</dd>" for k, v in pairs)


def _asked(receipt: dict[str, Any]) -> str:
    result = receipt["result"]
    applies = result.get("cqc_expectation_applies")
    return _rows(
        [
            ("Name", result.get("query")),
            ("Certificate number", result.get("certificate_number")),
            ("Website", result.get("website")),
            ("As of", result.get("as_of") or "the time of issue"),
            ("Setting", "CQC-regulated" if applies else "Ofsted/DfE only"),
            ("Your reference", receipt.get("reference")),
        ]
    )


def _answer(result: dict[str, Any]) -> str:
    verdict = escape(str(result.get("verdict", "")).replace("_", " "))
    return (
        f'<p class="verdict">{verdict}</p><p>{_text(result.get("explanation"))}</p>'
        + "<dl>"
        + _rows([("Meets the CQC expectation", result.get("meets_cqc_expectation"))])
        + "</dl>"
    )


def _evidence(result: dict[str, Any]) -> str:
    org, match = result.get("organisation") or {}, result.get("match") or {}
    parent = (org.get("parent") or {}).get("name") or org.get("parent_name")
    pairs: list[tuple[str, object]] = [
        ("Organisation", org.get("name")),
        ("Listed as", org.get("listed_name")),
        ("Status", org.get("status")),
        ("Certificate number", org.get("certificate_number")),
        ("Certified on", org.get("certified_on")),
        ("Valid until", org.get("valid_until")),
        ("Parent (affiliates)", parent),
        ("Matched on", match.get("matched_name")),
        ("Match", f"{match['method']}, score {match['score']}" if match else None),
        ("Why", match.get("reason")),
    ]
    pairs += [
        (f"Confirmed by {c['kind'].replace('_', ' ')}", c.get("listed_as"))
        for c in match.get("confirmed_by", [])
    ]
    pairs += [(f"Warning: {w['code']}", w.get("message")) for w in result.get("warnings", [])]
    pairs += [
        ("Candidate", f"{c['name']} ({c['status']}, score {c['score']})")
        for c in result.get("candidates", [])[:5]
    ]
    return _rows(pairs)


def _register(receipt: dict[str, Any]) -> str:
    register = receipt["result"].get("register") or {}
    return _rows(
        [
            ("Register version", register.get("version")),
            ("Register last synced", register.get("last_synced_at")),
            ("Source", register.get("source_url")),
            ("Stale", register.get("stale")),
            ("Receipt issued", receipt.get("issued_at")),
            ("Issued to", receipt.get("client")),
        ]
    )


def _signature(receipt: dict[str, Any], base_url: str) -> str:
    token = escape(receipt["jws"])
    jwks = escape(f"{base_url}/.well-known/jwks.json")
    verify_api = escape(f"{base_url}/v1/receipts/verify")
    return (
        f'<p>Signed with Ed25519 (JWS, EdDSA). Public keys: <a href="{jwks}">{jwks}</a>. '
        f"Verify by POSTing the JWS to {verify_api}, or offline with "
        f"<code>certlookup receipts verify receipt.jws --jwks {jwks}</code>.</p>"
        f'<form method="post" action="{escape(base_url + VERIFY_FORM_PATH)}">'
        f'<input type="hidden" name="jws" value="{token}">'
        '<button type="submit">Verify this signature now</button></form>'
        f"<pre>{token}</pre>"
    )


def _page(title: str, body: str, status: int = 200) -> Response:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )
    return Response(
        document,
        status_code=status,
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "private, no-store"},
    )


def receipt_page(receipt: dict[str, Any], base_url: str) -> Response:
    """The printable receipt."""
    result = receipt["result"]
    body = (
        f"<h1>Certification check receipt {escape(receipt['id'])}</h1>"
        f"<h2>What was asked</h2><dl>{_asked(receipt)}</dl>"
        f"<h2>The answer</h2>{_answer(result)}"
        f"<h2>The evidence</h2><dl>{_evidence(result)}</dl>"
        f"<h2>Register and time</h2><dl>{_register(receipt)}</dl>"
        f"<h2>Signature</h2>{_signature(receipt, base_url)}"
    )
    return _page(f"Receipt {receipt['id']}", body)


def verification_page(outcome: Verification) -> Response:
    """The answer to the receipt page's verify form."""
    status = "ok" if outcome.valid else "bad"
    headline = "Valid receipt" if outcome.valid else "NOT a valid receipt"
    receipt = outcome.receipt or {}
    body = (
        f'<h1 class="{status}">{headline}</h1>'
        f"<dl>{_rows([('Reason', outcome.reason.value), ('Detail', outcome.detail)])}"
        f"{_rows([('Key id', outcome.kid), ('Receipt', receipt.get('id'))])}</dl>"
    )
    if outcome.valid:
        body += f"<h2>The answer</h2>{_answer(receipt['result'])}"
    return _page(headline, body)
