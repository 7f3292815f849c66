"""Webhook endpoints, the outbox of deliveries, and every delivery attempt."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base

_BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class DeliveryStatus(StrEnum):
    """Where one event stands for one webhook."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Webhook(Base):
    """A client's HTTPS endpoint; every event of the client goes to each of its webhooks."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(
        String(100), doc="whsec_ + base64 of 32 random bytes; the signing key."
    )
    created_at: Mapped[dt.datetime]
    enabled: Mapped[bool]
    disabled_at: Mapped[dt.datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    failed_events: Mapped[int] = mapped_column(
        default=0, doc="Events that failed in a row; a delivered event resets it."
    )


class WebhookDelivery(Base):
    """The outbox: one event to one webhook, pending until delivered or given up."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook_id_watch_id_id", "webhook_id", "watch_id", "id"),
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("watch_events.id", ondelete="CASCADE"), index=True
    )
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    watch_id: Mapped[int | None] = mapped_column(
        Integer, doc="The event's watch, so that one watch's events go out in order."
    )
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime]
    next_attempt_at: Mapped[dt.datetime]
    locked_until: Mapped[dt.datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(200))
    finished_at: Mapped[dt.datetime | None]


class WebhookAttempt(Base):
    """One HTTP attempt to deliver one event: what happened and what comes next."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_webhook_id_id", "webhook_id", "id"),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    attempt: Mapped[int]
    attempted_at: Mapped[dt.datetime]
    duration_ms: Mapped[int]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    response_body: Mapped[str | None] = mapped_column(Text, doc="At most 1 KB of the answer.")
    outcome: Mapped[str] = mapped_column(String(16), doc="delivered, retrying or failed.")
    next_attempt_at: Mapped[dt.datetime | None]
