"""Watches (a client's standing questions) and the events raised when an answer changes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Watch(Base):
    """A standing question of one client, with the last answer it was sent."""

    __tablename__ = "watches"
    __table_args__ = (
        Index("ix_watches_key_id_id", "key_id", "id"),
        Index("ix_watches_key_id_verdict_id", "key_id", "verdict", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[int] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), doc="The client (API key) it belongs to."
    )
    name: Mapped[str] = mapped_column(String(300))
    setting: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str | None] = mapped_column(String(200))
    certificate_number: Mapped[str | None] = mapped_column(String(100))
    website: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[dt.datetime]
    # The last answer: what the client was told, at creation or by the last event.
    verdict: Mapped[str] = mapped_column(String(32))
    meets_cqc_expectation: Mapped[bool | None]
    organisation_id: Mapped[int | None]
    organisation_name: Mapped[str | None] = mapped_column(String(500))
    organisation_status: Mapped[str | None] = mapped_column(String(32))
    parent_status: Mapped[str | None] = mapped_column(String(32))
    stale: Mapped[bool]
    expired: Mapped[bool] = mapped_column(doc="The certificate had passed its valid-until date.")
    expiry_notice_for: Mapped[dt.date | None] = mapped_column(
        Date, doc="The valid-until date a certificate_expiring notice was given for."
    )
    # When it was last evaluated: a watch behind the registry version or the date is due.
    answered_version: Mapped[int] = mapped_column(Integer, index=True)
    answered_on: Mapped[dt.date] = mapped_column(Date)
    answered_at: Mapped[dt.datetime]


class WatchEvent(Base):
    """One event for one client: the exact body its webhooks and its pull feed carry.

    Events are only written under the sync lock (by a sync or a watch evaluation), so their
    ids increase in commit order and the id is a safe feed cursor.
    """

    __tablename__ = "watch_events"
    __table_args__ = (Index("ix_watch_events_key_id_type_id", "key_id", "type", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    message_id: Mapped[str] = mapped_column(
        String(64), unique=True, doc="The webhook-id header: the same on every retry."
    )
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    watch_id: Mapped[int | None] = mapped_column(
        ForeignKey("watches.id", ondelete="SET NULL"), index=True
    )
    type: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    body: Mapped[str] = mapped_column(Text, doc="The JSON body, serialised once, sent as is.")
