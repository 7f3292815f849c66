"""GET /v1/changes.atom: the register's change log as an Atom feed (RFC 4287, via feedgen),
for people who follow changes in a feed reader or a Teams/Slack feed connector."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from feedgen.feed import FeedGenerator
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.dependencies import ReadAccess
from app.checks.verdicts import Clock
from app.deps import SessionDep, SettingsDep
from app.models import Organisation, OrganisationEvent
from app.register import queries
from app.register.http import READ_ERRORS, invalid_doc
from app.register.schemas import RegisterStamp
from app.web import CACHE_CONTROL, make_etag, not_modified

router = APIRouter(prefix="/v1", tags=["register"])
ATOM = "application/atom+xml"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # `updated` of a feed with nothing in it yet
MAX_ENTRIES = 200
# Entry ids are derived from the event id, so a feed reader sees each change once.
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://certlookup.invalid/changes")
_KIND_TITLES = {
    "added": "added to the register",
    "status_changed": "status changed",
    "renamed": "renamed",
    "details_changed": "details changed",
    "removed": "removed from the register",
}


def _describe(event: OrganisationEvent, name: str) -> tuple[str, str]:
    """An entry's title and text."""
    title = f"{name}: {_KIND_TITLES.get(event.kind, event.kind)}"
    if event.kind == "status_changed":
        title += f" ({event.status_before} to {event.status_after})"
    lines = [f"{field}: {before} -> {after}" for field, (before, after) in event.changes.items()]
    if event.status_before != event.status_after:
        lines.insert(0, f"status: {event.status_before or 'new'} -> {event.status_after}")
    if event.effective_on:
        lines.append(f"effective on (per the register): {event.effective_on.isoformat()}")
    lines.append(f"registry version: {event.registry_version}")
    return title, "\n".join(lines)


def latest_changes(session: Session, limit: int) -> list[tuple[OrganisationEvent, str]]:
    """The newest changes with their organisation's current name, newest first."""
    query = (
        select(OrganisationEvent, Organisation.name)
        .join(Organisation, Organisation.id == OrganisationEvent.organisation_id)
        .order_by(OrganisationEvent.observed_at.desc(), OrganisationEvent.id.desc())
        .limit(limit)
    )
    return [(event, name) for event, name in session.execute(query)]


def render_feed(
    changes: list[tuple[OrganisationEvent, str]], stamp: RegisterStamp, base_url: str
) -> bytes:
    """The Atom document for these changes (newest first)."""
    feed = FeedGenerator()
    feed.id(f"urn:uuid:{ID_NAMESPACE}")
    feed.title("Bild ACT register: changes (RRN certified training)")
    feed.subtitle("Additions, status changes, renames and removals seen by the certlookup mirror.")
    feed.author({"name": "certlookup"})
    feed.link(href=f"{base_url}v1/changes.atom", rel="self", type=ATOM)
    feed.link(href=f"{base_url}v1/changes", rel="alternate", type="application/json")
    feed.updated(changes[0][0].observed_at if changes else stamp.last_synced_at or EPOCH)
    for event, name in reversed(changes):  # feedgen lists the last added first
        title, text = _describe(event, name)
        entry = feed.add_entry()
        entry.id(f"urn:uuid:{uuid.uuid5(ID_NAMESPACE, str(event.id))}")
        entry.title(title)
        entry.updated(event.observed_at)
        entry.published(event.observed_at)
        entry.link(href=f"{base_url}v1/organisations/{event.organisation_id}", rel="alternate")
        entry.content(text, type="text")
    document: bytes = feed.atom_str(pretty=True)
    return document


ATOM_EXAMPLE = """<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>urn:uuid:27950f92-55d8-5ac8-9203-e7082918df8c</id>
  <title>Bild ACT register: changes (RRN certified training)</title>
  <updated>2026-12-02T03:00:04.489764+00:00</updated>
  <author><name>certlookup</name></author>
  <link href="https://certlookup.example.gov.uk/v1/changes.atom" rel="self"/>
  <entry>
    <id>urn:uuid:4e1ddca4-5a6c-5bdb-89e0-f7b6fa3dafd6</id>
    <title>Keystone Bridges Consulting Ltd: added to the register</title>
    <updated>2026-12-02T03:00:04.489764+00:00</updated>
    <content type="text">status: new -&gt; working_towards
registry version: 1</content>
    <link href="https://certlookup.example.gov.uk/v1/organisations/98"/>
  </entry>
</feed>
"""


@router.get(
    "/changes.atom",
    operation_id="changes_atom",
    summary="The register's changes as an Atom feed",
    response_class=Response,
    responses={
        200: {
            "content": {ATOM: {"schema": {"type": "string"}, "example": ATOM_EXAMPLE}},
            "description": "An Atom 1.0 feed, newest change first.",
        },
        **READ_ERRORS,
        **invalid_doc("validation_error"),
    },
)
def changes_atom(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    client: ReadAccess,
    limit: Annotated[
        int, Query(ge=1, le=MAX_ENTRIES, description=f"Entries, 1-{MAX_ENTRIES} (newest).")
    ] = 50,
) -> Response:
    """Additions, status changes, renames, detail changes and removals, newest first."""
    stamp = queries.read_stamp(session, Clock.for_settings(settings))
    etag = make_etag("changes.atom", stamp, request.url.query)
    if cached := not_modified(request, response, etag):
        return cached
    body = render_feed(latest_changes(session, limit), stamp, str(request.base_url))
    return Response(body, media_type=ATOM, headers={"ETag": etag, "Cache-Control": CACHE_CONTROL})
