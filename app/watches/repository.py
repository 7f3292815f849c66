"""Reading and writing watches and their events. Never commits: the caller owns the session.

Every query is scoped to one client (`key_id`): another client's watch is simply not found.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from app.errors import InvalidInput, NotFound
from app.models import DeliveryStatus, Watch, WatchEvent, WebhookDelivery

WATCH_CHANGED = "watch.changed"


def encode_cursor(kind: str, row_id: int) -> str:
    """An opaque cursor pointing just after the row with this id."""
    return base64.urlsafe_b64encode(f"{kind}:{row_id}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None) -> int:
    """The id a cursor points after (0 for none), or InvalidInput."""
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = raw.partition(":")
        if prefix != kind or not number.isdigit() or len(number) > 18:
            raise ValueError(raw)
        return int(number)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidInput(
            "cursor is not one this API returned; start again without it", code="invalid_cursor"
        ) from None


def count_watches(session: Session, key_id: int) -> int:
    """How many watches the client holds."""
    query = select(func.count()).select_from(Watch).where(Watch.key_id == key_id)
    return session.scalar(query) or 0


def add_watches(session: Session, rows: Sequence[dict[str, Any]]) -> list[Watch]:
    """Insert watches; returns them with their ids, in the given order."""
    watches = [Watch(**row) for row in rows]
    session.add_all(watches)
    session.flush()
    return watches


def get_watch(session: Session, key_id: int, watch_id: int) -> Watch:
    """The client's watch with this id, or NotFound (also when another client owns it)."""
    watch = session.scalar(select(Watch).where(Watch.id == watch_id, Watch.key_id == key_id))
    if watch is None:
        raise NotFound(f"you have no watch with id {watch_id}", code="watch_not_found")
    return watch


def list_watches(
    session: Session, key_id: int, verdict: str | None, after: int, limit: int
) -> list[Watch]:
    """Up to `limit` of the client's watches after the given id, oldest first."""
    query = select(Watch).where(Watch.key_id == key_id, Watch.id > after)
    if verdict is not None:
        query = query.where(Watch.verdict == verdict)
    return list(session.scalars(query.order_by(Watch.id).limit(limit)))


def delete_watch(session: Session, key_id: int, watch_id: int) -> None:
    """Delete the client's watch and its undelivered webhook deliveries, or NotFound.

    Its events stay in the pull feed: they were true when raised.
    """
    watch = get_watch(session, key_id, watch_id)
    session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.watch_id == watch.id,
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
        )
    )
    session.execute(delete(Watch).where(Watch.id == watch.id))


def add_events(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert events in order; returns their ids in the same order."""
    if not rows:
        return []
    statement = insert(WatchEvent).returning(WatchEvent.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, list(rows)))


def list_events(session: Session, key_id: int, after: int, limit: int) -> list[WatchEvent]:
    """Up to `limit` of the client's watch events after the given id, oldest first."""
    query = (
        select(WatchEvent)
        .where(WatchEvent.key_id == key_id, WatchEvent.type == WATCH_CHANGED)
        .where(WatchEvent.id > after)
        .order_by(WatchEvent.id)
        .limit(limit)
    )
    return list(session.scalars(query))
