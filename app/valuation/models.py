"""Stored results of the engine on one assumption version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.assumptions.models import AssumptionSet
from app.db import Base
from app.types import JSONType, utcnow


class ValuationRun(Base):
    """Same assumption version + engine version + seed reproduces these numbers exactly."""

    __tablename__ = "valuation_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assumption_set_id: Mapped[int] = mapped_column(
        ForeignKey("assumption_sets.id", ondelete="CASCADE"), index=True
    )
    engine_version: Mapped[str] = mapped_column(String(40))
    seed: Mapped[int] = mapped_column(BigInteger)
    results: Mapped[dict[str, Any]] = mapped_column(JSONType)
    duration_s: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    assumption_set: Mapped[AssumptionSet] = relationship(lazy="raise")
