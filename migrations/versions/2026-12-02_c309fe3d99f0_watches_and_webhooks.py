"""Watches, their events, webhooks, the delivery outbox and delivery attempts.

Revision ID: c309fe3d99f0
Revises: 63feaeb03a4b
Create Date: 2026-12-02 06:19:31.029088
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c309fe3d99f0"
down_revision: str | None = "63feaeb03a4b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "watches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("setting", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("certificate_number", sa.String(length=100), nullable=True),
        sa.Column("website", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verdict", sa.String(length=32), nullable=False),
        sa.Column("meets_cqc_expectation", sa.Boolean(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("organisation_name", sa.String(length=500), nullable=True),
        sa.Column("organisation_status", sa.String(length=32), nullable=True),
        sa.Column("parent_status", sa.String(length=32), nullable=True),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("expired", sa.Boolean(), nullable=False),
        sa.Column("expiry_notice_for", sa.Date(), nullable=True),
        sa.Column("answered_version", sa.Integer(), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.id"], name=op.f("fk_watches_key_id_api_keys"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watches")),
    )
    with op.batch_alter_table("watches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_watches_answered_version"), ["answered_version"], unique=False
        )
        batch_op.create_index("ix_watches_key_id_id", ["key_id", "id"], unique=False)
        batch_op.create_index(
            "ix_watches_key_id_verdict_id", ["key_id", "verdict", "id"], unique=False
        )

    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("failed_events", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["api_keys.id"],
            name=op.f("fk_webhooks_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhooks_key_id"), ["key_id"], unique=False)

    op.create_table(
        "watch_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("watch_id", sa.Integer(), nullable=True),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["api_keys.id"],
            name=op.f("fk_watch_events_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["watch_id"],
            ["watches.id"],
            name=op.f("fk_watch_events_watch_id_watches"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watch_events")),
        sa.UniqueConstraint("message_id", name=op.f("uq_watch_events_message_id")),
    )
    with op.batch_alter_table("watch_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_watch_events_key_id_type_id", ["key_id", "type", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_watch_events_watch_id"), ["watch_id"], unique=False)

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("watch_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_by", sa.String(length=200), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["watch_events.id"],
            name=op.f("fk_webhook_deliveries_event_id_watch_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("fk_webhook_deliveries_webhook_id_webhooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_deliveries_event_id"), ["event_id"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_deliveries_status_next_attempt_at",
            ["status", "next_attempt_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_webhook_deliveries_webhook_id_watch_id_id",
            ["webhook_id", "watch_id", "id"],
            unique=False,
        )

    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "delivery_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("fk_webhook_attempts_webhook_id_webhooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_attempts_delivery_id"), ["delivery_id"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_attempts_webhook_id_id", ["webhook_id", "id"], unique=False
        )

    # The SQLite stand-in for FOR UPDATE SKIP LOCKED: one delivery worker at a time.
    op.execute("INSERT INTO sync_leases (name) VALUES ('webhook-delivery')")


def downgrade() -> None:
    op.execute("DELETE FROM sync_leases WHERE name = 'webhook-delivery'")
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_attempts_webhook_id_id")
        batch_op.drop_index(batch_op.f("ix_webhook_attempts_delivery_id"))

    op.drop_table("webhook_attempts")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_webhook_id_watch_id_id")
        batch_op.drop_index("ix_webhook_deliveries_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_event_id"))

    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("watch_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watch_events_watch_id"))
        batch_op.drop_index("ix_watch_events_key_id_type_id")

    op.drop_table("watch_events")
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhooks_key_id"))

    op.drop_table("webhooks")
    with op.batch_alter_table("watches", schema=None) as batch_op:
        batch_op.drop_index("ix_watches_key_id_verdict_id")
        batch_op.drop_index("ix_watches_key_id_id")
        batch_op.drop_index(batch_op.f("ix_watches_answered_version"))

    op.drop_table("watches")
