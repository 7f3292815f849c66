"""Storing and finding receipts. Never commits, never updates: receipts are immutable.

Every read is scoped to one client (`key_id`): another client's receipt is simply not found.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Receipt


def add_receipts(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert receipts (one statement for many)."""
    if rows:
        session.execute(insert(Receipt), list(rows))


def get_receipt(session: Session, key_id: int, receipt_id: str) -> Receipt:
    """The client's receipt with this id, or NotFound (also when another client's)."""
    query = select(Receipt).where(Receipt.id == receipt_id, Receipt.key_id == key_id)
    receipt = session.scalar(query)
    if receipt is None:
        raise NotFound(f"you have no receipt with id {receipt_id}", code="receipt_not_found")
    return receipt
