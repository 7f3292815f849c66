"""GET /v1/organisations/{id} as a plain HTML page, for people (OpenRefine's `view` link).

GOV.UK-like typography; no external asset and no script: the one stylesheet is inline and
allowed by its hash in the page's Content-Security-Policy, so the page also works saved to a
file. Every value goes through Jinja's autoescaping; the website is a link only when it is
an http(s) address.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from functools import cache
from importlib.resources import files
from urllib.parse import urlsplit

from fastapi import Request
from jinja2 import Environment, PackageLoader, Template, select_autoescape

from app.register.schemas import OrganisationDetail, RegisterStamp
from app.web import preferred_type

HTML_MEDIA_TYPE = "text/html"
PAGE_EXAMPLE = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
    "<title>Calder County Council – Bild ACT register mirror</title>\n<style>...</style>\n"
    '</head>\n<body>\n<main id="main">\n<h1>Calder County Council</h1>\n'
    '<p class="lede"><strong class="tag tag-affiliate">Affiliate</strong></p>\n...\n'
    "</main>\n</body>\n</html>\n"
)
_STATUS_LABELS = {
    "certified": "Certified",
    "affiliate": "Affiliate",
    "working_towards": "Working towards certification",
    "removed": "Removed from the register",
}
_KIND_LABELS = {
    "added": "Added",
    "status_changed": "Status changed",
    "renamed": "Renamed",
    "details_changed": "Details changed",
    "removed": "Removed",
}


@cache
def _stylesheet() -> str:
    return (files("app.register") / "templates" / "organisation.css").read_text("utf-8")


@cache
def _template() -> Template:
    environment = Environment(
        loader=PackageLoader("app.register", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("organisation.html")


def wants_html(request: Request) -> bool:
    """True when the Accept header ranks HTML above JSON (a browser's does)."""
    accept = request.headers.get("accept")
    return preferred_type(accept, ("application/json", "text/html")) == "text/html"


def page_headers() -> dict[str, str]:
    """The page's own policy: nothing loads but its inline stylesheet; never framed."""
    digest = hashlib.sha256(_stylesheet().encode()).digest()
    style = "'sha256-" + base64.b64encode(digest).decode() + "'"
    policy = (
        f"default-src 'none'; style-src {style}; img-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )
    return {"Content-Security-Policy": policy, "X-Frame-Options": "DENY"}


def _day(value: dt.date) -> str:
    return f"{value.day} {value:%B %Y}"


def _when(value: dt.datetime) -> str:
    return f"{_day(value)}, {value:%H:%M} UTC"


def _web_link(website: str | None) -> str | None:
    if not website:
        return None
    parts = urlsplit(website.strip())
    return website.strip() if parts.scheme in {"http", "https"} and parts.netloc else None


def render_organisation(detail: OrganisationDetail, stamp: RegisterStamp) -> str:
    """The organisation page."""
    return _template().render(
        org=detail,
        stamp=stamp,
        css=_stylesheet(),
        other_names=[n for n in detail.names if n.name != detail.name],
        web_link=_web_link(detail.website),
        status_label=lambda status: _STATUS_LABELS.get(status, status),
        kind_label=lambda kind: _KIND_LABELS.get(kind, kind),
        day=_day,
        when=_when,
    )
