"""Sync runs record warnings: what was dropped from entries that were kept (a website that is
not an http(s) address).

Revision ID: 5e1a7c2d9b40
Revises: c309fe3d99f0
Create Date: 2026-12-02 10:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1a7c2d9b40"
down_revision: str | None = "c309fe3d99f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("warnings", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_column("warnings")
