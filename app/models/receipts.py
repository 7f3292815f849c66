"""Signed receipts: what a client asked, the answer, and the JWS that proves both."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Receipt(Base):
    """One issued receipt. Never updated: the JWS holds the receipt itself, so what is
    served is exactly what was signed (the other columns are for finding it)."""

    __tablename__ = "receipts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key_id: Mapped[int] = mapped_column(
        ForeignKey("api_keys.id"), index=True, doc="The client (API key) it was issued to."
    )
    issued_at: Mapped[dt.datetime]
    reference: Mapped[str | None] = mapped_column(String(200))
    verdict: Mapped[str] = mapped_column(String(32))
    register_version: Mapped[int] = mapped_column(Integer)
    kid: Mapped[str] = mapped_column(String(100), doc="The key that signed it.")
    jws: Mapped[str] = mapped_column(Text, doc="The compact JWS: header, receipt, signature.")
