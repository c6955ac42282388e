"""Immutable assumption versions and the pointer to each deal's current one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.types import JSONType, utcnow


class AssumptionSet(Base):
    """One saved version; never updated after insert (editing inserts a new version)."""

    __tablename__ = "assumption_sets"
    __table_args__ = (UniqueConstraint("deal_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("assumption_sets.id", ondelete="RESTRICT")
    )
    author: Mapped[str] = mapped_column(String(120))
    note: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    parent: Mapped[AssumptionSet | None] = relationship(remote_side=[id], lazy="raise")


class AssumptionHead(Base):
    """Which version is current for a deal; `revision` detects concurrent edits."""

    __tablename__ = "assumption_heads"

    deal_id: Mapped[int] = mapped_column(
        ForeignKey("deals.id", ondelete="CASCADE"), primary_key=True
    )
    assumption_set_id: Mapped[int] = mapped_column(
        ForeignKey("assumption_sets.id", ondelete="RESTRICT")
    )
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    assumption_set: Mapped[AssumptionSet] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": revision}  # noqa: RUF012
